"""A process's metrics on a port of its own (config.py METRICS_PORT), and the scrape's
token check (METRICS_TOKEN): a small HTTP server in a daemon thread.

Kept apart from ops/metrics_http.py (the app's route and middleware) and ops/metrics.py
(the API's metrics, which import the whole app): it imports only prometheus_client, the
settings and the messages, so the worker machine's fan-in (ops/metrics_fanin.py) stays a
small process. Guarded by tests/ops/test_metrics_fanin.py."""

from __future__ import annotations

import hmac
import socket
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CollectorRegistry
from prometheus_client.exposition import choose_encoder

from codebattle.config import Settings
from codebattle.i18n import negotiate, translate

PATH = "/metrics"


def authorized(settings: Settings, authorization: str | None) -> bool:
    """The scrape's Authorization header against METRICS_TOKEN (none set: anyone)."""
    if settings.METRICS_TOKEN is None:
        return True
    scheme, _, presented = (authorization or "").partition(" ")
    expected = settings.METRICS_TOKEN.get_secret_value()
    # compare_digest on bytes: constant time whatever the lengths and characters sent.
    same = hmac.compare_digest(presented.strip().encode(), expected.encode())
    return scheme.lower() == "bearer" and same


def refusal(locale: str) -> tuple[str, dict[str, str]]:
    """A refused scrape's message and headers (401)."""
    return translate("metrics_token_required", locale), {"WWW-Authenticate": "Bearer"}


def exposition(registry: CollectorRegistry, accept: str | None) -> tuple[bytes, str]:
    """The registry in the format the scraper asks for (Accept: OpenMetrics for
    Prometheus, else the classic text format, version 0.0.4)."""
    encode, kind = choose_encoder(accept or "")
    return encode(registry), kind


def _handler(
    settings: Settings, registry: CollectorRegistry
) -> Callable[..., BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            if self.path.split("?", 1)[0] != PATH:
                self._reply(404, b"not found\n", "text/plain; charset=utf-8")
            elif not authorized(settings, self.headers.get("Authorization")):
                text, headers = refusal(negotiate(None, self.headers.get("Accept-Language")))
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
    settings: Settings, host: str, registry: CollectorRegistry
) -> ThreadingHTTPServer | None:
    """With METRICS_PORT, serve `registry` on host:METRICS_PORT from a daemon thread (it
    ends with the process); None without it. A port already taken raises OSError."""
    if settings.METRICS_PORT is None:
        return None
    server = _Server((host, settings.METRICS_PORT), _handler(settings, registry))
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
    return server
