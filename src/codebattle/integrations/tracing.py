"""OpenTelemetry traces, sent over OTLP/HTTP (protobuf) to OTEL_EXPORTER_OTLP_ENDPOINT.

Unset, nothing is set up: no provider, no exporter, no patched library, and every helper
here is a no-op (a non-recording span), so tracing costs nothing. Set, `setup` makes this
process's tracer provider (its resource names the service, release, environment and
instance) with a batch processor, and instruments Redis (redis-py, sync and asyncio) and
httpx; the app's HTTP requests (`asgi`) and each database engine (`instrument_engine`) are
instrumented by their owners' calls. A judge job carries its submitter's context
(`carrier` at enqueue, `job_span` in the worker), so the API's request and the worker's
judging are one trace (docs/operations.md "Traces").

The provider is this module's, not OpenTelemetry's global one (which can be set once per
process): tests build many apps, and `shutdown` can undo everything for the next `setup`.
Tracing is per process: one app's stop ends it for another app of the same process.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import weakref
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from importlib import metadata
from typing import Any, TypeAlias
from urllib.parse import urlsplit

from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
from opentelemetry.instrumentation.fastapi import _get_default_span_details
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.instrumentation.redis import RedisInstrumentor
from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer
from opentelemetry.instrumentation.sqlalchemy.version import __version__ as sqlalchemy_otel_version
from opentelemetry.instrumentation.utils import suppress_instrumentation
from opentelemetry.metrics import NoOpMeterProvider
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ALWAYS_ON, ParentBased, Sampler
from opentelemetry.trace import Link, SpanKind
from opentelemetry.util.http import parse_excluded_urls
from sqlalchemy.engine import Engine
from starlette.types import ASGIApp, Receive, Scope, Send

from codebattle.config import Settings
from codebattle.redaction import redact_path

TRACES_PATH = "/v1/traces"
# Probes and static files are not worth a trace each.
EXCLUDED_URLS = "/healthz,/readyz,/metrics,/static/"
# A stop waits at most FLUSH_MILLIS for the last spans, then for the send under way (at
# most SEND_SECONDS): a collector that hangs must not hold a deploy's stop for long.
FLUSH_MILLIS = 3000
SEND_SECONDS = 3.0
INSTRUMENTATION = "codebattle"
# A span, as the judge's runner records on it (so no module outside integrations/ names
# OpenTelemetry).
Span: TypeAlias = trace.Span


@dataclass(frozen=True, slots=True)
class TraceConfig:
    """What a process's tracing is made of; JSON for a local judge worker's command line
    (it starts with an empty environment and reads no settings)."""

    endpoint: str  # the collector's base URL; spans go to <endpoint>/v1/traces
    service: str
    version: str
    environment: str

    @classmethod
    def of(cls, settings: Settings, role: str) -> TraceConfig | None:
        if not settings.OTEL_EXPORTER_OTLP_ENDPOINT:
            return None
        service = settings.OTEL_SERVICE_NAME + ("-worker" if role == "worker" else "")
        return cls(
            endpoint=settings.OTEL_EXPORTER_OTLP_ENDPOINT.rstrip("/"),
            service=service,
            version=settings.RELEASE or _package_version(),
            environment=str(settings.ENVIRONMENT),
        )

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> TraceConfig:
        return cls(**json.loads(text))


def _package_version() -> str:
    try:
        return metadata.version("codebattle")
    except metadata.PackageNotFoundError:
        return "unknown"


@dataclass
class _Active:
    config: TraceConfig
    provider: TracerProvider
    # Redis and SQL spans: only inside a trace (a request, a job, a recording). A
    # background loop's Redis polls and queries, hundreds a minute with nobody waiting,
    # would each be a trace of one span telling nothing.
    stores: TracerProvider
    tracer: trace.Tracer
    engines: weakref.WeakSet[Engine]

    def providers(self) -> tuple[TracerProvider, TracerProvider]:
        return (self.provider, self.stores)


_active: _Active | None = None
_lock = threading.Lock()


def setup(settings: Settings, role: str) -> bool:
    """Trace this process as `role` ("api" or "worker": OTEL_SERVICE_NAME + "-worker");
    whether tracing is on. Idempotent: the same settings again change nothing; others
    replace what an earlier call set up (and no endpoint undoes it)."""
    return setup_from(TraceConfig.of(settings, role))


def setup_from(config: TraceConfig | None) -> bool:
    global _active
    with _lock:
        if _active is not None and _active.config == config:
            return True
        if _active is not None:
            _stop(_active)
            _active = None
        if config is None:
            return False
        resource = Resource.create(
            {
                "service.name": config.service,
                "service.version": config.version,
                "deployment.environment": config.environment,
                "service.instance.id": f"{socket.gethostname()}-{os.getpid()}",
            }
        )
        # One exporter and batch for both providers: one thread, one bounded flush.
        exporter = OTLPSpanExporter(endpoint=config.endpoint + TRACES_PATH, timeout=SEND_SECONDS)
        batches = BatchSpanProcessor(exporter)
        provider = _provider(resource, ALWAYS_ON, batches)
        stores = _provider(resource, ALWAYS_OFF, batches)
        RedisInstrumentor().instrument(tracer_provider=stores)
        HTTPXClientInstrumentor().instrument(
            tracer_provider=provider,
            request_hook=_hide_url,
            async_request_hook=_hide_url_async,
        )
        tracer = provider.get_tracer(INSTRUMENTATION, _package_version())
        _active = _Active(config, provider, stores, tracer, weakref.WeakSet())
        return True


def _provider(resource: Resource, root: Sampler, batches: BatchSpanProcessor) -> TracerProvider:
    """A provider whose spans follow their parent's sampling, and whose roots `root`'s."""
    provider = TracerProvider(resource=resource, sampler=ParentBased(root))
    provider.add_span_processor(batches)
    return provider


def shutdown() -> None:
    """Send what is left (bounded by FLUSH_MILLIS) and undo `setup`: at the app's stop and
    the worker's exit."""
    global _active
    with _lock:
        if _active is not None:
            _stop(_active)
            _active = None


