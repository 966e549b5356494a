"""Log lines: one JSON object each in production and preview (LOG_FORMAT), readable lines in
development; every line carries the ids bound where it was written (request_id, user_id,
match_id, room_id, submission_id, job_id) and is ready for Loki (docs/operations.md "Logs").
A line written inside a traced span carries its trace_id and span_id (integrations/tracing.py).
Scrapes and probes that went well write no access line (QUIET_PATHS).

One path for every line: structlog's loggers hand their events to stdlib logging, and one
stderr handler renders every record, ours and those of uvicorn, SQLAlchemy, alembic, httpx,
with the same processors. The same dictConfig is given to uvicorn (`dict_config`), so it
installs no formatter of its own. Errors logged reach Sentry through its logging integration
(integrations/sentry.py), which sees ordinary stdlib records.
"""

from __future__ import annotations

import contextvars
import logging
import logging.config
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Literal

import structlog
from structlog.types import EventDict, Processor, WrappedLogger

from codebattle.config import Environment, Settings
from codebattle.redaction import redact_path

Format = Literal["json", "console"]
# Ids a line may carry; bound with `bound` or `bind` where the code knows them.
IDS = ("request_id", "user_id", "match_id", "room_id", "submission_id", "job_id")
# structlog's key/values travel to stdlib logging under this one record attribute, so no key
# can clash with a LogRecord attribute ("message", "name"...), and come back out of it here.
FIELDS = "fields"

# uvicorn's line for a WebSocket handshake (logged by "uvicorn.error").
SOCKET_LINE = '%s - "WebSocket %s"'

_format: Format = "console"
_request_started: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "request_started", default=None
)


def chosen_format(settings: Settings) -> Format:
    """LOG_FORMAT, where "auto" is JSON in production and preview."""
    if settings.LOG_FORMAT != "auto":
        return settings.LOG_FORMAT
    json_here = settings.ENVIRONMENT in (Environment.production, Environment.preview)
    return "json" if json_here else "console"


def configure(settings: Settings) -> None:
    configure_format(chosen_format(settings))


def configure_format(fmt: Format) -> None:
    """Set up structlog and stdlib logging for this process in `fmt` (`configure` picks it
    from the settings; a local judge worker is given its app's as LOG_FORMAT)."""
    global _format
    _format = fmt
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            structlog.stdlib.PositionalArgumentsFormatter(),
            _to_stdlib,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        # Not cached: structlog.testing.capture_logs (and a reconfiguration) must reach the
        # module-level loggers made before.
        cache_logger_on_first_use=False,
    )
    logging.config.dictConfig(dict_config(fmt))
    # No line shows where in the source it was logged, nor the thread or process: without
    # looking them up a line costs half as much (logging's documented "Optimization").
    logging._srcfile = None
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    # Python's warnings (a SQLAlchemy SAWarning...) as log lines too, not bare text.
    logging.captureWarnings(True)


def current_format() -> Format:
    """The format this process logs in: what a worker process it starts is told."""
    return _format


def dict_config(fmt: Format) -> dict[str, Any]:
    """The stdlib logging configuration (also uvicorn's `log_config`: uvicorn applies it
    again at start-up instead of installing its own handlers and colours)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"redact_access": {"()": RedactedAccessLog}},
        "formatters": {"lines": {"()": formatter, "fmt": fmt}},
        "handlers": {"stderr": {"()": StderrHandler, "formatter": "lines"}},
        "root": {"level": "INFO", "handlers": ["stderr"]},
        "loggers": {
            # Their own handlers off: every line goes to the root's one handler.
            "uvicorn": {"level": "INFO", "handlers": [], "propagate": True},
            "uvicorn.error": {"level": "INFO", "handlers": [], "propagate": True},
            "uvicorn.access": {
                "level": "INFO", "handlers": [], "propagate": True,
                "filters": ["redact_access"],
            },
            # HTTP clients log every request's URL at INFO; some URLs carry what must never
            # reach a log (a billing key in a PortOne path, an OAuth code in a callback's query).
            "httpx": {"level": "WARNING"},
            "httpcore": {"level": "WARNING"},
        },
    }  # fmt: skip


def formatter(fmt: Format) -> structlog.stdlib.ProcessorFormatter:
    """Renders every record: ids, time, level and logger added, uvicorn's access line made
    fields, then one JSON object (or one readable line)."""
    renderer: Processor
    if fmt == "json":
        renderer = structlog.processors.JSONRenderer()
        # A traceback as one string field (frames' local variables never: they may hold a
        # submission's code or a token).
        finish: list[Processor] = [structlog.processors.format_exc_info]
    else:
        # Colours for a terminal only, not in a file a process manager writes.
        renderer = structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
        finish = []
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[
            structlog.contextvars.merge_contextvars,
            _trace_ids,
            _from_record,
            structlog.stdlib.add_log_level,
            structlog.stdlib.add_logger_name,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
        ],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            *finish,
            renderer,
        ],
        pass_foreign_args=True,
    )


class StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to sys.stderr as it is when a line is written, not when logging was set up:
    a command run inside a test (or anything that swaps stderr) leaves a closed file."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr  # under the handler's lock (Handler.handle)
        super().emit(record)


TraceIds = Callable[[], tuple[str, str] | None]
_current_trace: TraceIds | None = None


def use_trace_ids(source: TraceIds | None) -> None:
    """Where a line finds the current span's (trace id, span id): integrations/tracing.py's
    `current_ids`, given by whoever sets up tracing (logs sits beside integrations/ and
    imports none of it); None: lines carry no trace ids."""
    global _current_trace
    _current_trace = source


def _trace_ids(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """The current span's trace and span ids, so a line leads to its trace. Outside a span
    (or without tracing) the source answers None: nothing added."""
    ids = _current_trace() if _current_trace is not None else None
    if ids is not None:
        event_dict["trace_id"], event_dict["span_id"] = ids
    return event_dict


def _to_stdlib(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> dict[str, Any]:
    """structlog's event as keyword arguments of a stdlib logging call."""
    kwargs: dict[str, Any] = {"msg": event_dict.pop("event", "")}
    for name in ("exc_info", "stack_info", "stacklevel"):
        if name in event_dict:
            kwargs[name] = event_dict.pop(name)
    kwargs["extra"] = {FIELDS: event_dict}
    return kwargs


