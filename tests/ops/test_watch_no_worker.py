"""The alert watch's "no live worker" alert (issue 16), on SQLite and PostgreSQL, time
injected: with the shared (Redis) queue, a language whose jobs have waited
ALERT_NO_WORKER_SECONDS with no live worker seen for as long raises one alert per episode,
delivered like every alert; a live worker of its pool clears it (a message saying so), and
a later episode alerts again. Not for a worker that died a moment ago, nor for an embedded
queue. Last, a real RedisQueue on a private redis-server: a C++ job waiting beside a live
Python worker."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from codebattle.db.session import Database
from codebattle.integrations import webhooks
from codebattle.judge.queue import WORKERS_KEY, Backlog, RedisQueue, WorkerInfo, worker_beat
from codebattle.ops import alerts, fleet, watch
from codebattle.ops.models import Alert
from tests.ops.test_watch import NOW, Services, keys, settings
from tests.support.fake_webhooks import FakeWebhooks
from tests.support.redis_server import RedisServer, private_redis  # noqa: F401

T = NOW.timestamp()
IDLE = Backlog(0, 0, 0.0)


@dataclass
class PoolsQueue:
    """The shared queue as the watch reads it: workers' heartbeats and jobs per language."""

    workers: list[WorkerInfo] = field(default_factory=list)
    waiting: dict[str, Backlog] = field(default_factory=dict)

    async def fleet(self, now: float | None = None) -> list[WorkerInfo]:
        return list(self.workers)

    async def backlog(self, now: float | None = None) -> dict[str, Backlog]:
        return {"cpp": IDLE, "java": IDLE, "python": IDLE, **self.waiting}


@pytest.fixture
def fake() -> Iterator[FakeWebhooks]:
    with FakeWebhooks() as server:
        yield server


@pytest.fixture
def shared(monkeypatch: pytest.MonkeyPatch) -> None:
    """PoolsQueue counts as the Redis queue (one fleet for the cluster)."""
    real = fleet.queue_kind
    monkeypatch.setattr(
        fleet, "queue_kind", lambda q: "redis" if isinstance(q, PoolsQueue) else real(q)
    )


def alive(name: str, *languages: str) -> WorkerInfo:
    return WorkerInfo(name, languages, T - 600, T - 1, True, None)


def dead(name: str, seen_ago: float, *languages: str) -> WorkerInfo:
    return WorkerInfo(name, languages, T - 900, T - seen_ago, False, T - seen_ago)


async def alert(db: Database, key: str) -> Alert:
    async with db.reading() as session:
        found = await session.scalar(select(Alert).where(Alert.key == key))
    assert found is not None, key
    return found


def texts(receiver: FakeWebhooks) -> list[str]:
    return [r.body["text"] for r in receiver.requests("slack")]


@pytest.mark.usefixtures("shared")
async def test_an_episode_is_alerted_once_cleared_by_a_worker_and_alerted_again(
    db: Database, tmp_path: Path, fake: FakeWebhooks
) -> None:
    s = settings(tmp_path, fake, ALERT_NO_WORKER_SECONDS=60)
    queue = PoolsQueue([alive("w-py", "python")], {"cpp": Backlog(3, 0, 59.0)})
    services = Services(db, s, queue)

    async def deliver(at: datetime) -> None:
        await alerts.deliver_due(db, s, webhooks.clients_for, "a", at)

    assert await watch.watch_once(services, NOW) == 0  # waiting, but not for 60 s yet
    queue.waiting = {"cpp": Backlog(3, 1, 61.0), "python": Backlog(5, 0, 300.0)}
    assert await watch.watch_once(services, NOW) == 1  # Python has a live worker
    assert await keys(db) == ["no_worker:cpp:1"]
    raised = await alert(db, "no_worker:cpp:1")
    assert raised.kind == alerts.NO_WORKER and raised.link == "/ops/fleet"
    assert raised.params["depth"] == 3 and raised.params["last_seen"] is None
    later = NOW + timedelta(seconds=10)
    assert await watch.watch_once(services, later) == 0  # one alert per episode
    await deliver(later)
    (sent,) = texts(fake)
    assert sent.startswith("No live C++17 (g++) worker: 4 job(s) waiting")
    assert "codebattle worker --languages cpp" in sent

    queue.workers.append(alive("w-cpp", "cpp"))  # a worker of its pool came
    queue.waiting = {"cpp": Backlog(0, 4, 0.0)}
    assert await watch.watch_once(services, later) == 1
    cleared = await alert(db, "no_worker:cpp:1:cleared")
    assert cleared.kind == alerts.NO_WORKER_CLEARED and cleared.params["workers"] == ["w-cpp"]
    assert await watch.watch_once(services, later + timedelta(seconds=10)) == 0
    await deliver(later + timedelta(seconds=10))
    assert texts(fake)[1].startswith("C++17 (g++) is judged again")

    queue.workers[-1] = dead("w-cpp", 90.0, "cpp")  # gone again, its job held
    queue.waiting = {"cpp": Backlog(0, 1, 0.0)}
    assert await watch.watch_once(services, later) == 2  # and its death (worker_died)
    assert [k for k in await keys(db) if k.startswith("no_worker")] == [
        "no_worker:cpp:1", "no_worker:cpp:1:cleared", "no_worker:cpp:2",
    ]  # fmt: skip
    assert (await alert(db, "no_worker:cpp:2")).params["last_seen"] is not None


