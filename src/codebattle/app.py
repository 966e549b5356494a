"""Builds the ASGI app: settings → services, middleware, routers, error pages."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import structlog
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import ClientDisconnect, HTTPConnection
from starlette.types import ASGIApp
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from codebattle import logs, runtime
from codebattle.accounts.sessions import store_for as session_store
from codebattle.config import Settings, load_settings
from codebattle.db import outage
from codebattle.errors import UserError
from codebattle.i18n import negotiate, translate
from codebattle.integrations import fake_giftishow, fake_portone, sentry, tracing
from codebattle.ops import health, metrics_http
from codebattle.realtime import stream
from codebattle.redaction import redact_path
from codebattle.services import Services, services_of
from codebattle.web.preview import PreviewHeader
from codebattle.web.render import render
from codebattle.web.request_ids import RequestIds
from codebattle.web.routes import account_data as account_data_routes
from codebattle.web.routes import accounts as account_routes
from codebattle.web.routes import appeals as appeal_routes
from codebattle.web.routes import battles as battle_routes
from codebattle.web.routes import billing as billing_routes
from codebattle.web.routes import fairplay as fairplay_routes
from codebattle.web.routes import match_socket as battle_socket
from codebattle.web.routes import notifications as notification_routes
from codebattle.web.routes import oauth as oauth_routes
from codebattle.web.routes import ops as ops_routes
from codebattle.web.routes import ops_fleet as ops_fleet_routes
from codebattle.web.routes import ops_rewards as ops_reward_routes
from codebattle.web.routes import problems as problem_routes
from codebattle.web.routes import progress as progress_routes
from codebattle.web.routes import rankings as ranking_routes
from codebattle.web.routes import reviews as review_routes
from codebattle.web.routes import rewards as reward_routes
from codebattle.web.routes import rooms as room_routes
from codebattle.web.routes import shop as shop_routes
from codebattle.web.routes import submission_socket
from codebattle.web.routes import submissions as submission_routes
from codebattle.web.routes import telemetry as telemetry_routes
from codebattle.web.routes import welcome as welcome_routes
from codebattle.web.security import REFUSED, BodyLimit, SecurityHeaders, signed_in, store_of
from codebattle.web.sessions import keep_session

log = structlog.get_logger(__name__)
STATIC = Path(__file__).parent / "web" / "static"


async def identify(connection: HTTPConnection) -> None:
    """Who is asking (API token or session cookie), and in which language to answer. A
    socket's user is found by web/sockets.admit instead, after its Origin check."""
    services = services_of(connection)
    connection.state.locale = negotiate(
        connection.cookies.get("lang"), connection.headers.get("accept-language")
    )
    connection.state.user = None
    connection.state.auth = ""
    if connection.scope["type"] == "websocket":
        return
    async with services.db.reading() as session:
        user, auth, stored = await signed_in(
            connection,
            session,
            services.settings.nickname_sign_in,
            store_of(connection),
            touch_tokens=not services.settings.preview,  # a preview keeps no token's use
        )
        # The navigation's unread count, for pages only (base.html).
        connection.state.unread = await notification_routes.unread_badge(
            connection, session, user, auth
        )
    if auth == REFUSED:
        raise UserError(401, "sign_in_required", {"WWW-Authenticate": "Bearer"})
    if user is not None and stored is not None:
        # A session issued for another role gets a new id; else its use is recorded
        # (written at most once a minute).
        await keep_session(connection, user, stored)
    connection.state.user, connection.state.auth = user, auth
    logs.bind(user_id=user.id if user is not None else None)  # on the request's later lines


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api") or "application/json" in request.headers.get(
        "accept", ""
    )