def _from_record(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """A record's own fields back in the event: structlog's key/values, or uvicorn's access
    line (its path already redacted by RedactedAccessLog) and socket handshake line as
    fields."""
    record: logging.LogRecord = event_dict["_record"]
    args = event_dict.pop("positional_args", ())
    fields = getattr(record, FIELDS, None)
    if isinstance(fields, dict):
        event_dict.update(fields)
    if record.name == "uvicorn.access" and isinstance(args, tuple) and len(args) == 5:
        client, method, path, version, status = args
        event_dict.update(
            event="request", client=client, method=method, path=path,
            http_version=version, status=status,
        )  # fmt: skip
        started = _request_started.get()
        if started is not None:  # the time to the response's start (its headers)
            event_dict["duration_ms"] = round((time.perf_counter() - started) * 1000, 1)
    elif record.name == "uvicorn.error" and str(record.msg).startswith(SOCKET_LINE):
        # '%s - "WebSocket %s" [accepted]' (or 403, or a close code): its path may carry a
        # query string, which is never logged.
        outcome = str(event_dict["event"]).rsplit(" ", 1)[-1].strip("[]")
        event_dict.update(event="websocket", outcome=outcome)
        if isinstance(args, tuple) and len(args) >= 2:
            event_dict.update(client=args[0], path=redact_path(str(args[1])))
    return event_dict


@contextmanager
def bound(**ids: object) -> Iterator[None]:
    """Every line logged inside carries these ids (those given as None are left out);
    the previous values come back at the end."""
    tokens = structlog.contextvars.bind_contextvars(
        **{key: value for key, value in ids.items() if value is not None}
    )
    try:
        yield
    finally:
        structlog.contextvars.reset_contextvars(**tokens)


def bind(**ids: object) -> None:
    """Ids for the rest of the request or socket connection (`request_scope` forgets them
    at its end): the user once the app knows who is asking, a socket's match."""
    structlog.contextvars.bind_contextvars(
        **{key: value for key, value in ids.items() if value is not None}
    )


@contextmanager
def request_scope(request_id: str) -> Iterator[None]:
    """One HTTP request or WebSocket connection: its id on every line, its start for the
    access line's duration; the ids bound inside it (`bind`) are forgotten at its end."""
    before = structlog.contextvars.get_contextvars().keys()
    started = _request_started.set(time.perf_counter())
    try:
        with bound(request_id=request_id):
            yield
    finally:
        structlog.contextvars.unbind_contextvars(*(key for key in IDS if key not in before))
        _request_started.reset(started)


# Prometheus scrapes and the load balancer's probes come every few seconds: their access
# lines would drown the others. One that failed (status 400 or more) is still logged.
QUIET_PATHS = frozenset({"/metrics", "/healthz", "/readyz"})


def quiet(path: str, status: object) -> bool:
    """Whether an access line is left out: a scrape or probe (`path` without its query)
    that did not fail."""
    return path in QUIET_PATHS and isinstance(status, int) and status < 400


class RedactedAccessLog(logging.Filter):
    """Rewrites uvicorn's access lines (args: client, method, path, version, status), and
    drops those of scrapes and probes that went well (QUIET_PATHS)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str):
            path = redact_path(args[2])
            if quiet(path, args[4]):
                return False
            record.args = (args[0], args[1], path, args[3], args[4])
        return True
