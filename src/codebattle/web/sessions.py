"""Opening and ending a signed-in session, and the unfinished first sign-in kept with it.

The one place routes start or end sessions (nickname sign-in, OAuth callbacks, the first
sign-in's welcome page, sign-out, the settings page's list of sessions). Sessions live on
the server (accounts.sessions: the database, or Redis); the signed cookie carries only the
session's random id (`sid`), the CSRF token and Authlib's OAuth state. Each start rotates
the session: the old one is deleted and nothing a visitor carried before (a planted
cookie) survives it. Ending a session deletes it, so a copy of the old cookie names nobody.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from starlette.requests import HTTPConnection

from codebattle.accounts.models import User
from codebattle.accounts.sessions import StoredSession, hash_id
from codebattle.web.security import SID, csrf_token, sid_of, store_of

PENDING = "pending"  # a first sign-in's provider profile, until the welcome page is done


def _user_agent(request: Request) -> str:
    return request.headers.get("user-agent", "")


async def _replace(request: Request, user: User | None, via: str, data: dict[str, Any]) -> None:
    """Delete this browser's session (if any), start a new one, and a new cookie."""
    store = store_of(request)
    old = sid_of(request)
    if old is not None:
        await store.delete(old)
    request.session.clear()
    request.session[SID] = await store.create(
        user.id if user is not None else None,
        via,
        user.role if user is not None else "player",
        data=data,
        user_agent=_user_agent(request),
    )
    csrf_token(request)


async def start_session(request: Request, user: User, via: str) -> None:
    """Sign `user` in on this browser, by `via` ("nickname", "google", ...)."""
    await _replace(request, user, via, {})


async def start_pending(request: Request, via: str, data: dict[str, Any]) -> None:
    """A first sign-in that is not finished: keep what the provider told us (JSON-able)
    until the person has chosen a nickname and accepted the terms."""
    await _replace(request, None, via, {PENDING: {"via": via, **data}})


async def pending(request: Request) -> dict[str, Any] | None:
    """The unfinished first sign-in on this browser, if any."""
    sid = sid_of(request)
    if sid is None:
        return None
    stored = await store_of(request).get(sid)
    if stored is None or stored.user_id is not None:
        return None
    value = stored.data.get(PENDING)
    return value if isinstance(value, dict) else None


async def end_session(request: Request) -> None:
    """Sign out on this browser: the session is deleted on the server."""
    sid = sid_of(request)
    if sid is not None:
        await store_of(request).delete(sid)
    request.session.clear()


async def sessions_of(request: Request, user: User) -> list[tuple[StoredSession, bool]]:
    """The user's sessions, the most recently used first, each with whether it is this
    browser's."""
    sid = sid_of(request)
    this = hash_id(sid) if sid is not None else None
    return [(s, s.id_hash == this) for s in await store_of(request).of_user(user.id)]


async def end_one(request: Request, user: User, id_hash: str) -> bool:
    """End one of the user's sessions (listed on the settings page by hash). Ending this
    browser's own is a sign-out. False if the user has no such session."""
    sid = sid_of(request)
    if sid is not None and hash_id(sid) == id_hash:
        await end_session(request)
        return True
    return await store_of(request).delete_hash(user.id, id_hash)


async def end_everywhere(request: Request, user: User) -> int:
    """Sign the user out on every browser and device, this one included; how many
    sessions ended."""
    ended = await store_of(request).delete_user(user.id)
    request.session.clear()
    return ended


async def keep_session(connection: HTTPConnection, user: User, stored: StoredSession) -> None:
    """On each request by session (app.identify): a session issued for another role than
    the user's now is replaced by a new one (new id, same absolute end), so an id seen
    before a promotion does not carry the new role; otherwise its use is recorded."""
    store = store_of(connection)
    if stored.role == user.role:
        await store.touch(stored)
        return
    sid = sid_of(connection)
    if sid is not None:
        await store.delete(sid)
    connection.session[SID] = await store.create(
        user.id,
        stored.via,
        user.role,
        data=stored.data,
        user_agent=stored.user_agent,
        expires_at=stored.expires_at,
    )