def _stop(active: _Active) -> None:
    active.provider.force_flush(FLUSH_MILLIS)
    for provider in active.providers():
        provider.shutdown()  # the shared batch stops once (a second time is a no-op)
    RedisInstrumentor().uninstrument()
    HTTPXClientInstrumentor().uninstrument()
    EngineTracer.remove_all_event_listeners()  # type: ignore[no-untyped-call]


def config() -> TraceConfig | None:
    """This process's tracing, if on."""
    active = _active
    return active.config if active is not None else None


WORKER_FLAG = "--trace"


def worker_args() -> list[str]:
    """The command-line arguments that give a local judge worker process (started with
    no settings of this kind: judge/local_worker.py) this process's tracing, as a worker."""
    active = _active
    if active is None:
        return []
    worker = replace(
        active.config, service=active.config.service.removesuffix("-worker") + "-worker"
    )
    return [WORKER_FLAG, worker.to_json()]


def setup_worker(args: list[str]) -> bool:
    """`setup` from `worker_args` (a local judge worker's command line); whether on."""
    if len(args) == 2 and args[0] == WORKER_FLAG:
        return setup_from(TraceConfig.from_json(args[1]))
    return False


def instrument_engine(engine: Engine) -> None:
    """SQL spans (db.statement) for this engine (an async engine's `sync_engine`).

    The SQLAlchemy instrumentation declares SQLAlchemy < 2.1, and its `instrument()` does
    nothing at all (no error) on a newer one unless given skip_dep_check; it also runs once
    per process, for the engines it is given then. Our engines are made per `Database`
    (many per test run), so each gets the instrumentation's own EngineTracer, as
    `instrument(engine=...)` gives it. Its SQL spans are checked by tests."""
    active = _active
    if active is None or engine in active.engines:
        return
    tracer = active.stores.get_tracer(
        "opentelemetry.instrumentation.sqlalchemy", sqlalchemy_otel_version
    )
    usage = (
        NoOpMeterProvider()
        .get_meter("opentelemetry.instrumentation.sqlalchemy")
        .create_up_down_counter("db.client.connections.usage")
    )
    EngineTracer(tracer, engine, usage)  # type: ignore[no-untyped-call]
    active.engines.add(engine)


def asgi(app: ASGIApp) -> ASGIApp:
    """The app with a server span per HTTP request (named by its route, as FastAPI's
    instrumentation names it), or the app itself when tracing is off. WebSockets are not
    traced: a socket lives for hours and would make a span per message."""
    active = _active
    if active is None:
        return app
    traced = OpenTelemetryMiddleware(
        _Unmasked(app),
        excluded_urls=parse_excluded_urls(EXCLUDED_URLS),
        default_span_details=_get_default_span_details,
        server_request_hook=_hide_query,
        tracer=active.provider.get_tracer("opentelemetry.instrumentation.asgi"),
        meter=NoOpMeterProvider().get_meter("opentelemetry.instrumentation.asgi"),
        exclude_spans=["receive", "send"],
    )
    return _HttpOnly(app, traced)


