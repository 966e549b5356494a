"""Errors to Sentry (integrations/sentry.py), against a local Sentry receiver
(tests/support/fake_sentry.py): a route's crash and a worker's failed job arrive once each,
with environment, release and the ids as tags, and without the code, the session cookie,
the token, the e-mail address or the query string put in on purpose."""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sentry_sdk
import structlog
from fastapi import Request
from fastapi.testclient import TestClient
from sqlalchemy import text

from codebattle.accounts import service as accounts
from codebattle.app import create_app
from codebattle.config import ConfigError, Settings
from codebattle.db.session import Database
from codebattle.integrations import sentry
from codebattle.judge.queue import RedisQueue
from tests.support.fake_sentry import FakeSentry
from tests.support.log_lines import json_logging, parsed
from tests.support.site import settings_for, sign_in

CODEBATTLE = str(Path(sys.executable).parent / "codebattle")
RELEASE = "codebattle@9.9.9-test"
EMAIL = "alice.kim@example.com"
CODE = "print('CODE-SECRET-4242')  # mail alice.kim@example.com"
QUERY_SECRET = "QUERY-SECRET-77"
log = structlog.get_logger("tests.sentry")


@pytest.fixture
def fake() -> Iterator[FakeSentry]:
    with FakeSentry() as server:
        yield server
        # Reporting off again for the tests that follow in this process.
        sentry_sdk.get_client().close()
        sentry_sdk.get_global_scope().set_client(None)


def test_scrubbing_leaves_nothing_personal() -> None:
    event: Any = {
        "level": "error",
        "message": f"mail to {EMAIL} failed",
        "logentry": {"message": f"GET /oauth/callback?code=abc&state={QUERY_SECRET} failed"},
        "request": {
            "url": f"https://codebattle.example/api/x?token={QUERY_SECRET}",
            "query_string": f"token={QUERY_SECRET}",
            "cookies": {"codebattle_session": "SESSION-VALUE"},
            "data": {"code": CODE},
            "headers": {
                "Authorization": "Bearer TOKEN-VALUE-123456",
                "User-Agent": "curl/8",
                "Cookie": "codebattle_session=SESSION-VALUE",
            },
        },  # fmt: skip
        "extra": {"fields": {"code": CODE, "stdin": "1 2", "contact": EMAIL, "path": "/x"}},
        "user": {"id": 5, "email": EMAIL},
        "breadcrumbs": {"values": [{"message": "Authorization: Bearer TOKEN-VALUE-123456"}]},
    }
    with structlog.contextvars.bound_contextvars(request_id="r-1", match_id=9, user_id=5):
        scrubbed = sentry.scrub_event(event, {})
    text = repr(scrubbed)
    for secret in (EMAIL, "CODE-SECRET", QUERY_SECRET, "SESSION-VALUE", "TOKEN-VALUE", "1 2"):
        assert secret not in text, secret
    assert scrubbed["tags"] == {"request_id": "r-1", "match_id": "9"}  # no user id
    assert "user" not in scrubbed
    assert scrubbed["request"]["url"] == "https://codebattle.example/api/x"
    assert scrubbed["request"]["headers"]["User-Agent"] == "curl/8"
    assert scrubbed["extra"]["fields"]["path"] == "/x"  # what is not personal stays
    crumb = sentry.scrub_breadcrumb({"message": f"sent to {EMAIL}", "data": {"code": CODE}}, {})
    assert EMAIL not in repr(crumb) and "CODE-SECRET" not in repr(crumb)


def test_the_same_error_is_sent_once_a_minute() -> None:
    repeats = sentry.Repeats(seconds=60)
    failed: Any = {"logger": "codebattle.battles.live", "logentry": {"message": "step failed"},
                   "exception": {"values": [{"type": "KeyError", "value": "'x'"}]}}  # fmt: skip
    other: Any = {**failed, "exception": {"values": [{"type": "ValueError"}]}}
    assert repeats.first(failed, now=100.0)
    assert not repeats.first(failed, now=130.0)  # a loop failing again: dropped
    assert repeats.first(other, now=130.0)  # another error: sent
    assert repeats.first(failed, now=161.0)  # a minute later: sent again


