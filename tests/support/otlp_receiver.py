"""A local OpenTelemetry collector's trace endpoint on 127.0.0.1: accepts POST /v1/traces
(OTLP/HTTP, protobuf, gzip or not), decodes each ExportTraceServiceRequest and keeps its
spans (with their service's name) for a test to look at. `endpoint` is what
OTEL_EXPORTER_OTLP_ENDPOINT takes."""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

from tests.support.loopback import LoopbackServer, QuietHandler

KINDS = {1: "internal", 2: "server", 3: "client", 4: "producer", 5: "consumer"}


@dataclass
class ReceivedSpan:
    service: str
    name: str
    kind: str  # "server", "client", "internal", "consumer", "producer"
    trace_id: str  # hex
    span_id: str
    parent_id: str  # "" for a root span
    attributes: dict[str, Any]
    events: list[tuple[str, dict[str, Any]]]
    links: list[tuple[str, str]]  # (trace id, span id)
    resource: dict[str, Any]


def _value(value: AnyValue) -> Any:
    which = value.WhichOneof("value")
    if which == "array_value":
        return [_value(item) for item in value.array_value.values]
    return getattr(value, which) if which else None


def _attributes(items: Any) -> dict[str, Any]:
    return {item.key: _value(item.value) for item in items}


@dataclass
class _State:
    spans: list[ReceivedSpan] = field(default_factory=list)
    posts: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


class _Handler(QuietHandler):
    server: _Server

    def do_POST(self) -> None:
        state = self.server.state
        if self.path != "/v1/traces":
            self._send(404, b"not found", "text/plain")
            return
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        request = ExportTraceServiceRequest()
        try:
            request.ParseFromString(body)
        except Exception:  # protobuf's DecodeError: a client that sent something else
            self._send(400, b"not an ExportTraceServiceRequest", "text/plain")
            return
        spans = []
        for resource_spans in request.resource_spans:
            resource = _attributes(resource_spans.resource.attributes)
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    spans.append(
                        ReceivedSpan(
                            service=str(resource.get("service.name", "")),
                            name=span.name,
                            kind=KINDS.get(span.kind, "unspecified"),
                            trace_id=span.trace_id.hex(),
                            span_id=span.span_id.hex(),
                            parent_id=span.parent_span_id.hex(),
                            attributes=_attributes(span.attributes),
                            events=[(e.name, _attributes(e.attributes)) for e in span.events],
                            links=[
                                (link.trace_id.hex(), link.span_id.hex()) for link in span.links
                            ],
                            resource=resource,
                        )
                    )
        with state.lock:
            state.posts += 1
            state.spans.extend(spans)
        reply = ExportTraceServiceResponse().SerializeToString()
        self._send(200, reply, "application/x-protobuf")


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, state: _State) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.state = state


class OtlpReceiver(LoopbackServer):
    def __init__(self) -> None:
        super().__init__()
        self.state = _State()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def posts(self) -> int:
        with self.state.lock:
            return self.state.posts

    def spans(self) -> list[ReceivedSpan]:
        with self.state.lock:
            return list(self.state.spans)

    def wait_for(
        self, found: Callable[[list[ReceivedSpan]], bool], timeout: float = 30.0
    ) -> list[ReceivedSpan]:
        """The spans, once `found` says they are there (the exporter sends in batches)."""
        deadline = time.monotonic() + timeout
        while True:
            spans = self.spans()
            if found(spans):
                return spans
            if time.monotonic() > deadline:
                names = sorted({(s.service, s.name) for s in spans})
                raise AssertionError(f"spans not received in {timeout} s; got {names}")
            time.sleep(0.05)

    def _make_server(self) -> ThreadingHTTPServer:
        return _Server(self.state)