def _error(
    request: Request,
    status: int,
    key: str,
    headers: dict[str, str] | None = None,
    detail: Any = None,
    **params: Any,
) -> Response:
    locale = getattr(request.state, "locale", None) or negotiate(
        request.cookies.get("lang"), request.headers.get("accept-language")
    )
    message = translate(key, locale, **params)
    if _wants_json(request):
        body: dict[str, Any] = {"error": {"code": key, "message": message}}
        if detail is not None:
            body["error"]["fields"] = detail
        return JSONResponse(body, status_code=status, headers=headers)
    if status == 401:
        # The page asked for, query included (a payment's id at /checkout/complete), so
        # signing in leads back to it; accounts.safe_next keeps it on this site.
        back = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/signin?next={quote(back, safe='/')}", status_code=303)
    if key == "guardian_consent_required":  # under 14: the account pages, until consent
        return RedirectResponse("/welcome/guardian", status_code=303)
    if not hasattr(request.state, "locale"):
        request.state.locale = locale
    # A page that is briefly unavailable (503 + Retry-After) loads itself again: the reader
    # need not guess when (GET only: a form is never sent twice by itself).
    retry = (headers or {}).get("Retry-After") if status == 503 else None
    retry_after = int(retry) if retry and retry.isdigit() and request.method == "GET" else None
    page = render(
        request, "error.html", status_code=status, message=message, retry_after=retry_after,
        key=key,
    )  # fmt: skip
    page.headers.update(headers or {})  # render takes no headers: Retry-After, WWW-Authenticate
    return page


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(UserError)
    async def user_error(request: Request, exc: UserError) -> Response:
        return _error(request, exc.status, exc.key, exc.headers or None, **exc.params)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        if any(e["loc"][:1] == ("path",) for e in exc.errors()):
            # A path id out of range (web/ids.py) or not a number names nothing: 404.
            return _error(request, 404, "not_found")
        fields = [
            {"field": ".".join(str(p) for p in e["loc"][1:]) or "body", "message": e["msg"]}
            for e in exc.errors()
        ]
        return _error(request, 422, "bad_request", detail=fields)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        key = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "bad_request")
        return _error(request, exc.status_code, key, getattr(exc, "headers", None))

    async def unavailable(connection: HTTPConnection, exc: Exception) -> Response | None:
        # A backing service is down for a moment (db/outage.py): 503 with a retry hint, or
        # close 1013 on a socket so its client reconnects; anything else is a crash.
        if not outage.is_unavailable(exc):
            raise exc
        outage.report(exc, redact_path(connection.url.path))
        if isinstance(connection, WebSocket):
            await _close_try_again(connection)
            return None
        assert isinstance(connection, Request)
        retry = {"Retry-After": str(outage.RETRY_AFTER_SECONDS)}
        return _error(connection, 503, "service_unavailable", retry)

    for candidate in outage.CANDIDATES:
        app.add_exception_handler(candidate, unavailable)  # type: ignore[arg-type]
    # A socket's failures after its first (which reaches `unavailable`) are logged the same way.
    stream.report_failure = functools.partial(outage.log_failure, where="socket")

    @app.exception_handler(Exception)
    async def crashed(request: Request, exc: Exception) -> Response:
        if outage.is_unavailable(exc):  # an outage error of another type (from a middleware)
            outage.report(exc, redact_path(request.url.path))
            retry = {"Retry-After": str(outage.RETRY_AFTER_SECONDS)}
            return _error(request, 503, "service_unavailable", retry)
        if isinstance(exc, ClientDisconnect):  # the browser left while sending its form
            log.info("client left during its request", path=redact_path(request.url.path))
            return Response(status_code=400)
        log.exception("unhandled error", path=redact_path(request.url.path))
        return _error(request, 500, "server_error")


TRY_AGAIN_LATER = 1013  # WebSocket close code: the client reconnects after a pause


async def _close_try_again(websocket: WebSocket) -> None:
    """Close a socket (accepting it first if need be, as web/sockets.refuse says why) with
    1013; a client already gone needs nothing."""
    try:
        if websocket.client_state == WebSocketState.CONNECTING:
            await websocket.accept()
        if websocket.client_state == WebSocketState.CONNECTED:
            await websocket.close(code=TRY_AGAIN_LATER)
    except (RuntimeError, OSError, WebSocketDisconnect):
        pass


