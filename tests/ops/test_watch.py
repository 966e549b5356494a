"""The alert watch on SQLite and PostgreSQL, time injected: a high flag, IE verdicts and an
IE rate over the threshold, a judge worker that died, appeals' deadlines near and lapsed;
run twice (or by two instances at once) it raises each alert once, and the receiver gets
each once. The "watch" lease: one holder, renewed by it, taken over once it runs out."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from codebattle.config import Settings
from codebattle.db.session import Database
from codebattle.fairplay.models import Flag
from codebattle.integrations import webhooks
from codebattle.judge.queue import WorkerInfo
from codebattle.ops import alerts, appeals, lease, overview, sla, watch
from codebattle.ops.models import ANSWERED, OPEN, Alert, Appeal, ClusterLease
from codebattle.services import new_instance_id
from codebattle.storage import LocalBlobStore
from codebattle.submissions.models import DONE, Submission
from tests.support.factories import make_problem_version, make_submission, make_user
from tests.support.fake_webhooks import FakeWebhooks
from tests.support.site import settings_for

NOW = datetime.now(UTC).replace(microsecond=0)


@dataclass
class FakeQueue:
    workers: list[WorkerInfo] = field(default_factory=list)

    async def fleet(self, now: float | None = None) -> list[WorkerInfo]:
        return list(self.workers)


@dataclass
class _Services:
    """What the watch uses of the services."""

    db: Database
    settings: Settings
    queue: Any = field(default_factory=FakeQueue)


def Services(db: Database, settings: Settings, queue: Any = None) -> Any:  # noqa: N802
    return _Services(db, settings, FakeQueue() if queue is None else queue)


async def connected(url: str) -> Database:
    """A Database that has connected once: SQLite sets its pragmas (WAL) on a connection's
    first use, before its busy timeout, so two engines' first connections racing would
    test that rather than the claims."""
    db = Database(url)
    await db.ping()
    return db


@pytest.fixture
def fake() -> Iterator[FakeWebhooks]:
    with FakeWebhooks() as server:
        yield server


def settings(tmp_path: Path, fake: FakeWebhooks | None = None, **overrides: Any) -> Settings:
    values: dict[str, Any] = {"BASE_URL": "https://codebattle.example"}
    if fake is not None:
        values |= {"SLACK_WEBHOOK_URL": fake.slack_url, "DISCORD_WEBHOOK_URL": fake.discord_url}
    return settings_for(tmp_path, **(values | overrides))


async def keys(db: Database) -> list[str]:
    async with db.reading() as session:
        return sorted(await session.scalars(select(Alert.key)))


async def add_flag(db: Database, level: str, created_at: datetime) -> int:
    async with db.session() as session:
        user = await make_user(session)
        flag = Flag(
            key=f"report:{user.id}", source="report", level=level, score=0.95, user_id=user.id,
            reasons=[], created_at=created_at,
        )  # fmt: skip
        session.add(flag)
        await session.commit()
        return flag.id


async def judged(db: Database, tmp_path: Path, *verdicts: str, at: datetime = NOW) -> list[int]:
    """Submissions judged at `at` with these verdicts."""
    blobs = LocalBlobStore(tmp_path / "blobs")
    ids = []
    async with db.session() as session:
        await make_problem_version(session, blobs)
        user = await make_user(session)
        for verdict in verdicts:
            submission = await make_submission(session, blobs, user)
            ids.append(submission.id)
            await session.execute(
                update(Submission)
                .where(Submission.id == submission.id)
                .values(status=DONE, verdict=verdict, finished_at=at, message="no box")
            )
        await session.commit()
    return ids


async def add_appeal(db: Database, first_due: datetime, decision_due: datetime) -> int:
    async with db.session() as session:
        user = await make_user(session)
        appeal = Appeal(
            user_id=user.id, kind="game", text="I did not cheat", created_at=NOW,
            first_response_due=first_due, decision_due=decision_due,
        )  # fmt: skip
        session.add(appeal)
        await session.commit()
        return appeal.id


async def test_a_high_flag_of_the_last_day_raises_one_alert(db: Database, tmp_path: Path) -> None:
    services = Services(db, settings(tmp_path))
    high = await add_flag(db, "high", NOW - timedelta(hours=2))
    await add_flag(db, "review", NOW - timedelta(hours=2))
    await add_flag(db, "high", NOW - timedelta(days=2))  # too old to alert now
    assert await watch.watch_once(services, NOW) == 1
    assert await keys(db) == [f"flag:{high}:high"]
    assert await watch.watch_once(services, NOW + timedelta(seconds=10)) == 0
    async with db.reading() as session:
        alert = await session.scalar(select(Alert))
    assert alert is not None and alert.link == f"/ops/flags/{high}"
    assert alert.kind == alerts.FLAG_HIGH and alert.params["score"] == 0.95


async def test_ie_verdicts_and_an_ie_rate_over_the_threshold(db: Database, tmp_path: Path) -> None:
    s = settings(tmp_path, ALERT_IE_RATE=0.3, ALERT_IE_MIN_JUDGED=4)
    services = Services(db, s)
    old = await judged(db, tmp_path, "IE", at=NOW - timedelta(hours=2))
    ie = await judged(db, tmp_path, "AC", "WA", "IE")
    assert await watch.watch_once(services, NOW) == 1
    assert await keys(db) == [f"ie:{ie[2]}"]  # 3 judged: too few for a rate; not the old one
    assert old[0] != ie[2]

    more = await judged(db, tmp_path, "IE")  # 2 IE of 4 judged in the hour: 50% > 30%
    assert await watch.watch_once(services, NOW) == 2
    hour = NOW.strftime("%Y-%m-%dT%H")
    assert await keys(db) == sorted([f"ie:{ie[2]}", f"ie:{more[0]}", f"ie_rate:{hour}"])
    async with db.reading() as session:
        rate = await session.scalar(select(Alert).where(Alert.kind == alerts.IE_RATE))
    assert rate is not None and rate.params["ie"] == 2 and rate.params["judged"] == 4
    assert await watch.watch_once(services, NOW + timedelta(minutes=1)) == 0


async def test_a_dead_worker_raises_one_alert_per_life(db: Database, tmp_path: Path) -> None:
    queue = FakeQueue([WorkerInfo("w1", ("python",), 1000.0, 1010.0, True, None)])
    services = Services(db, settings(tmp_path), queue)
    assert await watch.watch_once(services, NOW) == 0
    queue.workers = [
        WorkerInfo("w1", ("python",), 1000.0, 1010.0, False, 1010.0),
        WorkerInfo("w2", ("cpp", "java"), 1000.0, 1010.0, True, None),
    ]
    assert await watch.watch_once(services, NOW) == 1
    assert await watch.watch_once(services, NOW) == 0
    queue.workers.append(WorkerInfo("w1", ("python",), 2000.0, 2010.0, False, 2010.0))
    assert await watch.watch_once(services, NOW) == 1  # restarted, died
    assert await keys(db) == ["worker_died:w1:1000", "worker_died:w1:2000"]


async def test_a_queue_without_a_fleet_is_no_dead_worker(db: Database, tmp_path: Path) -> None:
    services = Services(db, settings(tmp_path), object())
    assert await watch.watch_once(services, NOW) == 0


async def test_appeal_deadlines_warn_then_lapse(db: Database, tmp_path: Path) -> None:
    s = settings(tmp_path, APPEAL_SLA_WARN_HOURS=24)
    services = Services(db, s)
    first, decision = NOW + timedelta(hours=72), NOW + timedelta(hours=168)
    appeal = await add_appeal(db, first, decision)
    assert await watch.watch_once(services, NOW) == 0
    assert await watch.watch_once(services, first - timedelta(hours=24, seconds=1)) == 0

    assert await watch.watch_once(services, first - timedelta(hours=23)) == 1
    assert await keys(db) == [f"appeal:{appeal}:first_response:warn"]
    assert await watch.watch_once(services, first - timedelta(hours=1)) == 0
    assert await watch.watch_once(services, first) == 1
    assert f"appeal:{appeal}:first_response:lapsed" in await keys(db)

    async with db.session() as session:  # answered: only the decision's deadline is left
        await session.execute(
            update(Appeal)
            .where(Appeal.id == appeal)
            .values(status=ANSWERED, first_response_at=first + timedelta(hours=1))
        )
        await session.commit()
    assert await watch.watch_once(services, decision - timedelta(hours=2)) == 1
    assert await watch.watch_once(services, decision + timedelta(days=3)) == 1
    assert await keys(db) == sorted(
        f"appeal:{appeal}:{name}" for name in (
            "first_response:warn", "first_response:lapsed", "decision:warn", "decision:lapsed"
        )
    )  # fmt: skip
    async with db.reading() as session:
        lapsed = await session.scalar(select(Alert).where(Alert.key.like("%decision:lapsed")))
    assert lapsed is not None and lapsed.kind == alerts.APPEAL_SLA_LAPSED
    assert lapsed.link == f"/ops/appeals/{appeal}" and lapsed.params["deadline"] == "decision"


async def test_a_decided_appeal_raises_nothing(db: Database, tmp_path: Path) -> None:
    services = Services(db, settings(tmp_path))
    appeal = await add_appeal(db, NOW - timedelta(hours=1), NOW - timedelta(minutes=1))
    async with db.session() as session:
        await session.execute(
            update(Appeal).where(Appeal.id == appeal).values(status="decided", decided_at=NOW)
        )
        await session.commit()
    assert await watch.watch_once(services, NOW) == 0


async def test_first_seen_lapsed_is_one_lapse_alert(db: Database, tmp_path: Path) -> None:
    """After a long outage, a deadline that lapsed meanwhile raises its lapse, not a warning."""
    services = Services(db, settings(tmp_path))
    appeal = await add_appeal(db, NOW - timedelta(hours=1), NOW + timedelta(days=5))
    assert await watch.watch_once(services, NOW) == 1
    assert await keys(db) == [f"appeal:{appeal}:first_response:lapsed"]
    async with db.reading() as session:
        status = await session.scalar(select(Appeal.status).where(Appeal.id == appeal))
    assert status == OPEN


async def test_two_watchers_and_two_deliverers_send_each_alert_once(
    database_url: str, tmp_path: Path, fake: FakeWebhooks
) -> None:
    s = settings(tmp_path, fake, ALERT_SUMMARY_OVER=10)
    first, second = await connected(database_url), await connected(database_url)
    try:
        flag = await add_flag(first, "high", NOW - timedelta(minutes=5))
        appeal = await add_appeal(first, NOW + timedelta(hours=2), NOW + timedelta(days=5))
        queue = FakeQueue([WorkerInfo("w9", ("java",), 50.0, 60.0, False, 60.0)])
        a, b = Services(first, s, queue), Services(second, s, queue)
        raised = await asyncio.gather(watch.watch_once(a, NOW), watch.watch_once(b, NOW))
        assert sum(raised) == 3
        await asyncio.gather(
            alerts.deliver_due(first, s, webhooks.clients_for, "a", NOW),
            alerts.deliver_due(second, s, webhooks.clients_for, "b", NOW),
        )
        await watch.watch_once(b, NOW + timedelta(seconds=10))
        await alerts.deliver_due(first, s, webhooks.clients_for, "a", NOW + timedelta(minutes=1))
        for channel in ("slack", "discord"):
            titles = sorted(
                r.body["text"] if channel == "slack" else r.body["content"]
                for r in fake.requests(channel)
            )
            assert len(titles) == 3, titles
            assert any(t.startswith(f"High fair-play flag #{flag}") for t in titles)
            assert any(t.startswith(f"Appeal #{appeal}: first response due in") for t in titles)
            assert any(t.startswith("Judge worker w9 died") for t in titles)
    finally:
        await first.dispose()
        await second.dispose()


# ---- The lease ---------------------------------------------------------------------------


async def test_the_lease_has_one_holder_and_is_taken_over_after_expiry(db: Database) -> None:
    async def take(holder: str, at: datetime) -> bool:
        async with db.session() as session:
            return await lease.acquire(session, "watch", holder, 30, at)

    assert await take("a", NOW)
    assert not await take("b", NOW + timedelta(seconds=1))
    assert await take("a", NOW + timedelta(seconds=20))  # renewed: until +50 s
    assert not await take("b", NOW + timedelta(seconds=49))
    assert await take("b", NOW + timedelta(seconds=50))  # "a" stopped renewing
    assert not await take("a", NOW + timedelta(seconds=51))
    async with db.reading() as session:
        row = await session.scalar(select(ClusterLease))
    assert row is not None and row.holder == "b" and row.until == NOW + timedelta(seconds=80)


async def test_two_instances_racing_for_a_new_lease_get_one_holder(database_url: str) -> None:
    first, second = await connected(database_url), await connected(database_url)

    async def take(db: Database, holder: str) -> bool:
        async with db.session() as session:
            return await lease.acquire(session, "watch", holder, 30, NOW)

    try:
        got = await asyncio.gather(take(first, "a"), take(second, "b"))
        assert sorted(got) == [False, True]
    finally:
        await first.dispose()
        await second.dispose()


async def test_only_the_lease_holder_watches(db: Database, tmp_path: Path) -> None:
    services = Services(db, settings(tmp_path))
    await add_flag(db, "high", NOW)
    assert await watch.watch_if_holder(services, "a", NOW)
    assert len(await keys(db)) == 1
    assert not await watch.watch_if_holder(services, "b", NOW + timedelta(seconds=10))
    assert await watch.watch_if_holder(services, "a", NOW + timedelta(seconds=10))
    async with db.reading() as session:
        row = await session.scalar(select(ClusterLease))
    assert row is not None and row.last_run_at == NOW + timedelta(seconds=10)
    assert await watch.watch_if_holder(services, "b", NOW + timedelta(seconds=41))


def test_instance_names_are_unique_and_made_once_per_services() -> None:
    assert new_instance_id() != new_instance_id()
    assert not hasattr(lease, "instance_id") and not hasattr(watch, "instance_of")


async def test_the_home_page_and_the_watch_use_the_queues_next_deadline(
    db: Database, tmp_path: Path
) -> None:
    """An appeal answered but still open (first_response_at set): its next deadline is the
    decision's, as the queue says, so a passed first-answer deadline is neither counted
    lapsed on the home page nor alerted. An unanswered one past its first deadline is
    lapsed on all three."""
    s = settings(tmp_path, APPEAL_SLA_WARN_HOURS=24)
    answered = await add_appeal(db, NOW - timedelta(hours=1), NOW + timedelta(days=5))
    unanswered = await add_appeal(db, NOW - timedelta(hours=1), NOW + timedelta(days=5))
    async with db.session() as session:
        await session.execute(
            update(Appeal).where(Appeal.id == answered).values(first_response_at=NOW)
        )
        await session.commit()
    async with db.reading() as session:
        queued = {q.appeal.id: q.urgency for q in await appeals.queue(session, NOW, s)}
        home = await overview.attention(session, warn_hours=24, now=NOW)
    assert queued == {answered: sla.OK, unanswered: sla.LAPSED}
    assert (home.appeals_lapsed, home.appeals_soon, home.appeals_open) == (1, 0, 2)
    assert await watch.watch_once(Services(db, s), NOW) == 1
    assert await keys(db) == [f"appeal:{unanswered}:first_response:lapsed"]


async def test_runtime_starts_the_delivery_and_watch_loops(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """runtime.start gives live.every an alert delivery and an alert watch step."""
    from codebattle import runtime
    from codebattle.battles import live
    from tests.test_runtime_outages import FakeQueue as RuntimeQueue
    from tests.test_runtime_outages import Services as RuntimeServices

    steps: dict[str, Any] = {}

    async def idle() -> None:
        return None

    def every(seconds: float, step: Any, what: str) -> Any:
        steps[what] = (seconds, step)
        return idle()

    monkeypatch.setattr(live, "every", every)
    db = Database(sqlite_url)
    try:
        services: Any = RuntimeServices(db, tmp_path, RuntimeQueue())
        services.instance = "this-instance"  # (a fake: the real Services makes its own)
        await runtime.start(services)
        assert steps["alert delivery"][0] == watch.DELIVER_SECONDS
        assert steps["alert watch"][0] == watch.WATCH_SECONDS
        assert await steps["alert delivery"][1]() == 0  # no webhook configured
        assert await steps["alert watch"][1]() is True  # the only instance: it holds the lease
        async with db.reading() as session:
            held = await session.scalar(select(ClusterLease))
        assert held is not None and held.holder == "this-instance"  # the one name
    finally:
        await db.dispose()
