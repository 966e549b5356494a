"""A local stand-in for the OpenAI Responses API (POST /v1/responses) on 127.0.0.1.

It checks the Bearer key, records every request, and answers each one by the next mode in
its queue (then by `default`):
  "ok"         200, a message whose output_text holds a fenced code block (`answer`)
  "401"        401 with an OpenAI-style error that echoes part of the key
  "429"/"500"  that status with an error body
  "sleep"      waits `sleep_seconds` before answering "ok" (for client time-outs)
  "malformed"  200 with a body that is not JSON
"""

from __future__ import annotations

import json
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from typing import Any, Literal

from tests.support.loopback import LoopbackServer, QuietHandler

Mode = Literal["ok", "401", "429", "500", "sleep", "malformed"]

TEST_KEY = "sk-test-fake-0123456789abcdef"
DEFAULT_ANSWER = (
    "Here is my solution:\n\n```python\nimport sys\n\n"
    "a, b = map(int, sys.stdin.read().split())\nprint(a + b)\n```\n"
)


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: Any  # parsed JSON, or the raw text when it was not JSON


@dataclass
class _State:
    api_key: str
    answer: str
    sleep_seconds: float
    default: Mode = "ok"
    queue: deque[Mode] = field(default_factory=deque)
    requests: list[Recorded] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stopping: threading.Event = field(default_factory=threading.Event)


def _message(text: str) -> dict[str, Any]:
    return {
        "id": "resp_fake",
        "object": "response",
        "status": "completed",
        "output": [
            {"type": "reasoning", "id": "rs_fake", "summary": []},
            {
                "type": "message",
                "id": "msg_fake",
                "role": "assistant",
                "status": "completed",
                "content": [{"type": "output_text", "text": text, "annotations": []}],
            },
        ],
    }


class _Handler(QuietHandler):
    server: _Server

    def _error(self, status: int, message: str, code: str) -> None:
        body = {"error": {"message": message, "type": "invalid_request_error", "code": code}}
        self._send(status, json.dumps(body).encode())

    def do_POST(self) -> None:
        state = self.server.state
        body = self._read_body()
        with state.lock:
            state.requests.append(Recorded("POST", self.path, dict(self.headers.items()), body))
            mode = state.queue.popleft() if state.queue else state.default
        if self.path != "/v1/responses":
            self._error(404, "Not found", "not_found")
            return
        key = state.api_key
        given = self.headers.get("Authorization", "")
        if mode == "401" or given != f"Bearer {key}":
            shown = given.removeprefix("Bearer ")
            # Like the real API, echo a masked form of the key the client sent.
            self._error(401, f"Incorrect API key provided: {shown[:6]}***{shown[-4:]}", "401")
            return
        if mode in ("429", "500"):
            self._error(int(mode), f"fake {mode}", "server_error")
            return
        if mode == "malformed":
            self._send(200, b'{"output": [{"type": "message", "content": ', "application/json")
            return
        if mode == "sleep" and state.stopping.wait(state.sleep_seconds):
            return
        self._send(200, json.dumps(_message(state.answer)).encode())


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, state: _State) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.state = state


class FakeOpenAI(LoopbackServer):
    """Start with `with FakeOpenAI() as fake:`; point the client at `fake.base_url`."""

    def __init__(
        self,
        api_key: str = TEST_KEY,
        answer: str = DEFAULT_ANSWER,
        sleep_seconds: float = 2.0,
    ) -> None:
        self._state = _State(api_key=api_key, answer=answer, sleep_seconds=sleep_seconds)
        super().__init__()

    @property
    def api_key(self) -> str:
        return self._state.api_key

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def requests(self) -> list[Recorded]:
        with self._state.lock:
            return list(self._state.requests)

    def set_answer(self, text: str) -> None:
        self._state.answer = text

    def set_default(self, mode: Mode) -> None:
        self._state.default = mode

    def queue(self, *modes: Mode) -> None:
        """Answer the next requests by these modes, in order."""
        with self._state.lock:
            self._state.queue.extend(modes)

    def _make_server(self) -> ThreadingHTTPServer:
        return _Server(self._state)

    def _stopping(self) -> None:
        self._state.stopping.set()  # wakes sleeping handlers
