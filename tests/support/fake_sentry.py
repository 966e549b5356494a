"""A local stand-in for Sentry's ingestion API on 127.0.0.1: POST /api/<project>/envelope/
(what sentry-sdk sends) and /api/<project>/store/ (a bare event, older clients).

Bodies may be gzip- or brotli-compressed (Content-Encoding). An envelope is a header line,
then items, each an item-header line ({"type": ..., "length": n}) and its payload (`length`
bytes, or up to the next newline). The fake keeps every request's raw body (a test looks
for what must never leave the process) and the parsed events. The DSN to use is `dsn`:
http://<public key>@127.0.0.1:<port>/<project>.
"""

from __future__ import annotations

import gzip
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from typing import Any

from tests.support.loopback import LoopbackServer, QuietHandler

PUBLIC_KEY = "public"
PROJECT = "1"


@dataclass
class Envelope:
    path: str
    auth: str  # the X-Sentry-Auth header
    raw: bytes  # the body as it arrived, decompressed
    header: dict[str, Any]
    items: list[tuple[dict[str, Any], bytes]]  # (item header, payload)


@dataclass
class _State:
    envelopes: list[Envelope] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def decompress(body: bytes, encoding: str) -> bytes:
    if encoding == "gzip":
        return gzip.decompress(body)
    if encoding == "br":
        import brotli  # only if the SDK found it installed

        return bytes(brotli.decompress(body))
    return body


def parse_envelope(raw: bytes) -> tuple[dict[str, Any], list[tuple[dict[str, Any], bytes]]]:
    """An envelope's header and its (item header, payload) pairs."""
    header_line, _, rest = raw.partition(b"\n")
    header: dict[str, Any] = json.loads(header_line) if header_line.strip() else {}
    items: list[tuple[dict[str, Any], bytes]] = []
    while rest.strip():
        item_line, _, rest = rest.partition(b"\n")
        item: dict[str, Any] = json.loads(item_line)
        if "length" in item:
            payload, rest = rest[: item["length"]], rest[item["length"] :]
            rest = rest.removeprefix(b"\n")
        else:
            payload, _, rest = rest.partition(b"\n")
        items.append((item, payload))
    return header, items


class _Handler(QuietHandler):
    server: _Server

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        parts = self.path.split("?", 1)[0].strip("/").split("/")
        if len(parts) != 3 or parts[0] != "api" or parts[2] not in ("envelope", "store"):
            self._send(404, b'{"detail": "not found"}')
            return
        try:
            raw = decompress(body, self.headers.get("Content-Encoding", ""))
            if parts[2] == "store":  # a bare event: as an envelope of one
                header: dict[str, Any] = {}
                items = [({"type": "event"}, raw)]
            else:
                header, items = parse_envelope(raw)
        except (OSError, ValueError) as exc:
            self._send(400, json.dumps({"detail": str(exc)}).encode())
            return
        auth = self.headers.get("X-Sentry-Auth", "")
        with self.server.state.lock:
            self.server.state.envelopes.append(Envelope(self.path, auth, raw, header, items))
        self._send(200, json.dumps({"id": header.get("event_id", "")}).encode())


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, state: _State) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.state = state


class FakeSentry(LoopbackServer):
    """Start with `with FakeSentry() as sentry:`; set SENTRY_DSN to `sentry.dsn`."""

    def __init__(self) -> None:
        self._state = _State()
        super().__init__()

    @property
    def dsn(self) -> str:
        return f"http://{PUBLIC_KEY}@127.0.0.1:{self.port}/{PROJECT}"

    @property
    def envelopes(self) -> list[Envelope]:
        with self._state.lock:
            return list(self._state.envelopes)

    @property
    def events(self) -> list[dict[str, Any]]:
        """Every error event received, parsed."""
        return [
            json.loads(payload)
            for envelope in self.envelopes
            for item, payload in envelope.items
            if item.get("type") == "event"
        ]

    def raw(self) -> bytes:
        """Everything received, decompressed: what must not be in it must not be here."""
        return b"\n".join(envelope.raw for envelope in self.envelopes)

    def wait_for_events(self, count: int, timeout: float = 20.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(events := self.events) < count:
            assert time.monotonic() < deadline, f"{len(events)} events, expected {count}"
            time.sleep(0.05)
        return events

    def _make_server(self) -> ThreadingHTTPServer:
        return _Server(self._state)
