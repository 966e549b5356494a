"""Log lines (codebattle/logs.py, web/request_ids.py): one JSON object each when JSON is on,
stdlib loggers' lines included, with the ids bound where they were written; a request's id
taken from a sane X-Request-ID or made, and echoed."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog
from fastapi import Request
from fastapi.testclient import TestClient
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket

from codebattle import logs
from codebattle.app import create_app
from codebattle.config import Environment, Settings
from codebattle.web.request_ids import RequestIds
from tests.support.log_lines import json_logging, parsed
from tests.support.site import settings_for, sign_in

log = structlog.get_logger("tests.test_logs")
GENERATED = re.compile(r"[0-9a-f]{32}")


@pytest.fixture
def lines(capsys: pytest.CaptureFixture[str]) -> Iterator[pytest.CaptureFixture[str]]:
    with json_logging():
        capsys.readouterr()  # what came before
        yield capsys


@pytest.mark.parametrize(
    ("environment", "chosen", "expected"),
    [
        ("production", "auto", "json"), ("preview", "auto", "json"),
        ("development", "auto", "console"), ("test", "auto", "console"),
        ("development", "json", "json"), ("test", "console", "console"),
    ],
)  # fmt: skip
def test_log_format_follows_the_setting_and_the_environment(
    environment: str, chosen: str, expected: str
) -> None:
    settings = Settings.model_construct(ENVIRONMENT=Environment(environment), LOG_FORMAT=chosen)
    assert logs.chosen_format(settings) == expected


def test_every_logger_writes_one_json_object_a_line(lines: pytest.CaptureFixture[str]) -> None:
    with logs.bound(match_id=7, job_id=None):
        # Keys a stdlib LogRecord has too ("message", "name") are kept as given.
        log.info("match started", message="hello", name="duel", players=2)
        try:
            raise ValueError("no such test")
        except ValueError:
            log.exception("judging failed", submission=5)
    logging.getLogger("sqlalchemy.pool").warning("connection %s invalidated", "c1")
    logging.getLogger("uvicorn.error").info("Application startup complete.")
    got = parsed(lines.readouterr().err)
    assert [line["event"] for line in got] == [
        "match started", "judging failed", "connection c1 invalidated",
        "Application startup complete.",
    ]  # fmt: skip
    first, failed, pool, _uvicorn = got
    assert first["match_id"] == 7 and "job_id" not in first
    assert (first["message"], first["name"], first["players"]) == ("hello", "duel", 2)
    assert first["level"] == "info" and first["logger"] == "tests.test_logs"
    assert first["timestamp"].endswith("Z")
    assert failed["level"] == "error" and "ValueError: no such test" in failed["exception"]
    assert pool["logger"] == "sqlalchemy.pool" and "match_id" not in pool


def test_the_access_line_is_fields_with_the_path_redacted(
    lines: pytest.CaptureFixture[str],
) -> None:
    access = logging.getLogger("uvicorn.access")
    with logs.request_scope("req-1"):
        access.info('%s - "%s %s HTTP/%s" %d', "10.0.0.1:5", "GET",
                    "/checkout/complete?billingKey=secret-key", "1.1", 303)  # fmt: skip
        access.info('%s - "%s %s HTTP/%s" %d', "10.0.0.1:5", "GET",
                    "/consent/eyJ1Ijo1fQ.signed", "1.1", 200)  # fmt: skip
    text = lines.readouterr().err
    assert "secret-key" not in text and "eyJ1Ijo1fQ" not in text
    first, second = parsed(text)
    assert first["event"] == "request" and first["request_id"] == "req-1"
    assert (first["client"], first["method"], first["path"], first["status"]) == (
        "10.0.0.1:5", "GET", "/checkout/complete", 303,
    )  # fmt: skip
    assert isinstance(first["duration_ms"], float) and first["duration_ms"] >= 0
    assert second["path"] == "/consent/…"


def test_a_socket_handshake_line_is_fields_without_its_query(
    lines: pytest.CaptureFixture[str],
) -> None:
    handshake = logging.getLogger("uvicorn.error")
    handshake.info('%s - "WebSocket %s" [accepted]', "10.0.0.2:7", "/ws/matches/5?ticket=s3cr3t")
    handshake.info('%s - "WebSocket %s" 403', "10.0.0.2:8", "/ws/rooms/x?ticket=s3cr3t")
    text = lines.readouterr().err
    assert "s3cr3t" not in text
    accepted, refused = parsed(text)
    assert (accepted["event"], accepted["outcome"], accepted["path"]) == (
        "websocket", "accepted", "/ws/matches/5",
    )  # fmt: skip
    assert (refused["outcome"], refused["client"]) == ("403", "10.0.0.2:8")


def test_bound_ids_end_with_their_block() -> None:
    with logs.bound(match_id=1):
        with logs.bound(match_id=2, submission_id=9):
            assert structlog.contextvars.get_contextvars() == {"match_id": 2, "submission_id": 9}
        assert structlog.contextvars.get_contextvars() == {"match_id": 1}
    assert structlog.contextvars.get_contextvars() == {}
    with logs.request_scope("r"):
        logs.bind(user_id=3, match_id=4)
        assert structlog.contextvars.get_contextvars() == {
            "request_id": "r", "user_id": 3, "match_id": 4,
        }  # fmt: skip
    assert structlog.contextvars.get_contextvars() == {}


@pytest.fixture
def app_client(tmp_path: Path, sqlite_url: str) -> Iterator[TestClient]:
    settings: Settings = settings_for(tmp_path, DATABASE_URL=sqlite_url.replace("+aiosqlite", ""))
    app = create_app(settings)

    async def probe(request: Request) -> dict[str, str]:
        log.info("probe")
        return {"ok": "yes"}

    app.add_api_route("/api/probe", probe)
    with TestClient(app, base_url="http://testserver") as client:
        yield client


def test_a_request_is_named_on_its_lines_and_in_its_answer(
    app_client: TestClient, lines: pytest.CaptureFixture[str]
) -> None:
    sign_in(app_client, "loggy")
    me = app_client.get("/api/me").json()
    lines.readouterr()
    answer = app_client.get("/api/probe", headers={"X-Request-ID": "lb-42.a:b_c"})
    assert answer.status_code == 200
    assert answer.headers["X-Request-ID"] == "lb-42.a:b_c"  # a sane incoming id is kept
    (probe,) = [line for line in parsed(lines.readouterr().err) if line["event"] == "probe"]
    assert probe["request_id"] == "lb-42.a:b_c"
    assert probe["user_id"] == me["id"]
    # A hostile or oversized id is replaced by a new one.
    for hostile in ("a b", "x" * 129, "<script>", "a/../b", ""):
        answer = app_client.get("/api/probe", headers={"X-Request-ID": hostile})
        made = answer.headers["X-Request-ID"]
        assert made != hostile and GENERATED.fullmatch(made), hostile
        (probe,) = [line for line in parsed(lines.readouterr().err) if line["event"] == "probe"]
        assert probe["request_id"] == made
    # Ids do not leak from one request into the next.
    app_client.cookies.clear()
    app_client.get("/api/probe")
    (probe,) = [line for line in parsed(lines.readouterr().err) if line["event"] == "probe"]
    assert "user_id" not in probe


def test_a_socket_has_its_id_too(lines: pytest.CaptureFixture[str]) -> None:
    async def socket(websocket: WebSocket) -> None:
        await websocket.accept()
        log.info("socket open")
        await websocket.send_json({"ok": True})
        await websocket.close()

    app = RequestIds(Starlette(routes=[WebSocketRoute("/ws", socket)]))
    with TestClient(app).websocket_connect("/ws", headers={"X-Request-ID": "ws-1"}) as ws:
        assert ws.receive_json() == {"ok": True}
    (line,) = [line for line in parsed(lines.readouterr().err) if line["event"] == "socket open"]
    assert line["request_id"] == "ws-1"


def test_migrate_logs_json_lines_when_json_is_on(tmp_path: Path) -> None:
    """`codebattle migrate` is Fly's release command: its lines (alembic's) are JSON like
    every other process's, not bare text Loki cannot read."""
    env = {"PATH": os.environ["PATH"], "DATA_DIR": str(tmp_path / "var"), "ENVIRONMENT": "test",
           "LOG_FORMAT": "json"}  # fmt: skip
    done = subprocess.run(
        [str(Path(sys.executable).with_name("codebattle")), "migrate"],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    assert done.stdout == "database is up to date\n"
    lines = parsed(done.stderr)  # every line JSON
    assert any(str(line["logger"]).startswith("alembic.") for line in lines), done.stderr
