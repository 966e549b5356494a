"""Request-level security: CSRF tokens, the signed-in user (session cookie or API token),
a cap on request bodies, and response headers."""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import urlsplit

from fastapi import Request
from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from codebattle.accounts.models import User
from codebattle.errors import UserError

CSRF_HEADER = "x-csrf-token"
MAX_BODY_BYTES = 1 << 20  # well above the 64 KiB code limit; anything bigger is refused early


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(24)
        request.session["csrf"] = token
    return token


def check_csrf(request: Request, sent: str | None) -> None:
    expected = request.session.get("csrf")
    if not isinstance(expected, str) or not sent or not hmac.compare_digest(expected, sent):
        raise UserError(403, "csrf_failed")


def same_origin(connection: HTTPConnection) -> bool:
    """Browsers send Origin on WebSockets; refuse other sites (cross-site socket hijacking).
    A client without Origin is not a browser: its cookie or token authenticates it."""
    origin = connection.headers.get("origin")
    return origin is None or urlsplit(origin).netloc == connection.headers.get("host", "")


def current_user(request: Request) -> User | None:
    user = getattr(request.state, "user", None)
    return user if isinstance(user, User) else None


def require_user(request: Request) -> User:
    user = current_user(request)
    if user is None:
        raise UserError(401, "sign_in_required")
    return user


def require_api_write(request: Request) -> User:
    """A user who may change things through the JSON API: by token (no cookies, so no
    CSRF), or by session cookie with the CSRF header the pages send."""
    user = require_user(request)
    if getattr(request.state, "auth", "") == "session":
        check_csrf(request, request.headers.get(CSRF_HEADER))
    return user


class BodyLimit:
    """Refuses request bodies over `limit` bytes with 413 before anything parses them."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.limit):
            await _too_large(send)
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _BodyTooLarge
            return message

        try:
            await self.app(scope, limited, send)
        except _BodyTooLarge:
            await _too_large(send)


class _BodyTooLarge(Exception):
    pass


async def _too_large(send: Send) -> None:
    body = b'{"error":{"code":"body_too_large","message":"The request body is too large."}}'
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("x-content-type-options", "nosniff")
                headers.setdefault("x-frame-options", "DENY")
                headers.setdefault("referrer-policy", "same-origin")
                headers.setdefault(
                    "content-security-policy",
                    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
                    "script-src 'self'; connect-src 'self' ws: wss:; frame-ancestors 'none'",
                )
            await send(message)

        await self.app(scope, receive, with_headers)
