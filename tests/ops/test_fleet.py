"""The fleet page's figures (ops/fleet.py), on SQLite and PostgreSQL: queue depth per
language from the judge outbox, the last hour's latency p50/p95 and IE rate from known
submission rows, the instances' heartbeats (a silent one gone, a day-old one deleted), and
the webhooks' health from ops/alerts.py; one name per instance (its heartbeat and the watch
lease agree), the watch shown by its lease, each instance's workers, and one meaning of
an alive instance on the fleet page and the home page."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from codebattle.config import Settings
from codebattle.db.session import Database
from codebattle.judge.queue import WorkerInfo
from codebattle.judge.verdicts import Verdict
from codebattle.ops import alerts, fleet, overview, watch
from codebattle.ops.models import InstanceBeat
from codebattle.realtime import stream
from codebattle.services import Services, new_instance_id
from codebattle.storage import LocalBlobStore
from codebattle.submissions import outbox
from codebattle.submissions.models import COMPILING, DONE, QUEUED, RUNNING
from tests.support.factories import make_problem_version, make_submission, make_user
from tests.support.site import settings_for

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


class FakeQueue:
    """A queue that reports a given fleet (or fails to, like an unreachable Redis)."""

    def __init__(self, workers: list[WorkerInfo] | Exception) -> None:
        self.workers = workers

    async def fleet(self, now: float | None = None) -> list[WorkerInfo]:
        if isinstance(self.workers, Exception):
            raise self.workers
        return self.workers


async def _seed(db: Database, blobs: LocalBlobStore) -> None:
    """Ten verdicts in the last hour taking 1..10 s (two IE), one two hours ago (outside),
    and unfinished ones: two python waiting, one cpp being judged."""
    async with db.session() as session:
        await make_problem_version(session, blobs)
        user = await make_user(session)
        for seconds in range(1, 11):
            row = await make_submission(session, blobs, user)
            row.status, row.verdict = DONE, ("IE" if seconds in (3, 7) else "AC")
            row.finished_at = NOW - timedelta(minutes=seconds)
            row.created_at = row.finished_at - timedelta(seconds=seconds)
        old = await make_submission(session, blobs, user)
        old.status, old.verdict = DONE, "IE"
        old.finished_at, old.created_at = NOW - timedelta(hours=2), NOW - timedelta(hours=3)
        for language, status, minutes in (("python", "queued", 4), ("python", "queued", 9),
                                          ("cpp", RUNNING, 2)):  # fmt: skip
            code = "int main() {}\n" if language == "cpp" else "print(1)\n"
            row = await make_submission(session, blobs, user, language=language, code=code)
            row.status, row.created_at = status, NOW - timedelta(minutes=minutes)
            outbox.add(session, row.id, row.created_at)
        await session.commit()


async def test_a_compiling_submission_is_being_judged(db: Database, tmp_path: Path) -> None:
    blobs = LocalBlobStore(tmp_path / "blobs")
    async with db.session() as session:
        await make_problem_version(session, blobs)
        user = await make_user(session)
        for status in (QUEUED, COMPILING, RUNNING):
            row = await make_submission(session, blobs, user, language="cpp", code="int main(){}")
            row.status = status
            outbox.add(session, row.id, NOW)
        await session.commit()
    async with db.reading() as session:
        depth = await fleet.queue_depth(session)
    assert [(d.language, d.waiting, d.judging) for d in depth] == [("cpp", 1, 2)]


async def test_snapshot_figures(db: Database, tmp_path: Path) -> None:
    blobs = LocalBlobStore(tmp_path / "blobs")
    await _seed(db, blobs)
    workers = [
        WorkerInfo("w1", ("cpp", "python"), NOW.timestamp() - 600, NOW.timestamp(), True, None),
        WorkerInfo("w2", ("python",), NOW.timestamp() - 900, NOW.timestamp() - 60, False,
                   NOW.timestamp() - 60),
    ]  # fmt: skip
    async with db.reading() as session:
        found = await fleet.snapshot(session, FakeQueue(workers), settings_for(tmp_path), NOW)
    assert (found.judging.judged, found.judging.p50, found.judging.p95) == (10, 5.0, 10.0)
    assert (found.judging.internal_errors, found.judging.ie_rate) == (2, 0.2)
    assert [(d.language, d.waiting, d.judging) for d in found.depth] == [
        ("python", 2, 0), ("cpp", 0, 1),
    ]  # fmt: skip
    assert found.depth[0].oldest_at == NOW - timedelta(minutes=9)
    assert found.alive_workers == 1 and found.workers_error is None
    dead = found.workers[1]
    assert (dead.alive, dead.died_at, dead.up_seconds) == (False, NOW - timedelta(minutes=1), 840)
    assert found.workers[0].up_seconds == 600
    data = found.to_json()
    assert data["judging"]["latency_p95"] == 10.0 and data["workers_alive"] == 1
    # No webhook set: each channel listed as such, none failing.
    assert {w["channel"]: w["configured"] for w in found.webhooks} == {
        "slack": False, "discord": False,
    }  # fmt: skip
    assert not found.failing_webhooks


async def test_no_rows_and_an_unreachable_queue(db: Database, tmp_path: Path) -> None:
    async with db.reading() as session:
        found = await fleet.snapshot(
            session, FakeQueue(ConnectionError("down")), settings_for(tmp_path), NOW
        )
    assert found.workers == [] and found.workers_error == "ConnectionError"
    assert found.depth == [] and found.instances == []
    assert (found.judging.judged, found.judging.p50, found.judging.ie_rate) == (0, None, None)


def test_percentile_is_the_nearest_rank() -> None:
    assert fleet.percentile([], 50) is None
    assert fleet.percentile([3.0], 95) == 3.0
    values = [float(v) for v in range(20, 0, -1)]
    assert (fleet.percentile(values, 50), fleet.percentile(values, 95)) == (10.0, 19.0)


async def test_heartbeats_live_gone_and_forgotten(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings: Settings = settings_for(tmp_path)
    services = Services(settings=settings, db=db, blobs=LocalBlobStore(tmp_path / "b"),
                        queue=FakeQueue([]), pubsub=None, ratelimit=None)  # type: ignore[arg-type]  # fmt: skip
    monkeypatch.setattr(
        stream, "open_streams",
        stream.Counter({"/ws/matches/4": 2, "/ws/rooms/9": 3, "/ws/submissions/5": 1}),
    )  # fmt: skip
    async with db.session() as session:
        old = NOW - timedelta(days=1, seconds=1)
        session.add(InstanceBeat(instance="old", host="h", pid=1, started_at=old, seen_at=old))
        await session.commit()
    await fleet.beat(services, "here", NOW - timedelta(minutes=5), NOW - timedelta(seconds=5))
    await fleet.beat(services, "there", NOW - timedelta(hours=1), NOW - timedelta(seconds=31))
    await fleet.beat(services, "here", NOW - timedelta(minutes=5), NOW)  # updated in place
    async with db.reading() as session:
        rows = {r.instance: r for r in (await session.scalars(select(InstanceBeat))).all()}
        found = await fleet.instances(session, NOW)
    assert set(rows) == {"here", "there"}  # the day-old one was deleted
    assert (rows["here"].live_games, rows["here"].sockets) == (2, 6)
    assert rows["here"].data["matches"] == 1 and rows["here"].data["rooms"] == 1
    assert [(i.instance, i.gone) for i in found] == [("here", False), ("there", True)]
    assert found[0].seen_at == NOW and found[0].started_at == NOW - timedelta(minutes=5)


async def test_a_failing_webhook_is_reported(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    failing_since = NOW - timedelta(minutes=20)

    async def channel_health(session: Any, settings: Any, now: datetime) -> list[dict[str, Any]]:
        return [
            {"channel": "slack", "configured": True, "last_sent_at": None,
             "last_error": "HTTP 500", "last_error_at": failing_since.isoformat(),
             "failing": True, "due": 3, "failed_day": 1},
            {"channel": "discord", "configured": False, "last_sent_at": None, "last_error": "",
             "last_error_at": None, "failing": False, "due": 0, "failed_day": 0},
        ]  # fmt: skip

    monkeypatch.setattr(alerts, "channel_health", channel_health)
    async with db.reading() as session:
        found = await fleet.snapshot(session, FakeQueue([]), settings_for(tmp_path), NOW)
    assert [w["channel"] for w in found.failing_webhooks] == ["slack"]
    assert found.failing_webhooks[0]["last_error_at"] == failing_since
    assert found.to_json()["webhooks"][0]["last_error_at"] == failing_since.isoformat()


def test_open_streams_are_counted_by_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stream, "open_streams", stream.Counter())

    class Socket:
        scope = {"path": "/ws/matches/7"}

    first, second = stream._opened(Socket()), stream._opened(Socket())  # type: ignore[arg-type]
    assert fleet.served_here() == (2, 1, 0)
    stream._closed(first)
    stream._closed(second)
    assert fleet.served_here() == (0, 0, 0) and not stream.open_streams


def _services(db: Database, tmp_path: Path, queue: Any) -> Services:
    return Services(settings=settings_for(tmp_path), db=db, blobs=LocalBlobStore(tmp_path / "b"),
                    queue=queue, pubsub=None, ratelimit=None)  # type: ignore[arg-type]  # fmt: skip


def _alive(name: str) -> WorkerInfo:
    return WorkerInfo(name, ("python",), NOW.timestamp() - 60, NOW.timestamp(), True, None)


def test_one_name_per_instance_and_the_enums_ie() -> None:
    assert new_instance_id() != new_instance_id() and len(new_instance_id()) <= 64
    assert Verdict.IE.value == "IE"  # what the IE counts compare with


async def test_the_heartbeat_and_the_watch_lease_say_the_same_name(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The heartbeat beats under `services.instance` (one beat: its sleep ends the loop),
    the watch holds its lease under it, and the page names that instance as the watcher,
    with when it last ran; once the lease runs out, nobody is watching."""
    services = _services(db, tmp_path, FakeQueue([_alive("w1")]))
    assert services.instance == services.instance  # made once

    async def stop(seconds: float) -> None:
        raise asyncio.CancelledError

    monkeypatch.setattr(fleet.asyncio, "sleep", stop)
    with pytest.raises(asyncio.CancelledError):
        await fleet.heartbeat(services)
    async with db.reading() as session:
        beat_at = (await session.scalars(select(InstanceBeat))).one().seen_at  # the clock's
    assert await watch.watch_if_holder(services, services.instance, beat_at)  # type: ignore[arg-type]
    async with db.reading() as session:
        found = await fleet.snapshot(session, services.queue, services.settings, beat_at,
                                     here=services.instance)  # fmt: skip
    assert found.watch.watching and found.watch.holder == services.instance
    assert found.watch.last_run_at == beat_at
    assert found.watcher is not None and found.watcher.instance == services.instance
    assert found.to_json()["watch"]["holder"] == services.instance
    later = beat_at + timedelta(seconds=watch.WATCH_LEASE_SECONDS + 1)
    async with db.reading() as session:
        gone = await fleet.snapshot(session, services.queue, services.settings, later)
    assert not gone.watch.watching and gone.watcher is None
    assert gone.watch.last_run_at == beat_at  # still said: when it last ran


