"""A local stand-in for a Slack incoming webhook and a Discord webhook on 127.0.0.1: one
server, a path per service (`slack_url`, `discord_url`). It records every request and
answers each by the next mode queued for its channel (then by that channel's default):
  "ok"     Slack: 200 "ok"; Discord: 200 with a message object (as with ?wait=true)
  "429"    rate limited: Discord's JSON `retry_after` (and a Retry-After header), Slack's
           Retry-After header; `retry_after` seconds
  "500"    a server error
  "404"    the webhook is gone (Slack "no_service", Discord code 10015)
  "400"    the payload is refused
  "hang"   waits `hang_seconds` before answering "ok" (for client time-outs)
"""

from __future__ import annotations

import json
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

from tests.support.loopback import LoopbackServer, QuietHandler

Mode = Literal["ok", "429", "500", "404", "400", "hang"]
SLACK_PATH = "/services/T0000/B0000/slack-secret-token"
DISCORD_PATH = "/api/webhooks/1234/discord-secret-token"


@dataclass
class Recorded:
    channel: str  # "slack" | "discord"
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any  # parsed JSON, or the raw text when it was not JSON


@dataclass
class _State:
    retry_after: float
    hang_seconds: float
    defaults: dict[str, Mode] = field(default_factory=lambda: {"slack": "ok", "discord": "ok"})
    queues: dict[str, deque[Mode]] = field(
        default_factory=lambda: {"slack": deque(), "discord": deque()}
    )
    requests: list[Recorded] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stopping: threading.Event = field(default_factory=threading.Event)


class _Handler(QuietHandler):
    server: _Server

    def do_POST(self) -> None:
        state = self.server.state
        body = self._read_body()
        url = urlsplit(self.path)
        channel = {SLACK_PATH: "slack", DISCORD_PATH: "discord"}.get(url.path)
        if channel is None:
            self._send(404, b"not found", "text/plain")
            return
        with state.lock:
            record = Recorded(channel, url.path, parse_qs(url.query), dict(self.headers), body)
            state.requests.append(record)
            queue = state.queues[channel]
            mode = queue.popleft() if queue else state.defaults[channel]
        if mode == "hang" and state.stopping.wait(state.hang_seconds):
            return
        if channel == "slack":
            self._slack(mode, state)
        else:
            self._discord(mode, state)

    def _slack(self, mode: Mode, state: _State) -> None:
        text = "text/plain"
        if mode == "429":
            self._send(429, b"rate_limited", text, {"Retry-After": f"{state.retry_after:g}"})
        elif mode == "500":
            self._send(500, b"rollup_error", text)
        elif mode == "404":
            self._send(404, b"no_service", text)
        elif mode == "400":
            self._send(400, b"invalid_payload", text)
        else:
            self._send(200, b"ok", text)

    def _discord(self, mode: Mode, state: _State) -> None:
        def answer(
            status: int, data: dict[str, Any], headers: dict[str, str] | None = None
        ) -> None:
            self._send(status, json.dumps(data).encode(), "application/json", headers)

        if mode == "429":
            answer(
                429,
                {"message": "You are being rate limited.", "retry_after": state.retry_after,
                 "global": False},
                {"Retry-After": str(int(state.retry_after) + 1)},
            )  # fmt: skip
        elif mode == "500":
            answer(500, {"message": "500: Internal Server Error", "code": 0})
        elif mode == "404":
            answer(404, {"message": "Unknown Webhook", "code": 10015})
        elif mode == "400":
            answer(400, {"message": "Cannot send an empty message", "code": 50006})
        else:
            answer(200, {"id": "1", "type": 0, "content": "", "webhook_id": "1234"})


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, state: _State) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.state = state


class FakeWebhooks(LoopbackServer):
    """Start with `with FakeWebhooks() as fake:`; set SLACK_WEBHOOK_URL to
    `fake.slack_url` and DISCORD_WEBHOOK_URL to `fake.discord_url`."""

    def __init__(self, retry_after: float = 7.5, hang_seconds: float = 5.0) -> None:
        self._state = _State(retry_after=retry_after, hang_seconds=hang_seconds)
        super().__init__()

    @property
    def slack_url(self) -> str:
        return f"http://127.0.0.1:{self.port}{SLACK_PATH}"

    @property
    def discord_url(self) -> str:
        return f"http://127.0.0.1:{self.port}{DISCORD_PATH}"

    def requests(self, channel: str | None = None) -> list[Recorded]:
        with self._state.lock:
            return [r for r in self._state.requests if channel in (None, r.channel)]

    def set_default(self, channel: str, mode: Mode) -> None:
        with self._state.lock:
            self._state.defaults[channel] = mode

    def queue(self, channel: str, *modes: Mode) -> None:
        """Answer the channel's next requests by these modes, in order."""
        with self._state.lock:
            self._state.queues[channel].extend(modes)

    def _make_server(self) -> ThreadingHTTPServer:
        return _Server(self._state)

    def _stopping(self) -> None:
        self._state.stopping.set()  # wakes hanging handlers