@pytest.mark.usefixtures("shared")
async def test_a_worker_that_died_a_moment_ago_is_no_episode_yet(
    db: Database, tmp_path: Path
) -> None:
    queue = PoolsQueue([dead("w-java", 20.0, "java")], {"java": Backlog(2, 0, 300.0)})
    services = Services(db, settings(tmp_path, ALERT_NO_WORKER_SECONDS=60), queue)
    assert await watch.watch_once(services, NOW) == 1
    assert await keys(db) == ["worker_died:w-java:" + str(int(T - 900))]  # that one only
    queue.workers = [dead("w-java", 61.0, "java")]
    assert await watch.watch_once(services, NOW) == 1
    assert "no_worker:java:1" in await keys(db)


@pytest.mark.usefixtures("shared")
async def test_nothing_waiting_or_an_embedded_queue_raises_nothing(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    queue = PoolsQueue([], {})  # no worker at all, and nothing queued
    services = Services(db, settings(tmp_path, ALERT_NO_WORKER_SECONDS=5), queue)
    assert await watch.watch_once(services, NOW) == 0
    queue.waiting = {"cpp": Backlog(1, 0, 3600.0)}
    monkeypatch.setattr(fleet, "queue_kind", lambda q: "local")  # its workers: every language
    assert await watch.watch_once(services, NOW) == 0
    assert await keys(db) == []


async def test_a_real_redis_queue_with_a_cpp_job_beside_a_live_python_worker(
    db: Database,
    tmp_path: Path,
    private_redis: RedisServer,  # noqa: F811
) -> None:
    queue = RedisQueue(private_redis.url, 2.0)
    try:
        await queue._ensure_groups()
        job: Any = {
            "submission": 1, "kind": "submit", "language": "cpp", "code": "",
            "package_key": "none", "time_limit": 1.0, "stdin": "", "run_all": False,
        }  # fmt: skip
        await queue.enqueue(job)
        now = datetime.now(NOW.tzinfo)
        later = now + timedelta(seconds=31)

        async def beat(name: str, language: str, at: datetime) -> None:
            beat = worker_beat((language,), now.timestamp() - 60, at.timestamp())
            await queue.client.hset(WORKERS_KEY, name, beat)

        await beat("w-py", "python", later)
        services = Services(db, settings(tmp_path, ALERT_NO_WORKER_SECONDS=30), queue)
        assert fleet.queue_kind(queue) == "redis"
        assert await watch.watch_once(services, now) == 0  # queued just now
        assert await watch.watch_once(services, later) == 1
        assert await keys(db) == ["no_worker:cpp:1"]
        await beat("w-cpp", "cpp", later)
        assert await watch.watch_once(services, later) == 1
        assert await keys(db) == ["no_worker:cpp:1", "no_worker:cpp:1:cleared"]
    finally:
        await queue.client.aclose()


async def test_two_watchers_at_once_raise_an_episode_once(
    database_url: str, tmp_path: Path, shared: None
) -> None:
    from tests.ops.test_watch import connected

    first, second = await connected(database_url), await connected(database_url)
    try:
        queue = PoolsQueue([], {"java": Backlog(1, 0, 120.0)})
        s = settings(tmp_path)
        raised = await asyncio.gather(
            watch.watch_once(Services(first, s, queue), NOW),
            watch.watch_once(Services(second, s, queue), NOW),
        )
        assert sum(raised) == 1 and await keys(first) == ["no_worker:java:1"]
    finally:
        await first.dispose()
        await second.dispose()
