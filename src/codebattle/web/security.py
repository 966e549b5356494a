"""Request-level security: CSRF tokens, the signed-in user (session cookie or API token),
a cap on request bodies, and response headers."""

from __future__ import annotations

import hmac
import json
import secrets
from collections import deque
from urllib.parse import urlsplit

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from codebattle.accounts import service as accounts
from codebattle.accounts.models import User
from codebattle.errors import UserError
from codebattle.i18n import negotiate, translate

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


TOKEN, SESSION = "token", "session"  # how a user signed in (request.state.auth)
REFUSED = "refused"  # an Authorization header that names no valid API token


async def signed_in(
    connection: HTTPConnection, session: AsyncSession, nickname_sign_in: bool
) -> tuple[User | None, str]:
    """Who is asking, in one query: by API token (Authorization: Bearer) or by the session
    cookie; with how (TOKEN | SESSION), or (None, "") for nobody, or (None, REFUSED)."""
    authorization = connection.headers.get("authorization", "")
    if authorization:
        scheme, _, token = authorization.partition(" ")
        user = await accounts.user_by_token(session, token.strip())
        if scheme.lower() != "bearer" or user is None:
            return None, REFUSED
        return user, TOKEN
    user_id = connection.session.get("user_id")
    if isinstance(user_id, int):
        user = await session.get(User, user_id)
        if user is not None and accounts.nickname_session_valid(
            user, connection.session.get("via"), nickname_sign_in
        ):
            return user, SESSION
    return None, ""


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
    if getattr(request.state, "auth", "") == SESSION:
        check_csrf(request, request.headers.get(CSRF_HEADER))
    return user


class BodyLimit:
    """Refuses request bodies over `limit` bytes with 413 before anything parses them.

    A body with Content-Length is refused on the header (the server holds the body to
    that length). A body without one (chunked) is read here, up to the limit, before the
    app runs: refusing it from inside the app would surface in the form/JSON parser, which
    turns any error into a 400."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = Headers(scope=scope).get("content-length")
        if length is not None:
            if not (length.isascii() and length.isdigit()) or int(length) > self.limit:
                await _too_large(scope, send, self.limit)
            else:
                await self.app(scope, receive, send)
            return
        received: deque[Message] = deque()
        seen = 0
        while True:
            message = await receive()
            received.append(message)
            if message["type"] != "http.request":
                break  # the client left; the app hears it in turn
            seen += len(message.get("body", b""))
            if seen > self.limit:
                await _too_large(scope, send, self.limit)
                return
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            return received.popleft() if received else await receive()

        await self.app(scope, replay, send)


async def _too_large(scope: Scope, send: Send, limit: int) -> None:
    asking = HTTPConnection(scope)
    locale = negotiate(asking.cookies.get("lang"), asking.headers.get("accept-language"))
    error = {
        "code": "body_too_large",
        "message": translate("body_too_large", locale, limit=limit // 1024),
    }
    body = json.dumps({"error": error}, ensure_ascii=False).encode()
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


HSTS_SECONDS = 365 * 24 * 3600
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    # 'self' covers same-origin ws:/wss: sockets (CSP level 3), so no other host is allowed.
    "script-src 'self'; connect-src 'self'; frame-ancestors 'none'"
)


class SecurityHeaders:
    """Adds the security headers to every HTTP response; the app wraps its whole middleware
    stack in it (app.App), so error responses carry them too. `hsts` only when the site is
    served over https."""

    def __init__(self, app: ASGIApp, hsts: bool = False) -> None:
        self.app = app
        self.hsts = hsts

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
                headers.setdefault("content-security-policy", CSP)
                if self.hsts:
                    headers.setdefault("strict-transport-security", f"max-age={HSTS_SECONDS}")
            await send(message)

        await self.app(scope, receive, with_headers)
