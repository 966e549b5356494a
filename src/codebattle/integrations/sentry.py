"""Errors to Sentry (SENTRY_DSN), from the API and from judge workers, with personal data
scrubbed before anything leaves the process.

What is reported: every line logged at ERROR or above (log.exception included: the app's
500 handler, a worker's failed job), through Sentry's logging integration (codebattle/logs.py
sends every line through stdlib logging), and what Sentry's ASGI integration catches. Sentry
drops the same exception seen twice (its dedupe integration), so a crash in a route that
the 500 handler logs and uvicorn logs again is one event. The same error (logger, message,
exception type, where it was raised, route) is sent at most once a minute per process
(`Repeats`): a background loop failing every tick is one event a minute, not two a second,
while two routes' crashes, both logged as "unhandled error", are two events.

What never leaves: a submission's code (and a run's stdin), request bodies, cookies,
Authorization and other credentials, query strings, a capability in a path (a guardian's
consent link: redaction.py), e-mail addresses, frames' local variables. Tags: the ids
bound for the log lines (request_id, match_id, room_id, submission_id, job_id) and the
component (api, worker).
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Mapping
from importlib import metadata
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit

import sentry_sdk
import structlog
from sentry_sdk.integrations.logging import LoggingIntegration

from codebattle.config import Settings
from codebattle.redaction import redact_path

if TYPE_CHECKING:
    from sentry_sdk._types import Breadcrumb, BreadcrumbHint, Event, Hint

FILTERED = "[Filtered]"
REPEAT_SECONDS = 60.0  # the same error (`Repeats.key_of`) once a minute
REPEATS_KEPT = 1000
TAGGED_IDS = ("request_id", "match_id", "room_id", "submission_id", "job_id")
# A key whose value is dropped wherever it appears in an event (exact names).
SECRET_KEYS = frozenset({"code", "source", "stdin", "body", "cookies", "query_string", "user"})
# ... and any key containing one of these.
SECRET_PARTS = (
    "password", "passwd", "token", "secret", "cookie", "authorization", "session", "email",
    "api_key", "apikey", "dsn", "credential", "billing",
)  # fmt: skip
# Request headers kept as they are; every other header's value is filtered.
SAFE_HEADERS = frozenset(
    {"accept", "accept-language", "content-type", "content-length", "host", "user-agent",
     "x-request-id", "origin"}
)  # fmt: skip
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
QUERY = re.compile(r"(https?://[^\s?#\"']*|(?<![\w/])/[^\s?#\"']*)\?[^\s#\"']*")
BEARER = re.compile(r"(?i)\b(bearer|token|basic)\s+[A-Za-z0-9._~+/=-]{8,}")
# Fields of a Sentry event that are its own structure, not data: never filtered by name.
EVENT_FIELDS = frozenset({"event_id", "timestamp", "platform", "level", "logger", "release",
                          "environment", "server_name", "sdk", "modules", "type"})  # fmt: skip


def init(settings: Settings, *, server_name: str, component: str) -> bool:
    """Start reporting when SENTRY_DSN is set; True if it was."""
    if settings.SENTRY_DSN is None:
        return False
    sentry_sdk.init(
        dsn=settings.SENTRY_DSN.get_secret_value(),
        environment=settings.SENTRY_ENVIRONMENT or settings.ENVIRONMENT.value,
        release=settings.RELEASE or f"codebattle@{metadata.version('codebattle')}",
        server_name=server_name,
        # What the SDK collects by itself (sentry-sdk 3 replaced send_default_pii with this):
        # no user, cookies, bodies, query strings or local variables; before_send checks again.
        data_collection={
            "user_info": False,
            "cookies": {"mode": "off"},
            "http_headers": {"request": {"mode": "allowlist", "terms": sorted(SAFE_HEADERS)}},
            "http_bodies": [],
            "url_query_params": {"mode": "off"},
            "stack_frame_variables": False,
            "database_query_data": False,
            "gen_ai": {"inputs": False, "outputs": False},
        },
        # Lines at ERROR and above become events, lower ones breadcrumbs; none is sent as a
        # Sentry log (sentry-sdk 3 sends every INFO line by default): the logs go to Loki.
        integrations=[
            LoggingIntegration(level=None, event_level=logging.ERROR, breadcrumb_level=logging.INFO)
        ],
        before_send=before_send,
        before_breadcrumb=scrub_breadcrumb,
        traces_sample_rate=None,  # traces go to OpenTelemetry, not here
    )
    sentry_sdk.set_tag("component", component)
    global _repeats
    _repeats = Repeats()  # a new start forgets what was sent
    return True


def child_environment() -> dict[str, str]:
    """The settings a process this one starts (a local judge worker: judge/queue.py) needs
    to report as this one does; none when this one does not report."""
    client = sentry_sdk.get_client()
    if not client.is_active():
        return {}
    options = client.options
    return {
        "SENTRY_DSN": str(options["dsn"]),
        "SENTRY_ENVIRONMENT": str(options["environment"]),
        "RELEASE": str(options["release"]),
    }


def flush(timeout: float = 2.0) -> None:
    """Send what is queued (a worker about to exit)."""
    if sentry_sdk.get_client().is_active():
        sentry_sdk.flush(timeout)


class Repeats:
    """Drops an error seen again within `seconds` in this process: a background loop that
    fails each tick (every half second) would otherwise send an event each time."""

    def __init__(self, seconds: float = REPEAT_SECONDS) -> None:
        self.seconds = seconds
        self._last: dict[tuple[str, ...], float] = {}
        self._lock = threading.Lock()

    @staticmethod
    def key_of(event: Event) -> tuple[str, ...]:
        """What makes two events the same error: logger, message, exception type, the
        innermost frame (file:function:line) and the transaction (a request's route). Every
        route's crash is logged as "unhandled error": the frame and route tell them apart."""
        exceptions = (event.get("exception") or {}).get("values") or [{}]
        logentry = event.get("logentry") or {}
        frames = (exceptions[-1].get("stacktrace") or {}).get("frames") or [{}]
        frame = frames[-1]
        return (
            str(event.get("logger", "")),
            str(logentry.get("message", event.get("message", ""))),
            str(exceptions[-1].get("type", "")),
            f"{frame.get('filename', '')}:{frame.get('function', '')}:{frame.get('lineno', '')}",
            str(event.get("transaction", "")),
        )

    def first(self, event: Event, now: float | None = None) -> bool:
        """True if `event` was not seen within the window (and notes it as seen now)."""
        key = self.key_of(event)
        now = time.monotonic() if now is None else now
        with self._lock:
            if now - self._last.get(key, -self.seconds) < self.seconds:
                return False
            if len(self._last) >= REPEATS_KEPT:  # old keys go before the table grows
                self._last = {k: t for k, t in self._last.items() if now - t < self.seconds}
            self._last[key] = now
            return True


_repeats = Repeats()


def before_send(event: Event, hint: Hint) -> Event | None:
    return scrub_event(event, hint) if _repeats.first(event) else None


def scrub_event(event: Event, _hint: Hint) -> Event:
    """before_send: the ids as tags, then nothing personal left in the event."""
    tags = dict(event.get("tags") or {})
    bound = structlog.contextvars.get_contextvars()
    for name in TAGGED_IDS:
        if bound.get(name) is not None:
            tags[name] = str(bound[name])
    event.pop("user", None)  # the SDK collects none (user_info off); none is ever sent
    request = event.get("request")
    if isinstance(request, dict):
        _scrub_request(request)
    scrubbed = {
        key: (value if key in EVENT_FIELDS else scrub(value, key)) for key, value in event.items()
    }
    scrubbed["tags"] = tags
    return cast("Event", scrubbed)


def scrub_breadcrumb(crumb: Breadcrumb, _hint: BreadcrumbHint) -> Breadcrumb:
    """before_breadcrumb: a log line's, an HTTP call's or a query's crumb, scrubbed alike."""
    return cast("Breadcrumb", {key: scrub(value, key) for key, value in crumb.items()})


def _scrub_request(request: dict[str, Any]) -> None:
    for key in ("data", "cookies", "query_string", "env"):
        request.pop(key, None)
    if isinstance(request.get("url"), str):
        url = urlsplit(request["url"])
        request["url"] = url._replace(path=redact_path(url.path), query="", fragment="").geturl()
    headers = request.get("headers")
    if isinstance(headers, Mapping):
        request["headers"] = {
            name: value if str(name).lower() in SAFE_HEADERS else FILTERED
            for name, value in headers.items()
        }


def scrub(value: Any, key: str = "") -> Any:
    """`value` (under `key`) with secrets filtered out, walking dicts and lists."""
    lowered = key.lower()
    if lowered in SECRET_KEYS or any(part in lowered for part in SECRET_PARTS):
        return FILTERED if value not in (None, "", [], {}) else value
    if isinstance(value, Mapping):
        return {k: scrub(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrub(item) for item in value]
    if isinstance(value, str):
        return scrub_text(value)
    return value


def scrub_text(text: str) -> str:
    """A message's e-mail addresses, query strings and bearer tokens filtered out."""
    text = EMAIL.sub(FILTERED, text)
    text = QUERY.sub(lambda m: m.group(1) + "?" + FILTERED, text)
    return BEARER.sub(lambda m: m.group(1) + " " + FILTERED, text)
