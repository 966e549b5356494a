"""Every HTTP request and WebSocket connection gets an id: the caller's X-Request-ID when it
is a sane one (a proxy's, a client's retry), else a new one. It is on every log line
written while the request is served (logs.request_scope), in Sentry's tags, and echoed in
the response's X-Request-ID header (and a socket's handshake answer)."""

from __future__ import annotations

import re
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from codebattle import logs

HEADER = b"x-request-id"
# Letters, digits and . _ : - only, at most 128: an id copied into a log line can neither
# forge another line nor swell it.
VALID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def incoming_id(scope: Scope) -> str | None:
    """The caller's X-Request-ID if it is valid, else None."""
    for name, value in scope.get("headers", ()):
        if name == HEADER:
            text = value.decode("latin-1")
            return text if VALID.fullmatch(text) else None
    return None


def new_id() -> str:
    return uuid.uuid4().hex


class RequestIds:
    """ASGI middleware, outside all others: the 500 page and its log line carry the id."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        request_id = incoming_id(scope) or new_id()
        scope.setdefault("state", {})["request_id"] = request_id
        echoed = (HEADER, request_id.encode())

        async def send_with_id(message: Message) -> None:
            if message["type"] in ("http.response.start", "websocket.accept"):
                headers = [h for h in message.get("headers", ()) if h[0].lower() != HEADER]
                message = {**message, "headers": [*headers, echoed]}
            await send(message)

        with logs.request_scope(request_id):
            await self.app(scope, receive, send_with_id)
