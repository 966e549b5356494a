"""The fleet page (web/routes/ops_fleet.py): an operator sees the workers (the embedded
default's, alive), the queue, the last hour's judging and this instance's heartbeat, in
English and Korean, and the JSON; a failing webhook and "no workers alive" are said at the
top; a player, a moderator and someone signed out get 404."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from codebattle.judge.queue import WorkerInfo
from codebattle.ops import alerts, fleet
from codebattle.services import Services
from tests.support.site import sign_in
from tests.web.test_flag_pages import _staff, run


def test_an_operator_sees_the_fleet(client: TestClient) -> None:
    client.cookies.set("lang", "en")
    client.headers["Authorization"] = run(client, _staff, "opal", "operator")
    services: Services = client.app.state.services  # type: ignore[attr-defined]
    client.portal.call(fleet.beat, services, "this-one", datetime.now(UTC), datetime.now(UTC))  # type: ignore[union-attr]

    page = client.get("/ops/fleet")
    assert page.status_code == 200
    html = page.text
    assert '<h1 id="fleet-title">Fleet</h1>' in html
    assert 'aria-current="page"' in html and 'id="ops-nav-fleet"' in html
    for table in ("workers", "queue", "judging", "instances"):
        assert f'<table class="fleet" id="{table}">' in html
        assert re.search(rf'id="{table}">\s*<caption>', html), table
    assert html.count('tabindex="0" role="region"') >= 4
    assert "thread-" in html and "Alive" in html  # the in-process queue's worker threads
    assert 'id="no-workers"' not in html
    assert "Nothing is waiting to be judged." in html
    assert '<td class="num" id="judged">0</td>' in html
    data = client.get("/api/ops/fleet").json()
    assert data["workers_alive"] == len(data["workers"]) == services.settings.JUDGE_WORKERS
    # (the app's own heartbeat may be there too: runtime.start beats at once)
    assert "this-one" in [i["instance"] for i in data["instances"]]

    client.cookies.set("lang", "ko")
    korean = client.get("/ops/fleet").text
    assert "채점 워커" in korean and "최근 1시간 채점" in korean


def test_no_workers_and_a_failing_webhook_are_said_at_the_top(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    client.cookies.set("lang", "en")
    client.headers["Authorization"] = run(client, _staff, "adam", "admin")
    services: Services = client.app.state.services  # type: ignore[attr-defined]
    died = datetime.now(UTC) - timedelta(minutes=3)

    async def no_one_alive(now: float | None = None) -> list[WorkerInfo]:
        return [WorkerInfo("worker-x", ("python",), died.timestamp() - 60, died.timestamp(),
                           False, died.timestamp())]  # fmt: skip

    async def channel_health(session: Any, settings: Any, now: datetime) -> list[dict[str, Any]]:
        return [{"channel": "discord", "configured": True, "last_sent_at": None,
                 "last_error": "HTTP 404", "last_error_at": died, "failing": True,
                 "due": 2, "failed_day": 0}]  # fmt: skip

    monkeypatch.setattr(services.queue, "fleet", no_one_alive)
    monkeypatch.setattr(alerts, "channel_health", channel_health)

    html = client.get("/ops/fleet").text
    assert 'id="no-workers"' in html and "No judge worker is alive" in html
    assert 'id="webhook-failing-discord"' in html
    assert "The Discord webhook is failing since" in html
    assert "Died " in html and "worker-x" in html
    assert 'id="webhook-discord"' in html and "HTTP 404" in html


def test_players_and_strangers_get_404(client: TestClient) -> None:
    assert client.get("/ops/fleet").status_code == 404  # signed out
    sign_in(client, "pat")
    assert client.get("/ops/fleet").status_code == 404
    assert client.get("/api/ops/fleet").status_code == 404
    client.headers["Authorization"] = run(client, _staff, "mod", "moderator")
    assert client.get("/ops/fleet").status_code == 404