def _crash(function: str, line: int, transaction: str) -> Any:
    frame = {"filename": "codebattle/web/routes/x.py", "function": function, "lineno": line}
    return {
        "logger": "codebattle.app", "logentry": {"message": "unhandled error"},
        "transaction": transaction,
        "exception": {"values": [{"type": "KeyError", "stacktrace": {"frames": [frame]}}]},
    }  # fmt: skip


def test_two_routes_crashing_alike_are_two_errors() -> None:
    """Every route's crash is the line "unhandled error": where it was raised and the route
    tell two KeyErrors apart; the same crash again within the minute is still dropped."""
    repeats = sentry.Repeats(seconds=60)
    assert repeats.first(_crash("join", 10, "/api/rooms/{id}"), now=100.0)
    assert repeats.first(_crash("leave", 20, "/api/rooms/{id}"), now=101.0)  # another place
    assert repeats.first(_crash("join", 10, "/api/battles/{id}"), now=102.0)  # another route
    assert not repeats.first(_crash("join", 10, "/api/rooms/{id}"), now=110.0)  # the same


def test_the_receiver_reads_envelopes_and_bare_events(fake: FakeSentry) -> None:
    """The fake itself: a gzip envelope with a length-prefixed item and one ended by a
    newline, and an old client's bare event on /store/."""
    first, second = b'{"event_id": "a1", "level": "error"}', b'{"event_id": "a2"}'
    envelope = (
        b'{"event_id": "a1"}\n'
        + json.dumps({"type": "event", "length": len(first)}).encode() + b"\n" + first + b"\n"
        + b'{"type": "event"}\n' + second + b"\n"
    )  # fmt: skip
    for path, body, encoding in (
        ("/api/1/envelope/", gzip.compress(envelope), "gzip"),
        ("/api/1/store/", b'{"event_id": "a3"}', ""),
    ):
        request = urllib.request.Request(
            f"http://127.0.0.1:{fake.port}{path}", data=body, method="POST",
            headers={"Content-Encoding": encoding} if encoding else {},
        )  # fmt: skip
        with urllib.request.urlopen(request, timeout=5) as answer:  # noqa: S310
            assert answer.status == 200
    assert [event["event_id"] for event in fake.events] == ["a1", "a2", "a3"]


@pytest.mark.parametrize("dsn", ["not a dsn", "https://sentry.io/1", "https://k@host/", "k@h/1"])
def test_a_malformed_dsn_stops_start_up_with_one_line(tmp_path: Path, dsn: str) -> None:
    with pytest.raises(ConfigError) as caught:
        settings_for(tmp_path, SENTRY_DSN=dsn)
    assert str(caught.value) == (
        "SENTRY_DSN: must look like https://<public key>@<host>/<project id>"
    )


def test_without_a_dsn_nothing_is_started(tmp_path: Path) -> None:
    assert sentry.init(settings_for(tmp_path), server_name="x", component="api") is False
    assert not sentry_sdk.get_client().is_active()


async def _token_for(settings: Settings, nickname: str) -> str:
    db = Database(settings.database_url)
    try:
        async with db.session() as session:
            user = await accounts.ensure_user(session, nickname)
            _token, plain = await accounts.create_token(session, user, "sentry test")
            return plain
    finally:
        await db.dispose()


