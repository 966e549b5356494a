"""Where and to whom a process's metrics are served (config.py METRICS_TOKEN, METRICS_PORT).

- METRICS_PORT set: on that port alone, by a small HTTP server in a thread of this process
  (`serve_on_port`, ops/metrics_port.py), not on the app; bind it to a private network.
- METRICS_TOKEN set: every scrape sends "Authorization: Bearer <token>" (compared in
  constant time); else 401.
- Neither: `/metrics` on the app, openly outside production and preview (a public site),
  not at all there (404).
Also the request-latency middleware: it labels a request by its route's template
("/api/submissions/{submission_id}"), never by its raw path.
"""

from __future__ import annotations

import asyncio
import time
from http.server import ThreadingHTTPServer

from prometheus_client import CollectorRegistry
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Match, Mount, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from codebattle.config import Settings
from codebattle.i18n import negotiate
from codebattle.ops import metrics, metrics_port
from codebattle.ops.metrics_port import PATH as PATH  # the app's route: the port's path
from codebattle.ops.metrics_port import authorized, exposition, refusal

UNMATCHED = "unmatched"  # the route label of a request no route took (a 404)


def exposed(settings: Settings) -> bool:
    """Whether this process serves its metrics at all (then it also samples them)."""
    return bool(settings.METRICS_TOKEN or settings.METRICS_PORT or not settings.production_like)


def served_in_app(settings: Settings) -> bool:
    """Whether `/metrics` is a route of the app (not when a port of its own serves it)."""
    return settings.METRICS_PORT is None and exposed(settings)


async def endpoint(request: Request) -> Response:
    """`GET /metrics` on the app (a plain route: no session, no sign-in, no database)."""
    settings: Settings = request.app.state.settings
    if not authorized(settings, request.headers.get("authorization")):
        locale = negotiate(request.cookies.get("lang"), request.headers.get("accept-language"))
        text, headers = refusal(locale)
        return PlainTextResponse(text, status_code=401, headers=headers)
    # Off the event loop: a few hundred series take tens of milliseconds to encode.
    accept = request.headers.get("accept")
    body, kind = await asyncio.to_thread(exposition, metrics.REGISTRY, accept)
    return Response(body, headers={"Content-Type": kind})


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


def serve_on_port(
    settings: Settings, host: str, registry: CollectorRegistry | None = None
) -> ThreadingHTTPServer | None:
    """With METRICS_PORT, serve `registry` (the API's by default) on host:METRICS_PORT from
    a daemon thread (ops/metrics_port.py); None without it. A port already taken raises
    OSError."""
    chosen = registry if registry is not None else metrics.REGISTRY
    return metrics_port.serve_on_port(settings, host, chosen)
