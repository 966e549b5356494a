"""Opening and ending a signed-in session, and the unfinished first sign-in kept with it.

The one place routes start or end sessions (nickname sign-in, OAuth callbacks, the first
sign-in's welcome page, sign-out, the settings page's list of sessions). Sessions live on
the server (accounts.sessions: the database, or Redis); the signed cookie carries only the
session's random id (`sid`), the CSRF token and Authlib's OAuth state. Each start rotates
the session: the old one is deleted and nothing a visitor carried before (a planted
cookie) survives it. Ending a session deletes it, so a copy of the old cookie names nobody.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from starlette.requests import HTTPConnection

from codebattle.accounts.models import User
from codebattle.accounts.sessions import StoredSession, hash_id
from codebattle.services import services_of
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


@dataclass(frozen=True)
class Device:
    """One of a user's sessions as the settings page lists it."""

    id_hash: str  # names it in the form that ends it (never the id itself)
    device: str | None  # "Firefox · Windows"; None when the user agent says nothing known
    via: str
    created_at: datetime
    last_seen_at: datetime
    this: bool  # this browser's own session


BROWSERS = (  # checked in this order: Edge and Opera also say Chrome, Chrome says Safari
    ("edg/", "Edge"),
    ("opr/", "Opera"),
    ("samsungbrowser/", "Samsung Internet"),
    ("whale/", "Whale"),
    ("firefox/", "Firefox"),
    ("chrome/", "Chrome"),
    ("crios/", "Chrome"),
    ("safari/", "Safari"),
    ("curl/", "curl"),
    ("python", "Python"),
)
SYSTEMS = (
    ("iphone", "iPhone"),
    ("ipad", "iPad"),
    ("android", "Android"),
    ("windows", "Windows"),
    ("mac os x", "macOS"),
    ("cros", "ChromeOS"),
    ("linux", "Linux"),
)


def device_of(user_agent: str) -> str | None:
    """A short, human name of the browser and system a user agent names, e.g. "Firefox ·
    Windows"; None if neither is known."""
    agent = user_agent.lower()
    browser = next((name for key, name in BROWSERS if key in agent), None)
    system = next((name for key, name in SYSTEMS if key in agent), None)
    named = [n for n in (browser, system) if n is not None]
    return " · ".join(named) if named else None


def this_session_hash(request: Request) -> str | None:
    """The hash naming this browser's session (as listed), if it has one."""
    sid = sid_of(request)
    return hash_id(sid) if sid is not None else None


async def sessions_of(request: Request, user: User) -> list[Device]:
    """The user's sessions, the most recently used first, this browser's marked."""
    this = this_session_hash(request)
    return [
        Device(
            id_hash=s.id_hash,
            device=device_of(s.user_agent),
            via=s.via,
            created_at=s.created_at,
            last_seen_at=s.last_seen_at,
            this=s.id_hash == this,
        )
        for s in await store_of(request).of_user(user.id)
    ]


async def end_one(request: Request, user: User, id_hash: str) -> bool:
    """End one of the user's sessions (listed on the settings page by hash). Ending this
    browser's own is a sign-out. False if the user has no such session."""
    if this_session_hash(request) == id_hash:
        await end_session(request)
        return True
    return await store_of(request).delete_hash(user.id, id_hash)


async def end_everywhere(request: Request, user: User) -> int:
    """Sign the user out on every browser and device, this one included; how many
    sessions ended."""
    ended = await store_of(request).delete_user(user.id)
    request.session.clear()
    return ended


def rotated_id(connection: HTTPConnection, old: str) -> str:
    """The id a session rotated on a role change gets: derived from the old id with the
    server's secret (an HMAC), so every request that carried the old id at once names the
    same new session, and nobody without the secret can tell it from the old id."""
    secret = connection.app.state.settings.secret_key().encode()
    digest = hmac.new(secret, b"session-rotation:" + old.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


async def keep_session(connection: HTTPConnection, user: User, stored: StoredSession) -> None:
    """On each request by session (app.identify): a session issued for another role than
    the user's now is replaced by a new one (new id, same absolute end), so an id seen
    before a promotion does not carry the new role; otherwise its use is recorded.

    Requests carrying the old id may arrive together: only the one whose delete removed
    the old session creates the new one. Every one of them (the others too) answers as the
    user and sets the new id in its cookie, the same id (`rotated_id`), so whichever
    response the browser stores last names the one new session."""
    store = store_of(connection)
    if stored.role == user.role:
        await store.touch(stored)
        return
    sid = sid_of(connection)
    if sid is None:
        return
    new = rotated_id(connection, sid)
    if await store.delete(sid):
        await store.create(
            user.id,
            stored.via,
            user.role,
            data=stored.data,
            user_agent=stored.user_agent,
            expires_at=stored.expires_at,
            plain=new,
        )
    connection.session[SID] = new


LANG_COOKIE_AGE = 365 * 24 * 3600


def set_language(request: Request, response: Response, locale: str) -> None:
    """Remember the page language on this browser (the `lang` cookie)."""
    response.set_cookie(
        "lang",
        locale,
        max_age=LANG_COOKIE_AGE,
        samesite="lax",
        secure=services_of(request).settings.secure_cookies,
    )


def signed_in_redirect(request: Request, user: User, target: str) -> RedirectResponse:
    """Where a fresh sign-in goes next; a browser with no language chosen yet takes the
    account's."""
    response = RedirectResponse(target, status_code=303)
    if "lang" not in request.cookies:
        set_language(request, response, user.locale)
    return response
