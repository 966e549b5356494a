"""Request-level security: CSRF tokens, the signed-in user (session cookie or API token),
a cap on request bodies, and response headers."""

from __future__ import annotations

import asyncio
import hmac
import json
import secrets
import weakref
from collections import deque
from collections.abc import Collection
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from codebattle.accounts import profiles
from codebattle.accounts import service as accounts
from codebattle.accounts.models import User
from codebattle.accounts.sessions import SessionStore, StoredSession
from codebattle.db.session import Database
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
SID = "sid"  # the session cookie's key for the server-side session's id (accounts.sessions)


def store_of(connection: HTTPConnection) -> SessionStore:
    """The app's session store (built in app.create_app, one per app)."""
    store: SessionStore = connection.app.state.sessions
    return store


def sid_of(connection: HTTPConnection) -> str | None:
    """The session id this browser's cookie carries, if any."""
    sid = connection.session.get(SID)
    return sid if isinstance(sid, str) and sid else None


Found = tuple[dict[str, User], dict[str, tuple[StoredSession, User]]]


@dataclass(frozen=True)
class Credentials:
    """What a connection presents: an Authorization header (`scheme`, `token`), or else the
    session cookie's session id (`sid`; the session itself is on the server)."""

    scheme: str = ""
    token: str | None = None
    sid: str | None = None

    @classmethod
    def of(cls, connection: HTTPConnection) -> Credentials:
        authorization = connection.headers.get("authorization", "")
        if authorization:
            scheme, _, token = authorization.partition(" ")
            return cls(scheme=scheme, token=token.strip())
        return cls(sid=sid_of(connection))

    def judge(
        self,
        by_token: dict[str, User],
        by_sid: dict[str, tuple[StoredSession, User]],
        nickname_sign_in: bool,
    ) -> tuple[User | None, str]:
        """Who these credentials name, given the users found for their token or session."""
        if self.token is not None:
            user = by_token.get(self.token)
            if self.scheme.lower() != "bearer" or user is None:
                return None, REFUSED
            return user, TOKEN
        found = by_sid.get(self.sid) if self.sid is not None else None
        if found is None:
            return None, ""
        stored, user = found
        if accounts.nickname_session_valid(user, stored.via, nickname_sign_in):
            return user, SESSION
        return None, ""


async def lookup(
    session: AsyncSession,
    presented: Collection[Credentials],
    store: SessionStore,
    *,
    touch_tokens: bool = True,
) -> Found:
    """The users that these credentials' tokens and session ids name: a read for each kind
    present, whatever the number of credentials (sessions with their users: one query on
    the database store; one Redis read and one query with Redis). A token's last use is
    recorded if `touch_tokens` (never in a preview, which keeps no token's use)."""
    tokens = {c.token for c in presented if c.token is not None}
    sids = {c.sid for c in presented if c.token is None and c.sid is not None}
    return (
        await accounts.users_by_tokens(session, tokens, touch=touch_tokens) if tokens else {},
        await store.signed_in(session, sids) if sids else {},
    )


async def signed_in(
    connection: HTTPConnection,
    session: AsyncSession,
    nickname_sign_in: bool,
    store: SessionStore,
    *,
    touch_tokens: bool = True,
) -> tuple[User | None, str, StoredSession | None]:
    """Who is asking, in one read: by API token (Authorization: Bearer) or by the session
    cookie; with how (TOKEN | SESSION), or (None, "") for nobody, or (None, REFUSED); and
    the stored session when it is by session (app.identify touches or rotates it)."""
    credentials = Credentials.of(connection)
    by_token, by_sid = await lookup(session, [credentials], store, touch_tokens=touch_tokens)
    user, auth = credentials.judge(by_token, by_sid, nickname_sign_in)
    stored = by_sid[credentials.sid][0] if auth == SESSION and credentials.sid else None
    return user, auth, stored


MAX_BATCH = 500  # credentials per read: well inside any database's limit on bound parameters


class SignIns:
    """Finds who opens each socket, sharing one read among the sockets that arrive together.

    A thousand sockets opening at once would each take a database session for one small
    query; here a socket's credentials wait for the next read, which starts as soon as none
    is running and looks up everything waiting (a query per kind: tokens, session ids).
    Nothing is kept between reads: every answer comes from a read that began after its
    socket asked, so a token revoked or a user deleted before a socket arrives is refused
    to it, exactly as with a read of its own."""

    def __init__(self, db: Database, store: SessionStore, *, touch_tokens: bool = True) -> None:
        self.db = db
        self.store = store
        self.touch_tokens = touch_tokens  # False in a preview (see `lookup`)
        self._pending: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Pending] = (
            weakref.WeakKeyDictionary()
        )  # per event loop (a server runs one; a test client starts one per socket)
        self.reads = 0  # reads made, for tests and benchmarks

    async def who(
        self, connection: HTTPConnection, nickname_sign_in: bool
    ) -> tuple[User | None, str]:
        """As `signed_in`, for a connection among many."""
        credentials = Credentials.of(connection)
        if credentials.token is None and credentials.sid is None:
            return None, ""  # nothing to look up
        loop = asyncio.get_running_loop()
        pending = self._pending.get(loop)
        if pending is None:
            pending = self._pending[loop] = _Pending()
        answer: Answer = loop.create_future()
        pending.waiting.append((credentials, answer))
        if pending.reader is None:
            pending.reader = loop.create_task(self._read_while_waiting(pending))
        return credentials.judge(*await answer, nickname_sign_in)

    async def _read_while_waiting(self, pending: _Pending) -> None:
        batch: list[tuple[Credentials, Answer]] = []
        try:
            while pending.waiting:
                await asyncio.sleep(0)  # those arriving in this turn of the loop come along
                batch = [(c, a) for c, a in pending.waiting[:MAX_BATCH] if not a.done()]
                del pending.waiting[:MAX_BATCH]
                if batch:
                    await self._read(batch)
        finally:
            pending.reader = None
            for _, answer in batch + pending.waiting:  # left only if this task was cancelled
                answer.cancel()
            pending.waiting.clear()

    async def _read(self, batch: list[tuple[Credentials, Answer]]) -> None:
        self.reads += 1
        try:
            async with self.db.reading() as session:
                found = await lookup(
                    session,
                    [credentials for credentials, _ in batch],
                    self.store,
                    touch_tokens=self.touch_tokens,
                )
        except Exception as exc:  # each socket fails as it would have on a read of its own
            for _, answer in batch:
                if not answer.done():
                    answer.set_exception(exc)
            return
        for _, answer in batch:
            if not answer.done():
                answer.set_result(found)


Answer = asyncio.Future[Found]


@dataclass
class _Pending:
    waiting: list[tuple[Credentials, Answer]] = field(default_factory=list)
    reader: asyncio.Task[None] | None = None


def current_user(request: Request) -> User | None:
    user = getattr(request.state, "user", None)
    return user if isinstance(user, User) else None


def require_account(request: Request) -> User:
    """Any signed-in user, restricted or not: for the pages about one's own account
    (settings, data export, deletion, a guardian's consent, sign-out)."""
    user = current_user(request)
    if user is None or user.deleted_at is not None:
        raise UserError(401, "sign_in_required")
    return user


def require_user(request: Request, *, allow_banned: bool = False) -> User:
    """A signed-in user who may use the site: first sign-in finished and, under 14, a
    guardian's consent given (accounts.profiles.restriction; 403 with its key). Not
    banned, unless `allow_banned` (the appeal pages: a ban can be appealed)."""
    user = require_account(request)
    reason = profiles.restriction(user, ban=not allow_banned)
    if reason is not None:
        raise UserError(403, reason)
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
