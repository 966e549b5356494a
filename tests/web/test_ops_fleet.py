"""The fleet page (web/routes/ops_fleet.py): an operator sees the workers (the embedded
default's, alive), the queue, the last hour's judging and this instance's heartbeat, in
English and Korean, and the JSON; a failing webhook and "no workers alive" are said at the
top; the alert watch (who holds the lease, when it last ran, "no instance is watching")
and each instance's workers from its heartbeat; a player, a moderator and someone signed
out get 404."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from codebattle.judge.queue import WorkerInfo
from codebattle.ops import alerts, fleet, watch
from codebattle.ops.models import InstanceBeat
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
        assert f'<table class="fleet cards" id="{table}">' in html  # cards on a phone
        assert re.search(rf'id="{table}">\s*<caption>', html), table
    assert html.count('tabindex="0" role="region"') >= 4
    assert "thread-" in html and "Alive" in html  # the in-process queue's worker threads
    assert 'id="no-workers"' not in html
    assert "Nothing is waiting to be judged." in html
    assert re.search(r'<td class="num" id="judged" data-label="Judged">0</td>', html)
    data = client.get("/api/ops/fleet").json()
    workers = services.settings.JUDGE_WORKERS + services.settings.JUDGE_URGENT_WORKERS
    assert data["workers_alive"] == len(data["workers"]) == workers
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


def test_the_watch_and_each_instances_workers(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The app's own name is its heartbeat's and the lease holder's: the page says that
    instance is watching and when it ran. Another live instance's embedded workers are in
    its row and keep "no worker alive" away; with the lease gone, nobody is watching."""
    client.cookies.set("lang", "en")
    client.headers["Authorization"] = run(client, _staff, "opal", "operator")
    services: Services = client.app.state.services  # type: ignore[attr-defined]
    portal: Any = client.portal
    now = datetime.now(UTC)
    portal.call(fleet.beat, services, services.instance, now, now)
    assert portal.call(watch.watch_if_holder, services, services.instance, now)

    async def other_instance() -> None:
        async with services.db.session() as session:
            beat = InstanceBeat(
                instance="other-1", host="elsewhere", pid=7, started_at=now, seen_at=now,
                data={"queue": "local", "workers_alive": 3},
            )  # fmt: skip
            session.add(beat)
            await session.commit()

    portal.call(other_instance)
    html = client.get("/ops/fleet").text
    assert '<h2 id="watch-title">Alert watch</h2>' in html and 'id="no-watch"' not in html
    holder = re.search(r'<dd id="watch-holder">([^<]*)</dd>', html)
    assert holder is not None and holder.group(1).endswith(f"· {os.getpid()}")
    assert 'id="watcher-tag"' in html and "Watching alerts" in html
    assert 'id="watch-last-run">' in html and "Never" not in html
    assert 'id="workers-local"' in html  # the embedded queue: this instance's workers
    row = html[html.index("elsewhere · 7") :]
    assert '<td class="num" data-label="Judge workers">3</td>' in row[: row.index("</tr>")]
    data = client.get("/api/ops/fleet").json()
    assert data["watch"]["holder"] == services.instance and data["here"] == services.instance
    assert data["workers_alive_elsewhere"] == 3

    async def no_one_alive(now: float | None = None) -> list[WorkerInfo]:
        return []

    async def lapsed(session: Any, now: datetime) -> fleet.Watch:
        return fleet.Watch(services.instance, now - timedelta(seconds=5), now, watching=False)

    monkeypatch.setattr(services.queue, "fleet", no_one_alive)
    monkeypatch.setattr(fleet, "watch_lease", lapsed)
    html = client.get("/ops/fleet").text
    assert 'id="no-workers"' not in html  # "other-1" has three alive
    assert 'id="no-watch"' in html and "No instance is watching" in html
    assert 'id="watcher-tag"' not in html
    client.cookies.set("lang", "ko")
    korean = client.get("/ops/fleet").text
    assert "알림을 감시하는 인스턴스가 없습니다" in korean and "알림 감시" in korean
