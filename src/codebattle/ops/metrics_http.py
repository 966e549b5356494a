"""Where and to whom a process's metrics are served (config.py METRICS_TOKEN, METRICS_PORT).

- METRICS_PORT set: on that port alone, by a small HTTP server in a thread of this process
  (`serve_on_port`), not on the app; bind it to a private network.
- METRICS_TOKEN set: every scrape sends "Authorization: Bearer <token>" (compared in
  constant time); else 401.
- Neither: `/metrics` on the app, openly outside production and preview (a public site),
  not at all there (404).
Also the request-latency middleware: it labels a request by its route's template
("/api/submissions/{submission_id}"), never by its raw path.
"""

from __future__ import annotations

import asyncio
import hmac
import socket
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CollectorRegistry
from prometheus_client.exposition import choose_encoder
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Match, Mount, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from codebattle.config import Settings
from codebattle.i18n import negotiate, translate
from codebattle.ops import metrics

PATH = "/metrics"
UNMATCHED = "unmatched"  # the route label of a request no route took (a 404)


def exposed(settings: Settings) -> bool:
    """Whether this process serves its metrics at all (then it also samples them)."""
    return bool(settings.METRICS_TOKEN or settings.METRICS_PORT or not settings.production_like)


def served_in_app(settings: Settings) -> bool:
    """Whether `/metrics` is a route of the app (not when a port of its own serves it)."""
    return settings.METRICS_PORT is None and exposed(settings)


def authorized(settings: Settings, authorization: str | None) -> bool:
    """The scrape's Authorization header against METRICS_TOKEN (none set: anyone)."""
    if settings.METRICS_TOKEN is None:
        return True
    scheme, _, presented = (authorization or "").partition(" ")
    expected = settings.METRICS_TOKEN.get_secret_value()
    # compare_digest on bytes: constant time whatever the lengths and characters sent.
    same = hmac.compare_digest(presented.strip().encode(), expected.encode())
    return scheme.lower() == "bearer" and same


def _refusal(locale: str) -> tuple[str, dict[str, str]]:
    return translate("metrics_token_required", locale), {"WWW-Authenticate": "Bearer"}


async def endpoint(request: Request) -> Response:
    """`GET /metrics` on the app (a plain route: no session, no sign-in, no database)."""
    settings: Settings = request.app.state.settings
    if not authorized(settings, request.headers.get("authorization")):
        locale = negotiate(request.cookies.get("lang"), request.headers.get("accept-language"))
        text, headers = _refusal(locale)
        return PlainTextResponse(text, status_code=401, headers=headers)
    # Off the event loop: a few hundred series take tens of milliseconds to encode.
    accept = request.headers.get("accept")
    body, kind = await asyncio.to_thread(exposition, metrics.REGISTRY, accept)
    return Response(body, headers={"Content-Type": kind})


def exposition(registry: CollectorRegistry, accept: str | None) -> tuple[bytes, str]:
    """The registry in the format the scraper asks for (Accept: OpenMetrics for
    Prometheus, else the classic text format, version 0.0.4)."""
    encode, kind = choose_encoder(accept or "")
    return encode(registry), kind


def route_template(scope: Scope, asked: Scope) -> str:
    """The template of the route that took the request, or UNMATCHED: never the raw path,
    whose ids would make a series per player. FastAPI's router names its own routes on the
    scope; a mount or plain route (/static, /metrics) is found again among the app's
    top-level routes, matched against the scope as it `asked` (before routing changed it)."""
    path = getattr(scope.get("route"), "path", None)
    if isinstance(path, str) and path:
        return path
    app = scope.get("app")
    for route in getattr(app, "routes", ()):
        if isinstance(route, Mount | Route) and route.matches(asked)[0] == Match.FULL:
            return route.path or UNMATCHED
    return UNMATCHED


class RequestMetrics:
    """Times each HTTP request (to its response's last byte) into
    codebattle_http_request_duration_seconds. A request that raised is counted as a 5xx
    (the 500 page is made outside every middleware)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        began = time.perf_counter()
        status = 500
        asked = dict(scope)  # the router rewrites a mounted request's paths in place

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            metrics.observe_request(
                scope["method"], route_template(scope, asked), status, time.perf_counter() - began
            )


# ---- A port of its own


def _handler(
    settings: Settings, registry: CollectorRegistry
) -> Callable[..., BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            if self.path.split("?", 1)[0] != PATH:
                self._reply(404, b"not found\n", "text/plain; charset=utf-8")
            elif not authorized(settings, self.headers.get("Authorization")):
                text, headers = _refusal(negotiate(None, self.headers.get("Accept-Language")))
                self._reply(401, text.encode() + b"\n", "text/plain; charset=utf-8", headers)
            else:
                self._reply(200, *exposition(registry, self.headers.get("Accept")))

        def _reply(
            self, status: int, body: bytes, kind: str, headers: dict[str, str] | None = None
        ) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass  # a scrape every few seconds is not worth a log line

    return Handler


class _Server(ThreadingHTTPServer):
    """An HTTP server on IPv4 or IPv6, as its address (or the name's first address) says:
    private networks are often IPv6."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: Callable[..., Any]) -> None:
        self.address_family = socket.getaddrinfo(*address, type=socket.SOCK_STREAM)[0][0]
        super().__init__(address, handler)

    def server_bind(self) -> None:
        # `::` serves IPv4 too (as mapped addresses), whatever net.ipv6.bindv6only says.
        if self.address_family == socket.AF_INET6:
            self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        super().server_bind()


def serve_on_port(
    settings: Settings, host: str, registry: CollectorRegistry | None = None
) -> ThreadingHTTPServer | None:
    """With METRICS_PORT, serve `registry` (the API's by default) on host:METRICS_PORT from
    a daemon thread (it ends with the process); None without it. A port already taken
    raises OSError."""
    if settings.METRICS_PORT is None:
        return None
    handler = _handler(settings, registry if registry is not None else metrics.REGISTRY)
    server = _Server((host, settings.METRICS_PORT), handler)
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
    return server
