"""The fleet page with per-language worker pools (issue 16): each worker's image is shown
(and in the JSON), and a language whose jobs wait in the shared queue with no live worker
of its pool is said at the top, per language, in English and Korean; a language whose pool
is alive, or with nothing queued, is not."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from codebattle.judge.queue import Backlog, WorkerInfo
from codebattle.ops import fleet
from codebattle.services import Services
from tests.web.test_flag_pages import _staff, run


def test_the_pools_images_and_a_language_no_worker_serves(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    client.cookies.set("lang", "en")
    client.headers["Authorization"] = run(client, _staff, "opal", "operator")
    services: Services = client.app.state.services  # type: ignore[attr-defined]
    now = datetime.now(UTC).timestamp()

    async def pools(now_: float | None = None) -> list[WorkerInfo]:
        return [
            WorkerInfo("worker-py-1", ("python",), now - 60, now, True, None, "judge-py:3"),
            WorkerInfo("worker-cpp-1", ("cpp",), now - 600, now - 300, False, now - 300,
                       "judge-cpp:3"),
            WorkerInfo("worker-old-1", ("java", "python"), now - 60, now, True, None),
        ]  # fmt: skip

    async def backlog(now_: float | None = None) -> dict[str, Backlog]:
        return {
            "cpp": Backlog(3, 1, 125.0),  # its only worker died: unserved
            "java": Backlog(2, 0, 5.0),  # served by the old mixed worker
            "pypy": Backlog(0, 0, 0.0),  # no worker, but nothing waits
            "python": Backlog(0, 0, 0.0),
        }

    monkeypatch.setattr(services.queue, "fleet", pools)
    monkeypatch.setattr(services.queue, "backlog", backlog, raising=False)
    monkeypatch.setattr(fleet, "queue_kind", lambda queue: "redis")

    html = client.get("/ops/fleet").text
    assert 'id="unserved-cpp"' in html and "No live worker judges C++17 (g++): 4 job(s)" in html
    assert 'id="unserved-java"' not in html and 'id="unserved-pypy"' not in html
    assert '<th scope="col">Image</th>' in html
    assert 'data-label="Image">judge-py:3</td>' in html
    assert 'data-label="Image">–</td>' in html  # an older worker's beat has no image
    data = client.get("/api/ops/fleet").json()
    assert data["unserved"] == ["cpp"]
    assert data["backlog"]["cpp"] == {"depth": 3, "taken": 1, "oldest_seconds": 125.0}
    assert [w["image"] for w in data["workers"]] == ["judge-py:3", "judge-cpp:3", ""]

    client.cookies.set("lang", "ko")
    korean = client.get("/ops/fleet").text
    assert "살아 있는 C++17 (g++) 채점 워커가 없습니다" in korean and "이미지" in korean


def test_an_embedded_queue_has_no_unserved_language(client: TestClient) -> None:
    client.cookies.set("lang", "en")
    client.headers["Authorization"] = run(client, _staff, "opal", "operator")
    data = client.get("/api/ops/fleet").json()
    assert data["unserved"] == [] and set(data["backlog"]) >= {"cpp", "python"}
    assert all(w["image"] == "" for w in data["workers"])