def test_a_crash_in_a_route_is_reported_once_and_scrubbed(
    tmp_path: Path, sqlite_url: str, fake: FakeSentry, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = settings_for(
        tmp_path, DATABASE_URL=sqlite_url.replace("+aiosqlite", ""), SENTRY_DSN=fake.dsn,
        RELEASE=RELEASE,
    )  # fmt: skip
    app = create_app(settings)

    async def boom(request: Request) -> None:
        body = await request.json()
        log.warning("saving a draft", code=body["code"], contact=EMAIL)  # a breadcrumb
        raise RuntimeError(f"draft not saved for {EMAIL}")

    app.add_api_route("/api/boom", boom, methods=["POST"])
    token = asyncio.run(_token_for(settings, "crasher"))
    with json_logging(), TestClient(app, raise_server_exceptions=False) as client:
        sign_in(client, "cookie-holder")
        session_cookie = client.cookies["codebattle_session"]
        capsys.readouterr()
        answer = client.post(
            f"/api/boom?token={QUERY_SECRET}&email={EMAIL}",
            json={"code": CODE, "email": EMAIL},
            headers={"Authorization": f"Bearer {token}", "X-Request-ID": "boom-1"},
        )
        assert answer.status_code == 500 and answer.headers["X-Request-ID"] == "boom-1"
        sentry.flush(5)
        lines = parsed(capsys.readouterr().err)
    (event,) = fake.wait_for_events(1)
    time.sleep(0.3)
    sentry.flush(5)
    assert len(fake.events) == 1  # the 500 handler's log line and uvicorn's: one event
    assert event["environment"] == "test" and event["release"] == RELEASE
    assert event["server_name"] == app.state.services.instance
    assert event["tags"]["request_id"] == "boom-1" and event["tags"]["component"] == "api"
    assert event["exception"]["values"][-1]["type"] == "RuntimeError"
    crumbs = [c.get("message") for c in event.get("breadcrumbs", {}).get("values", [])]
    assert "saving a draft" in crumbs  # breadcrumbs kept, scrubbed
    raw = fake.raw().decode()
    for secret in ("CODE-SECRET", EMAIL, token, session_cookie, QUERY_SECRET):
        assert secret not in raw, secret
    assert "sentry_key=public" in fake.envelopes[0].auth
    kinds = {item["type"] for envelope in fake.envelopes for item, _payload in envelope.items}
    assert "log" not in kinds  # log lines go to Loki, never to Sentry
    (logged,) = [line for line in lines if line["event"] == "unhandled error"]
    assert logged["request_id"] == "boom-1" and "RuntimeError" in logged["exception"]


PARAM_SECRET = "PARAM-SECRET-5521"
CAPABILITY = "CAPABILITY-SECRET-8086"


def _crashing_routes(app: Any) -> None:
    """Three routes that crash: a failed INSERT whose parameters hold a draft's code, and two
    KeyErrors from different places, one under a guardian's consent link."""

    async def save_draft(request: Request) -> None:
        services = request.app.state.services
        async with services.db.session() as session:
            await session.execute(text("CREATE TEMP TABLE drafts (code TEXT, n INTEGER NOT NULL)"))
            await session.execute(
                text("INSERT INTO drafts (code, n) VALUES (:code, :n)"),
                {"code": f"print('{PARAM_SECRET}') # {EMAIL}", "n": None},
            )

    async def consent_crash(token: str) -> None:
        raise KeyError("guardian")

    async def other_crash() -> None:
        raise KeyError("opponent")

    app.add_api_route("/api/drafts", save_draft, methods=["POST"])
    app.add_api_route("/consent/{token}/crash", consent_crash, methods=["GET"])
    app.add_api_route("/api/other-crash", other_crash, methods=["GET"])


def test_a_database_error_and_a_consent_link_leave_no_secret_in_logs_or_events(
    tmp_path: Path, sqlite_url: str, fake: FakeSentry, capsys: pytest.CaptureFixture[str]
) -> None:
    """A failed statement's parameters (code, an e-mail address) and a consent link's
    capability reach neither the JSON log lines nor Sentry; two routes' KeyErrors within a
    minute are two events (both are "unhandled error" lines)."""
    settings = settings_for(
        tmp_path, DATABASE_URL=sqlite_url.replace("+aiosqlite", ""), SENTRY_DSN=fake.dsn
    )
    app = create_app(settings)
    _crashing_routes(app)
    with json_logging(), TestClient(app, raise_server_exceptions=False) as client:
        capsys.readouterr()
        assert client.post("/api/drafts", json={}).status_code == 500
        assert client.get(f"/consent/{CAPABILITY}/crash?x=1").status_code == 500
        assert client.get("/api/other-crash").status_code == 500
        sentry.flush(5)
        lines = parsed(capsys.readouterr().err)
    events = fake.wait_for_events(3)
    time.sleep(0.3)
    sentry.flush(5)
    assert len(fake.events) == 3
    crashes = [line for line in lines if line["event"] == "unhandled error"]
    assert [line["path"] for line in crashes] == ["/api/drafts", "/consent/…", "/api/other-crash"]
    assert "IntegrityError" in crashes[0]["exception"]
    assert "parameters hidden" in crashes[0]["exception"]
    logged = json.dumps(lines)
    raw = fake.raw().decode()
    for secret in (PARAM_SECRET, CAPABILITY, EMAIL):
        assert secret not in logged, secret
        assert secret not in raw, secret
    types = sorted(event["exception"]["values"][-1]["type"] for event in events)
    assert types == ["IntegrityError", "KeyError", "KeyError"]
    urls = {event["request"]["url"] for event in events}
    assert "http://testserver/consent/…" in urls


def test_a_workers_failed_job_is_reported_with_its_ids(
    tmp_path: Path, redis_url: str, fake: FakeSentry
) -> None:
    env = {
        "PATH": os.environ["PATH"], "REDIS_URL": redis_url, "DATA_DIR": str(tmp_path / "var"),
        "ENVIRONMENT": "test", "SENTRY_DSN": fake.dsn, "RELEASE": RELEASE, "LOG_FORMAT": "json",
    }  # fmt: skip
    errors = tmp_path / "worker.log"
    with errors.open("wb") as stderr:
        worker = subprocess.Popen(
            [CODEBATTLE, "worker"], env=env, cwd=tmp_path, stderr=stderr, start_new_session=True
        )
    try:
        job: Any = {
            "submission": 987654, "kind": "submit", "language": "python", "code": CODE,
            "package_key": "packages/no-such-package.tar.gz", "time_limit": 1.0, "stdin": "",
            "run_all": False, "priority": 0,
        }  # fmt: skip
        asyncio.run(_enqueue(redis_url, job))
        (event,) = fake.wait_for_events(1, timeout=60)
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(30)
    assert event["environment"] == "test" and event["release"] == RELEASE
    assert event["tags"]["submission_id"] == "987654" and event["tags"]["job_id"]
    assert event["tags"]["component"] == "worker"
    assert event["logentry"]["message"] == "judge job failed"
    assert "CODE-SECRET" not in fake.raw().decode() and EMAIL not in fake.raw().decode()
    lines = parsed(errors.read_text())
    (failed,) = [line for line in lines if line["event"] == "judge job failed"]
    assert failed["submission_id"] == 987654 and failed["job_id"] == event["tags"]["job_id"]


def test_a_local_workers_failed_job_is_reported_as_its_app_says(
    tmp_path: Path, fake: FakeSentry
) -> None:
    """The embedded default's judge process gets the app's Sentry settings in its
    environment (sentry.child_environment, passed by LocalQueue) and reports like it."""
    settings = settings_for(tmp_path, SENTRY_DSN=fake.dsn, RELEASE=RELEASE)
    assert sentry.init(settings, server_name="api-1", component="api")
    given = sentry.child_environment()
    assert given == {"SENTRY_DSN": fake.dsn, "SENTRY_ENVIRONMENT": "test", "RELEASE": RELEASE}
    env = {"PATH": os.environ["PATH"], "DATA_DIR": str(tmp_path / "var"), "LOG_FORMAT": "json",
           **given}  # fmt: skip
    job = {
        "submission": 4321, "kind": "submit", "language": "python", "code": CODE,
        "package_key": "packages/no-such-package.tar.gz", "time_limit": 1.0, "stdin": "",
        "run_all": False,
    }  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-m", "codebattle.judge.local_worker"], input=json.dumps(job) + "\n",
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    assert json.loads(done.stdout.splitlines()[-1])["result"]["verdict"] == "IE"
    (event,) = fake.wait_for_events(1)
    assert event["environment"] == "test" and event["release"] == RELEASE
    assert event["tags"]["submission_id"] == "4321" and event["tags"]["component"] == "worker"
    assert "CODE-SECRET" not in fake.raw().decode() and EMAIL not in fake.raw().decode()
    (failed,) = [line for line in parsed(done.stderr) if line["event"] == "judge job failed"]
    assert failed["submission_id"] == 4321


async def _enqueue(url: str, job: Any) -> None:
    queue = RedisQueue(url, 30.0)
    try:
        await queue.enqueue(job)
    finally:
        await queue.client.aclose()