class App(FastAPI):
    """The FastAPI app wrapped, outside everything, in SecurityHeaders (and a preview's
    PreviewHeader): Starlette puts its ServerErrorMiddleware (the 500 page) outside every
    user middleware, so the headers are added here to reach every HTTP response, errors
    included; RequestIds outside it, so the 500 page and its log line carry the request's
    id."""

    hsts = False
    preview = False

    def build_middleware_stack(self) -> ASGIApp:
        # A request's span (with OTEL_EXPORTER_OTLP_ENDPOINT) sees the 500 page's status too.
        traced = tracing.asgi(super().build_middleware_stack())
        secured: ASGIApp = SecurityHeaders(traced, hsts=self.hsts)
        if self.preview:  # X-Preview: 1 on every response, a 500 page's too (decision 0030)
            secured = PreviewHeader(secured)
        return RequestIds(secured)


def create_app(settings: Settings | None = None, services: Services | None = None) -> FastAPI:
    settings = settings or load_settings()
    services = services or Services.from_settings(settings)
    logs.use_trace_ids(tracing.current_ids)  # lines inside a span carry its ids
    if tracing.setup(settings, "api"):  # with OTEL_EXPORTER_OTLP_ENDPOINT
        tracing.instrument_engine(services.db.engine.sync_engine)
    sentry.init(settings, server_name=services.instance, component="api")  # with SENTRY_DSN

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await runtime.start(services)
        try:
            yield
        finally:
            await services.stop()
            await app.state.sessions.close()
            tracing.shutdown()  # the last spans sent (bounded)

    docs = settings.api_docs  # off: no route, so /api/docs and /api/openapi.json are 404
    app = App(
        title="AI Code Battle",
        version="0.1.0",
        docs_url="/api/docs" if docs else None,
        redoc_url=None,
        openapi_url="/api/openapi.json" if docs else None,
        lifespan=lifespan,
        dependencies=[Depends(identify)],
    )
    app.hsts = settings.secure_cookies  # only a site served over https may ask for it
    app.preview = settings.preview
    app.state.services = services
    app.state.settings = settings
    app.state.sessions = session_store(settings, services.db)  # web.security.store_of
    install_error_handlers(app)
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.secret_key(),
        session_cookie="codebattle_session",
        max_age=settings.SESSION_ABSOLUTE_DAYS * 24 * 3600,  # the session ends on the server
        same_site="lax",
        https_only=settings.secure_cookies,
    )
    app.add_middleware(BodyLimit)
    # Outermost of ours: a request is timed whole, and labelled by the route that took it.
    app.add_middleware(metrics_http.RequestMetrics)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(health.router)
    if metrics_http.served_in_app(settings):  # a plain route: no sign-in, no session
        app.add_route(metrics_http.PATH, metrics_http.endpoint, methods=["GET"])
    app.include_router(account_routes.router)
    app.include_router(oauth_routes.router)
    app.include_router(problem_routes.router)
    app.include_router(submission_routes.router)
    app.include_router(telemetry_routes.router)
    app.include_router(submission_socket.router)
    app.include_router(battle_routes.router)
    app.include_router(battle_socket.router)
    app.include_router(room_routes.router)
    app.include_router(progress_routes.router)
    app.include_router(ranking_routes.router)
    app.include_router(shop_routes.router)
    app.include_router(billing_routes.router)
    app.include_router(fairplay_routes.router)
    app.include_router(ops_routes.router)
    app.include_router(ops_fleet_routes.router)
    app.include_router(ops_reward_routes.router)
    app.include_router(reward_routes.router)
    if settings.fake_payments:  # the built-in payment provider, outside production only
        app.mount(fake_portone.FAKE_PATH, fake_portone.create_app(settings))
    if settings.fake_giftcards:  # the built-in gift-card provider, outside production only
        app.mount(fake_giftishow.FAKE_PATH, fake_giftishow.create_app(settings))
    app.include_router(welcome_routes.router)
    app.include_router(account_data_routes.router)
    app.include_router(review_routes.router)
    app.include_router(notification_routes.router)
    app.include_router(appeal_routes.router)
    return app