async def test_no_lease_is_nobody_watching(db: Database, tmp_path: Path) -> None:
    async with db.reading() as session:
        found = await fleet.snapshot(session, FakeQueue([]), settings_for(tmp_path), NOW)
    assert found.watch == fleet.Watch(None, None, None, watching=False)
    assert found.to_json()["watch"]["watching"] is False


async def test_each_instances_workers_from_its_heartbeat(db: Database, tmp_path: Path) -> None:
    """Embedded queues: the page lists the serving instance's workers and counts the other
    live instances' from their heartbeats (a gone one's do not count)."""
    here = _services(db, tmp_path, FakeQueue([]))  # no worker of its own alive
    there = _services(db, tmp_path, FakeQueue([_alive("w1"), _alive("w2")]))
    far = _services(db, tmp_path, FakeQueue([_alive("w3")]))
    await fleet.beat(here, here.instance, NOW, NOW)
    await fleet.beat(there, there.instance, NOW, NOW - timedelta(seconds=5))
    await fleet.beat(far, far.instance, NOW, NOW - timedelta(seconds=fleet.GONE_SECONDS + 1))
    async with db.reading() as session:
        found = await fleet.snapshot(session, here.queue, here.settings, NOW, here=here.instance)
    workers = {i.instance: i.workers_alive for i in found.instances}
    assert workers == {here.instance: 0, there.instance: 2, far.instance: 1}
    assert found.alive_workers == 0 and found.alive_workers_elsewhere == 2
    assert found.any_worker_alive
    data = found.to_json()
    assert data["workers_alive_elsewhere"] == 2 and data["here"] == here.instance
    assert {i["instance"]: i["workers_alive"] for i in data["instances"]} == workers


async def test_the_home_page_counts_alive_instances_as_the_fleet_page_does(
    db: Database,
) -> None:
    async with db.session() as session:
        for name, seconds in (("fresh", 5), ("silent", fleet.GONE_SECONDS + 30)):
            seen = NOW - timedelta(seconds=seconds)
            session.add(InstanceBeat(instance=name, host="h", pid=1, started_at=seen,
                                     seen_at=seen, live_games=2, sockets=3))  # fmt: skip
        await session.commit()
    async with db.reading() as session:
        home = await overview.attention(session, warn_hours=24, now=NOW)
        page = await fleet.instances(session, NOW)
    assert [i.instance for i in page if not i.gone] == ["fresh"]
    assert (home.instances, home.live_games, home.sockets) == (1, 2, 3)
