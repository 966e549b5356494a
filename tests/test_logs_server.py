"""A real `codebattle serve` with LOG_FORMAT=json: everything it writes (alembic's migration
lines, uvicorn's error and access lines, its local judge workers') is one JSON object a
line, and the access line carries the request's id and the signed-in user's."""

from __future__ import annotations

import json
import re
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.support.log_lines import parsed
from tests.support.servers import Server, Site


def get(server: Server, path: str, **headers: str) -> tuple[int, dict[str, str], Any]:
    request = urllib.request.Request(server.url + path, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
            return answer.status, dict(answer.headers), json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), None


@pytest.fixture
def site(tmp_path: Path) -> Site:
    return Site(tmp_path, env={"LOG_FORMAT": "json"})


def test_every_line_of_a_served_site_is_json_with_its_ids(site: Site) -> None:
    try:
        server = site.serve()
        token = site.token("alice")
        status, headers, me = get(
            server, "/api/me", Authorization=f"Bearer {token}", **{"X-Request-ID": "lb-7.a"}
        )
        assert status == 200 and headers["x-request-id"] == "lb-7.a"
        # (A probe that went well writes no access line: tests/test_logs_trace.py.)
        status, headers, _ = get(server, "/gone?code=c0ffee", **{"X-Request-ID": "two words"})
        made = headers["x-request-id"]
        assert status == 404 and re.fullmatch(r"[0-9a-f]{32}", made)
        status, _, _ = get(server, "/no-such-page", Authorization=f"Bearer {token}")
        assert status == 404
    finally:
        site.stop()
    lines = parsed(server.log.read_text())
    loggers = {line["logger"] for line in lines}
    assert {"uvicorn.error", "uvicorn.access", "alembic.runtime.migration"} <= loggers
    assert all({"event", "level", "logger", "timestamp"} <= line.keys() for line in lines)
    access = [line for line in lines if line["logger"] == "uvicorn.access"]
    (mine,) = [line for line in access if line["path"] == "/api/me"]
    assert mine["request_id"] == "lb-7.a" and mine["user_id"] == me["id"]
    assert (mine["event"], mine["method"], mine["status"]) == ("request", "GET", 200)
    assert mine["duration_ms"] >= 0 and mine["client"].startswith("127.0.0.1:")
    (anonymous,) = [line for line in access if line["request_id"] == made]
    assert anonymous["path"] == "/gone" and "user_id" not in anonymous  # no query string
    (missing,) = [line for line in access if line["path"] == "/no-such-page"]
    assert missing["status"] == 404  # no route: nobody asked who the caller was
    assert "c0ffee" not in server.log.read_text()
