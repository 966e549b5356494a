"""A duel is decided once whatever dies while it is judged: the match takes the verdict,
finishes once and rates each player once.

- Embedded default (SQLite, the local queue): the API dies right after recording a verdict,
  before the match took it (failpoint "record.after_commit"). Started again, it passes the
  verdict on from the database (runtime.report_verdicts) and the match ends.
- PostgreSQL + Redis + `codebattle worker`: the worker is killed (SIGKILL) in the middle of
  the job; another worker takes it over (Redis redelivers it), judges it from the start, and
  each test is recorded once.

Real processes on loopback; every wait is bounded. The Redis case runs a private
redis-server (tests/support/redis_server.py): the job streams have fixed names, and the
shared server is used by other tests at the same time."""

from __future__ import annotations

import asyncio
import json
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.chaos import WAIT, client, database_of, hello_site, query, solved_once
from tests.support.redis_server import RedisServer, private_redis  # noqa: F401
from tests.support.servers import BATTLE_ENV, ROOT, Server, Site

SOLUTION = (ROOT / "problems/hello-battle/submissions/accepted/sum.py").read_text()
# Accepted, a quarter of a second of wall time a test: a job long enough to kill its worker.
SLOW_SOLUTION = "import time\ntime.sleep(0.25)\n" + SOLUTION
FAILPOINT = "record.after_commit"


async def duel(server: Server, alice: str, bob: str) -> int:
    """Alice and bob queue and are paired; the match's id once its countdown is over."""
    async with client(server, alice) as a, client(server, bob) as b:
        assert (await a.post("/api/queue")).json()["state"] == "waiting"
        paired = (await b.post("/api/queue")).json()
        assert paired["state"] == "paired", paired
        match_id = int(paired["match"])
        async with asyncio.timeout(WAIT):
            while (await a.get(f"/api/matches/{match_id}")).json()["state"] != "running":
                await asyncio.sleep(0.2)
    return match_id


async def submit(server: Server, token: str, match_id: int, code: str) -> int:
    async with client(server, token) as api:
        reply = await api.post(
            "/api/submissions",
            json={"problem": "hello-battle", "language": "python", "code": code,
                  "match": match_id},
        )  # fmt: skip
    assert reply.status_code == 201, reply.text
    return int(reply.json()["id"])


async def finished(server: Server, token: str, match_id: int) -> dict[str, Any]:
    """The match once it is over (at most WAIT seconds)."""
    async with client(server, token) as api, asyncio.timeout(WAIT):
        while True:
            found: dict[str, Any] = (await api.get(f"/api/matches/{match_id}")).json()
            if found["state"] in ("finished", "cancelled"):
                return found
            await asyncio.sleep(0.3)


async def decided_once(site: Site, match_id: int, solution: int) -> None:
    """Alice's solution taken once (solved_once: one result of it, the match ended and
    rated once), the verdict reported, no job left."""
    url = database_of(site)
    [(alice,)] = await query(url, "SELECT id FROM users WHERE nickname = 'alice'")
    await solved_once(url, match_id, alice, solution)
    results = [
        data for (data,) in await query(
            url, f"SELECT data FROM match_events WHERE match_id = {match_id} AND type = 'result'"
        )
        if _loaded(data).get("submission") == solution
    ]  # fmt: skip
    assert len(results) == 1, results
    [(reported,)] = await query(
        url, f"SELECT reported_at IS NOT NULL FROM submissions WHERE id = {solution}"
    )
    assert reported
    assert await query(url, "SELECT count(*) FROM judge_outbox") == [(0,)]


def _loaded(data: Any) -> dict[str, Any]:
    """A JSON column as a raw query returns it (text on SQLite, maybe text on asyncpg)."""
    return dict(json.loads(data) if isinstance(data, str) else data)


@pytest.fixture
def embedded(tmp_path: Path) -> Iterator[Site]:
    with hello_site(tmp_path, **BATTLE_ENV) as site:
        yield site


async def test_the_api_killed_after_recording_a_verdict_decides_when_started_again(
    embedded: Site,
) -> None:
    site, url = embedded, database_of(embedded)
    alice, bob = site.token("alice"), site.token("bob")
    doomed = site.serve("doomed", FAILPOINTS=FAILPOINT)
    match_id = await duel(doomed, alice, bob)
    solution = await submit(doomed, alice, match_id, SOLUTION)
    # Judged and recorded, then the process dies before the match hears of it.
    assert await asyncio.to_thread(doomed.proc.wait, WAIT) == 137
    assert f"failpoint {FAILPOINT}" in doomed.log.read_text()
    assert await query(
        url, f"SELECT status, reported_at FROM submissions WHERE id = {solution}"
    ) == [("done", None)]
    [(state,)] = await query(url, f"SELECT state FROM matches WHERE id = {match_id}")
    assert state == "running"

    server = site.serve("api")  # no failpoint: it passes the verdict on from the database
    over = await finished(server, alice, match_id)
    assert (over["state"], over["reason"]) == ("finished", "solved")
    await decided_once(site, match_id, solution)
    assert "judge verdicts no game took are passed on again" in server.log.read_text()


@pytest.fixture
def cluster(
    tmp_path: Path,
    pg_url: str,
    private_redis: RedisServer,  # noqa: F811
) -> Iterator[Site]:
    with hello_site(
        tmp_path / "site", **BATTLE_ENV, DATABASE_URL=pg_url, REDIS_URL=private_redis.url,
        QUEUE_REDELIVERY_SECONDS="3",
    ) as site:  # fmt: skip
        yield site


async def test_a_worker_killed_mid_job_the_match_is_decided_once(cluster: Site) -> None:
    site, url = cluster, database_of(cluster)
    alice, bob = site.token("alice"), site.token("bob")
    doomed = site.worker("doomed-worker")
    server = site.serve("api")
    match_id = await duel(server, alice, bob)
    solution = await submit(server, alice, match_id, SLOW_SOLUTION)

    # Some of its tests are recorded: the worker is in the middle of the job. Kill it.
    async with asyncio.timeout(WAIT):
        while not await query(
            url, f"SELECT 1 FROM submission_tests WHERE submission_id = {solution}"
        ):
            await asyncio.sleep(0.1)
    doomed.send_signal(signal.SIGKILL)
    await asyncio.to_thread(doomed.wait, WAIT)
    [(status,)] = await query(url, f"SELECT status FROM submissions WHERE id = {solution}")
    assert status == "running"

    site.worker("worker")  # takes the job over once it has been idle for the redelivery delay
    over = await finished(server, alice, match_id)
    assert (over["state"], over["reason"]) == ("finished", "solved")
    await decided_once(site, match_id, solution)
