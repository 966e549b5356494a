"""Opening and ending a signed-in session, and the unfinished first sign-in kept with it.

The one place routes start or end sessions (nickname sign-in, OAuth callbacks, the first
sign-in's welcome page, sign-out). Each start rotates the session: nothing a visitor
carried before (a planted cookie) survives it."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from codebattle.accounts.models import User
from codebattle.web.security import csrf_token

PENDING = "pending"  # a first sign-in's provider profile, until the welcome page is done


async def start_session(request: Request, user: User, via: str) -> None:
    """Sign `user` in on this browser, by `via` ("nickname", "google", ...)."""
    request.session.clear()
    request.session["user_id"] = user.id
    request.session["via"] = via
    csrf_token(request)


async def start_pending(request: Request, via: str, data: dict[str, Any]) -> None:
    """A first sign-in that is not finished: keep what the provider told us (JSON-able)
    until the person has chosen a nickname and accepted the terms."""
    request.session.clear()
    request.session[PENDING] = {"via": via, **data}
    csrf_token(request)


async def pending(request: Request) -> dict[str, Any] | None:
    """The unfinished first sign-in on this browser, if any."""
    value = request.session.get(PENDING)
    return value if isinstance(value, dict) else None


async def end_session(request: Request) -> None:
    """Sign out on this browser."""
    request.session.clear()
