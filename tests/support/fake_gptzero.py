"""A local stand-in for GPTZero's text prediction API (POST /v2/predict/text) on 127.0.0.1.

It checks the x-api-key header, records every request, and answers each one by the next
mode in its queue (then by `default`):
  "ok"         200, a prediction for the document (`prediction`, fields as GPTZero's docs)
  "401"        401 with an error that echoes part of the key
  "429"        429 with `Retry-After: <retry_after>` (omitted when retry_after is None)
  "500"        500 with an error body
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

TEST_KEY = "gptzero-test-key-0123456789abcdef"


@dataclass(frozen=True)
class Prediction:
    """What the fake says about every document."""

    completely_generated_prob: float = 0.91
    class_probabilities: dict[str, float] = field(
        default_factory=lambda: {"ai": 0.91, "human": 0.06, "mixed": 0.03}
    )
    predicted_class: str = "ai"
    version: str = "2025-01-09-base"


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: Any  # parsed JSON, or the raw text when it was not JSON


@dataclass
class _State:
    api_key: str
    prediction: Prediction
    sleep_seconds: float
    retry_after: str | None
    default: Mode = "ok"
    queue: deque[Mode] = field(default_factory=deque)
    requests: list[Recorded] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stopping: threading.Event = field(default_factory=threading.Event)


def _answer(document: str, prediction: Prediction) -> dict[str, Any]:
    """The shape of a v2 answer, trimmed to a few of its fields."""
    return {
        "version": prediction.version,
        "scanId": "00000000-0000-0000-0000-000000000000",
        "documents": [
            {
                "average_generated_prob": prediction.completely_generated_prob,
                "completely_generated_prob": prediction.completely_generated_prob,
                "class_probabilities": prediction.class_probabilities,
                "predicted_class": prediction.predicted_class,
                "confidence_category": "high",
                "overall_burstiness": 0,
                "paragraphs": [],
                "sentences": [{"sentence": document[:80], "generated_prob": 0.5}],
                "document_classification": "AI_ONLY",
            }
        ],
    }


class _Handler(QuietHandler):
    server: _Server

    def _error(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps({"error": message}).encode(), headers=headers)

    def do_POST(self) -> None:
        state = self.server.state
        body = self._read_body()
        with state.lock:
            state.requests.append(Recorded("POST", self.path, dict(self.headers.items()), body))
            mode = state.queue.popleft() if state.queue else state.default
        if self.path != "/v2/predict/text":
            self._error(404, "Not found")
            return
        given = self.headers.get("x-api-key", "")
        if mode == "401" or given != state.api_key:
            # Echo a masked form of the key, so that a client passing the text on leaks it.
            self._error(401, f"Invalid API key: {given[:6]}***{given[-4:]}")
            return
        if mode == "429":
            extra = {} if state.retry_after is None else {"Retry-After": state.retry_after}
            self._error(429, "Too many requests", extra)
            return
        if mode == "500":
            self._error(500, "fake 500")
            return
        if mode == "malformed":
            self._send(200, b'{"documents": [{"completely_generated_prob": ')
            return
        if mode == "sleep" and state.stopping.wait(state.sleep_seconds):
            return
        document = body.get("document", "") if isinstance(body, dict) else ""
        self._send(200, json.dumps(_answer(str(document), state.prediction)).encode())


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, state: _State) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.state = state


class FakeGPTZero(LoopbackServer):
    """Start with `with FakeGPTZero() as fake:`; point the client at `fake.base_url`."""

    def __init__(
        self,
        api_key: str = TEST_KEY,
        prediction: Prediction | None = None,
        sleep_seconds: float = 2.0,
        retry_after: str | None = "0",
    ) -> None:
        self._state = _State(
            api_key=api_key,
            prediction=prediction or Prediction(),
            sleep_seconds=sleep_seconds,
            retry_after=retry_after,
        )
        super().__init__()

    @property
    def api_key(self) -> str:
        return self._state.api_key

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def requests(self) -> list[Recorded]:
        with self._state.lock:
            return list(self._state.requests)

    def set_retry_after(self, value: str | None) -> None:
        self._state.retry_after = value

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
