"""Log lines and traces (codebattle/logs.py): a line written inside a span carries that
span's trace_id and span_id in hex, one written outside none; a real `codebattle serve`
sending spans to a local OTLP receiver writes its request's access line with the trace id
and span id of the server span it exported. Scrapes and probes that went well write no
access line; one that failed does."""

from __future__ import annotations

import logging
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog
from opentelemetry.sdk.trace import TracerProvider

from codebattle import logs
from codebattle.integrations import tracing
from tests.support.log_lines import json_logging, parsed
from tests.support.otlp_receiver import OtlpReceiver
from tests.support.servers import Server, Site

log = structlog.get_logger("tests.test_logs_trace")
ACCESS_LINE = '%s - "%s %s HTTP/%s" %d'


@pytest.fixture
def lines(capsys: pytest.CaptureFixture[str]) -> Iterator[pytest.CaptureFixture[str]]:
    with json_logging():
        capsys.readouterr()
        yield capsys


def test_a_line_inside_a_span_carries_its_ids_and_one_outside_none(
    lines: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # As the app, a worker and a local worker set it up (logs imports no tracing).
    monkeypatch.setattr(logs, "_current_trace", None)
    logs.use_trace_ids(tracing.current_ids)
    tracer = TracerProvider().get_tracer("tests")
    log.info("before")
    with tracer.start_as_current_span("outer") as span:
        log.info("inside", user_id=3)
        logging.getLogger("sqlalchemy.engine").warning("a stdlib line")
    log.info("after")
    before, inside, stdlib, after = parsed(lines.readouterr().err)
    context = span.get_span_context()
    assert inside["trace_id"] == f"{context.trace_id:032x}"
    assert inside["span_id"] == f"{context.span_id:016x}"
    assert (stdlib["trace_id"], stdlib["span_id"]) == (inside["trace_id"], inside["span_id"])
    assert len(inside["trace_id"]) == 32 and len(inside["span_id"]) == 16
    assert "trace_id" not in before and "span_id" not in before
    assert "trace_id" not in after and "span_id" not in after


def test_scrapes_and_probes_that_went_well_write_no_access_line(
    lines: pytest.CaptureFixture[str],
) -> None:
    access = logging.getLogger("uvicorn.access")
    for path, status in [
        ("/metrics", 200),
        ("/healthz?check=1", 200),
        ("/readyz", 200),
        ("/readyz", 503),  # a failing probe is what one looks for
        ("/metrics", 401),  # a scrape with the wrong token
        ("/metrics/extra", 404),
        ("/healthzz", 200),
        ("/api/me", 200),
    ]:
        access.info(ACCESS_LINE, "10.0.0.1:5", "GET", path, "1.1", status)
    kept = [(line["path"], line["status"]) for line in parsed(lines.readouterr().err)]
    assert kept == [
        ("/readyz", 503), ("/metrics", 401), ("/metrics/extra", 404), ("/healthzz", 200),
        ("/api/me", 200),
    ]  # fmt: skip
    assert logs.quiet("/metrics", 304) and not logs.quiet("/metrics", "200")


def get(server: Server, path: str, **headers: str) -> int:
    request = urllib.request.Request(server.url + path, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
            answer.read()
            return int(answer.status)
    except urllib.error.HTTPError as error:
        return error.code


def test_a_served_request_s_access_line_names_its_exported_server_span(tmp_path: Path) -> None:
    with OtlpReceiver() as receiver:
        site = Site(
            tmp_path,
            env={"LOG_FORMAT": "json", "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint},
        )
        try:
            server = site.serve()
            token = site.token("alice")
            assert get(server, "/api/me", Authorization=f"Bearer {token}") == 200
            assert get(server, "/metrics") == 200
            assert get(server, "/healthz") == 200
        finally:
            site.stop()  # the app's stop flushes its spans
        spans = receiver.wait_for(
            lambda found: any(s.kind == "server" and s.name == "GET /api/me" for s in found)
        )
    (request,) = [s for s in spans if s.kind == "server" and s.name == "GET /api/me"]
    lines = parsed(server.log.read_text())
    access = [line for line in lines if line.get("logger") == "uvicorn.access"]
    (mine,) = [line for line in access if line["path"] == "/api/me"]
    assert mine["trace_id"] == request.trace_id and mine["span_id"] == request.span_id
    # The scrape and the probe (before the stop; wait_healthy's probes too): no lines.
    assert not [line for line in access if line["path"] in ("/metrics", "/healthz")]
    # Start-up's lines are in no request's span: no ids.
    migrations = [line for line in lines if str(line.get("logger")).startswith("alembic.")]
    assert migrations and all("trace_id" not in line for line in migrations)
