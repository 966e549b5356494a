"""Structured logs: JSON lines in production, readable lines in development."""

from __future__ import annotations

import logging
import sys

import structlog

from codebattle.config import Environment, Settings


def configure(settings: Settings) -> None:
    json_logs = settings.ENVIRONMENT == Environment.production
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer() if json_logs else structlog.dev.ConsoleRenderer()
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        # sys.stderr as it is when a line is written, not when logging was set up: a
        # command run inside a test (or anything that swaps stderr) leaves a closed file.
        logger_factory=_stderr_logger,
    )
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(name)s %(message)s")
    # HTTP clients log every request's URL at INFO; some URLs carry what must never reach
    # a log (a billing key in a PortOne path, an OAuth code in a callback's query).
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, RedactedAccessLog) for f in access.filters):
        access.addFilter(RedactedAccessLog())


def _stderr_logger(*_args: object) -> structlog.PrintLogger:
    return structlog.PrintLogger(sys.stderr)


# Paths whose last part is a capability (whoever holds it may act): never logged.
SECRET_PATHS = ("/consent/",)


def redact_path(path: str) -> str:
    """A request path as the access log may show it: no query string (an OAuth callback's
    code, a checkout's billing key) and no capability in the path (a guardian's link)."""
    path = path.split("?", 1)[0]
    for prefix in SECRET_PATHS:
        if path.startswith(prefix):
            return prefix + "…"
    return path


class RedactedAccessLog(logging.Filter):
    """Rewrites uvicorn's access lines (args: client, method, path, version, status)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str):
            record.args = (args[0], args[1], redact_path(args[2]), args[3], args[4])
        return True
