"""OpenTelemetry traces against a local OTLP/HTTP receiver (tests/support/otlp_receiver.py):
a request's server span with its SQL and Redis children, an outside call's httpx client span,
a submission judged by a separate `codebattle worker` process in the submitting request's
trace, and nothing at all without OTEL_EXPORTER_OTLP_ENDPOINT."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi import Request
from fastapi.testclient import TestClient
from opentelemetry.instrumentation.redis import RedisInstrumentor

from codebattle.app import create_app
from codebattle.config import ConfigError, Settings
from codebattle.integrations import tracing, webhooks
from codebattle.integrations.webhooks import Message
from tests.support.fake_webhooks import SLACK_PATH, FakeWebhooks
from tests.support.otlp_receiver import OtlpReceiver, ReceivedSpan
from tests.support.redis_server import RedisServer, private_redis  # noqa: F401
from tests.support.site import import_problems, settings_for, sign_in, wait_done

CODEBATTLE = str(Path(sys.executable).parent / "codebattle")
CAPABILITY = "CAPABILITY-SECRET-4411"
SUM = "a, b = map(int, input().split())\nprint(a + b)  # traced-code-marker\n"


@pytest.fixture
def receiver() -> Iterator[OtlpReceiver]:
    with OtlpReceiver() as server:
        yield server
    tracing.shutdown()  # whatever a failed test left on


def by_name(spans: list[ReceivedSpan], name: str) -> list[ReceivedSpan]:
    return [span for span in spans if span.name == name]


def everything(spans: list[ReceivedSpan]) -> str:
    return repr([(span.name, span.attributes, span.events) for span in spans])


@pytest.fixture
def worker_site(
    tmp_path: Path,
    sqlite_url: str,
    private_redis: RedisServer,  # noqa: F811
    receiver: OtlpReceiver,
) -> Iterator[tuple[Settings, subprocess.Popen[bytes]]]:
    """The production shape: the API (here, in this process) and a `codebattle worker`
    process sharing Redis and the blob folder, both sending spans to the receiver."""
    settings = settings_for(
        tmp_path,
        DATABASE_URL=sqlite_url.replace("+aiosqlite", ""),
        REDIS_URL=private_redis.url,
        OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint,
        RELEASE="v-test-1",
    )
    import_problems(settings, "hello-battle")
    env = {
        "PATH": os.environ["PATH"],
        "REDIS_URL": private_redis.url,
        "DATA_DIR": str(settings.DATA_DIR),
        "ENVIRONMENT": "test",
        "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
        "RELEASE": "v-test-1",
    }
    worker = subprocess.Popen(
        [CODEBATTLE, "worker"], env=env, start_new_session=True, cwd=tmp_path,
        stdout=subprocess.DEVNULL, stderr=(tmp_path / "worker.log").open("wb"),
    )  # fmt: skip
    try:
        yield settings, worker
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()


def test_a_submission_is_one_trace_from_the_request_to_the_worker_s_judging(
    worker_site: tuple[Settings, subprocess.Popen[bytes]], receiver: OtlpReceiver
) -> None:
    settings, worker = worker_site
    with TestClient(create_app(settings), base_url="http://testserver") as client:
        csrf = sign_in(client)
        reply = client.post(
            "/api/submissions?lang=en",
            json={"problem": "hello-battle", "language": "python", "code": SUM},
            headers={"X-CSRF-Token": csrf},
        )
        assert reply.status_code == 201, reply.text
        submission = int(reply.json()["id"])
        assert wait_done(client, submission)["verdict"] == "AC"
        client.get("/healthz")  # excluded: no span
    # The app's stop flushed its spans; the worker sends its own within its batch delay.
    spans = receiver.wait_for(lambda found: bool(by_name(found, "judge job")))
    spans = receiver.wait_for(lambda found: bool(by_name(found, "record judge results")))

    posts = [s for s in spans if s.kind == "server" and s.name == "POST /api/submissions"]
    assert len(posts) == 1, sorted({s.name for s in spans})
    request = posts[0]
    assert request.service == "codebattle"
    assert request.resource["service.version"] == "v-test-1"
    assert request.resource["deployment.environment"] == "test"
    assert request.resource["service.instance.id"]
    assert request.attributes["http.route"] == "/api/submissions"
    assert "lang=en" not in everything([request])  # no query string kept
    children = [s for s in spans if s.parent_id == request.span_id]
    statements = [s.attributes.get("db.statement", "") for s in children]
    assert any(str(text).startswith("INSERT INTO submissions") for text in statements)
    redis_commands = {s.attributes.get("db.statement") for s in children if s.kind == "client"
                      and s.attributes.get("db.system") == "redis"}  # fmt: skip
    assert any(str(command).startswith("XADD") for command in redis_commands), redis_commands

    # The worker's judging: a child of the request's context, in its trace.
    (job,) = by_name(spans, "judge job")
    assert job.service == "codebattle-worker"
    assert job.resource["service.version"] == "v-test-1"
    assert job.trace_id == request.trace_id
    assert job.parent_id in {s.span_id for s in spans if s.trace_id == request.trace_id}
    assert job.attributes["codebattle.submission"] == submission
    assert job.attributes["codebattle.language"] == "python"
    assert job.attributes["codebattle.kind"] == "submit"
    assert job.attributes["codebattle.verdict"] == "AC"
    assert job.attributes["codebattle.tests"] >= 1
    events = [name for name, _attributes in job.events]
    assert events[0] == "compiled" and events.count("test") == job.attributes["codebattle.tests"]
    assert all(attrs["verdict"] == "AC" for name, attrs in job.events if name == "test")
    # Its results sent back over Redis are its children: started, compiled and done; the
    # tests' sends are no spans (their events on the job say it).
    sends = [s for s in spans if s.parent_id == job.span_id and s.kind == "client"]
    assert [str(s.attributes.get("db.statement")).split()[0] for s in sends] == ["XADD"] * 3

    # Recording the verdict: its own trace, linked to the job's span, with its SQL inside.
    recordings = by_name(spans, "record judge results")
    assert all(r.links for r in recordings)  # a batch of progress events alone is no trace
    linked = [r for r in recordings if (job.trace_id, job.span_id) in r.links]
    assert linked, [r.links for r in recordings]
    assert linked[0].trace_id != job.trace_id
    assert any(s.parent_id == linked[0].span_id and "db.statement" in s.attributes for s in spans)

    assert not [s for s in spans if "/healthz" in everything([s])]
    # Neither the code nor anything of it travels in a span (Redis commands are sanitised).
    assert "traced-code-marker" not in everything(spans)
    # A background loop's lone Redis polls and queries are no trace of their own.
    roots = [s for s in spans if not s.parent_id]
    assert all(s.kind != "client" or s.attributes.get("db.system") is None for s in roots)
    assert worker.poll() is None


async def test_an_outside_call_is_a_client_span_without_its_secret_url(
    tmp_path: Path, receiver: OtlpReceiver
) -> None:
    settings = settings_for(tmp_path, OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint)
    assert tracing.setup(settings, "api")
    with FakeWebhooks() as fake:
        client = webhooks.SlackWebhook(fake.slack_url, timeout=5.0)
        message = Message("title", "text", "https://example.org/x", datetime.now(UTC))
        outcome = await client.send(message)
        await client.aclose()
    assert outcome.status == "sent", outcome
    tracing.shutdown()  # flushes
    spans = receiver.wait_for(lambda found: any(s.kind == "client" for s in found))
    (call,) = [s for s in spans if s.kind == "client"]
    assert call.name == "POST"
    assert (
        call.attributes.get("http.status_code", call.attributes.get("http.response.status_code"))
        == 200
    )
    assert SLACK_PATH not in everything(spans) and "secret" not in everything(spans)
    assert call.attributes.get("url.full", call.attributes.get("http.url")) == (
        f"http://127.0.0.1:{fake.port}"
    )


def test_a_request_without_redis_has_its_sql_spans(
    tmp_path: Path, sqlite_url: str, receiver: OtlpReceiver
) -> None:
    settings = settings_for(
        tmp_path,
        DATABASE_URL=sqlite_url.replace("+aiosqlite", ""),
        OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint,
        OTEL_SERVICE_NAME="cb-api",
    )
    with TestClient(create_app(settings), base_url="http://testserver") as client:
        assert client.get("/problems").status_code == 200
        assert client.get("/static/app.css").status_code == 200
    spans = receiver.wait_for(lambda found: any(s.kind == "server" for s in found))
    (page,) = [s for s in spans if s.kind == "server"]  # none for /static
    assert page.name == "GET /problems" and page.service == "cb-api"
    sql = [s for s in spans if s.parent_id == page.span_id and "db.statement" in s.attributes]
    assert sql and all(s.attributes["db.system"] == "sqlite" for s in sql)
    assert any("FROM problems" in str(s.attributes["db.statement"]) for s in sql)


def test_without_an_endpoint_nothing_is_made_and_nothing_sent(
    tmp_path: Path, sqlite_url: str, receiver: OtlpReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[object] = []
    original = tracing.OTLPSpanExporter

    def counted(*args: object, **kwargs: object) -> object:
        made.append(kwargs)
        return original(*args, **kwargs)

    monkeypatch.setattr(tracing, "OTLPSpanExporter", counted)
    # One on before: no endpoint turns it off again (a process's settings decide).
    assert tracing.setup(settings_for(tmp_path, OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint),
                         "api")  # fmt: skip
    made.clear()
    settings = settings_for(tmp_path, DATABASE_URL=sqlite_url.replace("+aiosqlite", ""))
    assert settings.OTEL_EXPORTER_OTLP_ENDPOINT is None
    app = create_app(settings)
    assert tracing.config() is None and tracing.carrier() == {}
    assert not RedisInstrumentor().is_instrumented_by_opentelemetry
    with TestClient(app, base_url="http://testserver") as client:
        assert client.get("/problems").status_code == 200
    with tracing.job_span("judge job", {"traceparent": "00-" + "1" * 32 + "-" + "2" * 16 + "-01"},
                          {"codebattle.submission": 1}) as span:  # fmt: skip
        assert not span.is_recording()
    assert made == []
    assert receiver.posts == 0


def test_a_job_from_an_older_api_is_a_trace_of_its_own(
    tmp_path: Path, receiver: OtlpReceiver
) -> None:
    assert tracing.setup(settings_for(tmp_path, OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint),
                         "worker")  # fmt: skip
    with tracing.job_span("judge job", None, {"codebattle.submission": 7}) as span:
        assert span.is_recording()
    tracing.shutdown()
    (job,) = receiver.wait_for(lambda found: bool(found))
    assert job.parent_id == "" and job.service == "codebattle-worker"
    assert job.kind == "consumer" and job.attributes["codebattle.submission"] == 7


def test_the_endpoint_must_be_an_http_url(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="OTEL_EXPORTER_OTLP_ENDPOINT: must start with http"):
        settings_for(tmp_path, OTEL_EXPORTER_OTLP_ENDPOINT="collector:4318")
    settings = settings_for(tmp_path, OTEL_EXPORTER_OTLP_ENDPOINT="http://collector:4318/")
    assert settings.OTEL_EXPORTER_OTLP_ENDPOINT == "http://collector:4318"


def test_a_local_worker_process_judges_in_the_request_s_trace(
    tmp_path: Path, sqlite_url: str, receiver: OtlpReceiver
) -> None:
    """The embedded default: the app's own worker processes (judge/queue.py LocalQueue) are
    given its tracing on their command line."""
    settings = settings_for(
        tmp_path,
        DATABASE_URL=sqlite_url.replace("+aiosqlite", ""),
        OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint,
        JUDGE_WORKERS=1,
        JUDGE_URGENT_WORKERS=0,
    )
    import_problems(settings, "hello-battle")
    with TestClient(create_app(settings), base_url="http://testserver") as client:
        csrf = sign_in(client)
        reply = client.post(
            "/api/submissions",
            json={"problem": "hello-battle", "language": "python", "code": SUM},
            headers={"X-CSRF-Token": csrf},
        )
        assert reply.status_code == 201, reply.text
        assert wait_done(client, int(reply.json()["id"]))["verdict"] == "AC"
    spans = receiver.wait_for(lambda found: bool(by_name(found, "judge job")))
    (request,) = [s for s in spans if s.name == "POST /api/submissions"]
    (job,) = by_name(spans, "judge job")
    assert job.service == "codebattle-worker" and job.trace_id == request.trace_id
    assert job.resource["service.instance.id"] != request.resource["service.instance.id"]
    assert job.attributes["codebattle.verdict"] == "AC"


PERSONAL_ATTRIBUTES = ("net.peer.ip", "net.peer.port", "client.address", "client.port",
                       "http.user_agent", "user_agent.original")  # fmt: skip


def test_a_server_span_keeps_no_capability_no_client_address_and_no_user_agent(
    tmp_path: Path, sqlite_url: str, receiver: OtlpReceiver
) -> None:
    """A guardian's consent link is a capability (redaction.py): its span shows the path
    without it; no server span keeps the client's address or user agent, while the app
    itself still sees both (its rate limits and sessions use them)."""
    settings = settings_for(
        tmp_path,
        DATABASE_URL=sqlite_url.replace("+aiosqlite", ""),
        OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint,
    )
    app = create_app(settings)
    seen: list[tuple[Any, str]] = []

    async def who(request: Request) -> dict[str, str]:
        seen.append((request.client, request.headers.get("user-agent", "")))
        return {}

    app.add_api_route("/api/who", who, methods=["GET"])
    agent = {"User-Agent": "AGENT-SECRET/1.0"}
    with TestClient(app, base_url="http://testserver") as client:
        client.get(f"/consent/{CAPABILITY}?from=mail", headers=agent)
        assert client.get("/api/who", headers=agent).status_code == 200
    assert seen == [(("testclient", 50000), "AGENT-SECRET/1.0")]
    spans = receiver.wait_for(lambda found: len([s for s in found if s.kind == "server"]) == 2)
    who_span, consent = sorted((s for s in spans if s.kind == "server"), key=lambda s: s.name)
    assert consent.name == "GET /consent/{token}" and who_span.name == "GET /api/who"
    assert consent.attributes["http.target"] == "/consent/…"
    assert CAPABILITY not in everything(spans) and "from=mail" not in everything(spans)
    for span in (consent, who_span):
        assert not set(PERSONAL_ATTRIBUTES) & set(span.attributes), span.attributes
    assert "AGENT-SECRET" not in everything(spans) and "testclient" not in everything(spans)