class _HttpOnly:
    """Traces HTTP requests only, and shows the tracing middleware a copy of the request's
    scope without the client's address and user agent (a span keeps no personal data; the
    attributes it would make of them cannot be removed once set); the app gets the scope
    itself (`_Unmasked`)."""

    def __init__(self, plain: ASGIApp, traced: ASGIApp) -> None:
        self.plain = plain
        self.traced = traced

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.plain(scope, receive, send)
            return
        masked = {
            **scope,
            "client": None,
            "headers": [(k, v) for k, v in scope.get("headers", []) if k not in _PERSONAL],
            _ORIGINAL: scope,
        }
        await self.traced(masked, receive, send)


class _Unmasked:
    """Inside the tracing middleware: the app gets the request's own scope back."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope.get(_ORIGINAL, scope), receive, send)


_ORIGINAL = "codebattle.unmasked_scope"
_PERSONAL = frozenset({b"user-agent", b"x-forwarded-for", b"forwarded", b"fly-client-ip"})
# A query string may hold a one-time code (OAuth's callback, a password reset), a path a
# capability (a guardian's consent link: redaction.py), and an outside service's URL a
# secret (a webhook's path, a key): spans keep none of them.
_CLIENT_URL_ATTRIBUTES = ("http.url", "url.full")


def _hide_query(span: Span, scope: dict[str, Any]) -> None:
    if not span.is_recording():
        return
    path = redact_path(scope.get("path", ""))
    span.set_attribute("http.target", path)
    span.set_attribute("http.url", path)
    span.set_attribute("url.path", path)
    span.set_attribute("url.query", "")


def _hide_url(span: Span, request: Any) -> None:
    if not span.is_recording():
        return
    url = urlsplit(str(request.url))  # the instrumentation's RequestInfo
    origin = f"{url.scheme}://{url.netloc.rsplit('@', 1)[-1]}"
    for name in _CLIENT_URL_ATTRIBUTES:
        span.set_attribute(name, origin)


async def _hide_url_async(span: Span, request: Any) -> None:
    _hide_url(span, request)


def current_ids() -> tuple[str, str] | None:
    """The current span's trace and span ids in hex (as Tempo and Loki's derived fields read
    them), or None outside a span: what a log line carries (logs.use_trace_ids)."""
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return trace.format_trace_id(context.trace_id), trace.format_span_id(context.span_id)


def carrier() -> dict[str, str]:
    """The current context as W3C trace headers (traceparent), to travel with a job; empty
    when tracing is off or nothing is being traced."""
    if _active is None:
        return {}
    headers: dict[str, str] = {}
    propagate.inject(headers)
    return headers


@contextmanager
def job_span(
    name: str, parent: Mapping[str, str] | None, attributes: Mapping[str, str | int | bool]
) -> Iterator[Span]:
    """A span for work sent from elsewhere (a judge job), a child of the sender's context
    in `parent` (from `carrier`; none from an older sender: a trace of its own)."""
    active = _active
    if active is None:
        yield trace.INVALID_SPAN
        return
    context = propagate.extract(dict(parent)) if parent else None
    with active.tracer.start_as_current_span(
        name, context=context, kind=SpanKind.CONSUMER, attributes=dict(attributes)
    ) as span:
        yield span


@contextmanager
def untraced() -> Iterator[None]:
    """No spans from instrumented libraries inside (a judge job's per-test sends: one
    event on the job's span says enough)."""
    if _active is None:
        yield
        return
    with suppress_instrumentation():
        yield


@contextmanager
def linked_span(name: str, carriers: Iterable[Mapping[str, str] | None]) -> Iterator[Span]:
    """A span of its own trace linked to the contexts in `carriers` (recording the results
    of several judge jobs at once: each job's trace leads to it). None without a context
    to link to: a batch of mere progress events (several a second) is no trace."""
    active = _active
    links = []
    for headers in carriers if active is not None else ():
        if headers:
            context = trace.get_current_span(propagate.extract(dict(headers))).get_span_context()
            if context.is_valid:
                links.append(Link(context))
    if active is None or not links:
        yield trace.INVALID_SPAN
        return
    with active.tracer.start_as_current_span(
        name, context=Context(), links=links, kind=SpanKind.INTERNAL
    ) as span:
        yield span
