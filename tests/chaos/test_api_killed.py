"""The API dies between commit and queue (failpoint "submit.after_commit": right after the
transaction that saves a submission and its outbox entry, before the job is sent): the
player's connection drops, the submission is in the database as queued, and it is judged
once all the same (decision 0023).

- Embedded default (SQLite, the in-process queue): the API started again sends it.
- PostgreSQL + Redis + a `codebattle worker`: another API instance still running takes it
  over by its relay, once the saver's grace has passed, without any restart.

Real processes on loopback; every wait is bounded. The Redis case runs a private
redis-server (tests/support/redis_server.py): the job streams have fixed names, and the
shared server is used by other tests at the same time."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from codebattle.judge.jobs import PRACTICE
from codebattle.judge.streams import stream_of
from tests.support.chaos import WAIT, client, database_of, hello_site, query
from tests.support.redis_server import RedisServer, private_redis  # noqa: F401
from tests.support.servers import ROOT, Server, Site

SOLUTION = (ROOT / "problems/hello-battle/submissions/accepted/sum.py").read_text()
SUBMISSION = {"problem": "hello-battle", "language": "python", "code": SOLUTION}
FAILPOINT = "submit.after_commit"


def serve_doomed(site: Site, name: str) -> Server:
    """An API instance that dies right after committing its first submission."""
    return site.serve(name, FAILPOINTS=FAILPOINT)


async def submit_and_die(server: Server, token: str) -> None:
    """Submit to a doomed instance: the connection drops, the process dies (kill -9's 137)."""
    async with client(server, token) as api:
        with pytest.raises(httpx.TransportError):  # no answer: the server is gone
            await api.post("/api/submissions", json=SUBMISSION)
    assert server.proc.wait(WAIT) == 137
    assert f"failpoint {FAILPOINT}" in server.log.read_text()


async def judged(server: Server, token: str, submission_id: int) -> dict[str, Any]:
    """The submission once its verdict is recorded (at most WAIT seconds)."""
    async with client(server, token) as api, asyncio.timeout(WAIT):
        while True:
            reply = await api.get(f"/api/submissions/{submission_id}")
            assert reply.status_code == 200, reply.text
            found: dict[str, Any] = reply.json()
            if found["status"] == "done":
                return found
            await asyncio.sleep(0.3)


async def saved_but_not_sent(url: str) -> int:
    """The one submission is in the database as queued, its job in the outbox, never sent."""
    [(submission_id, status)] = await query(url, "SELECT id, status FROM submissions")
    assert status == "queued"
    entries = await query(url, "SELECT submission_id, due_at IS NULL, sends FROM judge_outbox")
    assert entries == [(submission_id, False, 0)]
    return int(submission_id)


async def judged_once(url: str, found: dict[str, Any]) -> None:
    """AC, each test recorded once, its outbox entry gone, no other submission."""
    assert found["verdict"] == "AC", found
    names = [t["name"] for t in found["tests"]]
    assert len(names) == len(set(names)) == found["tests_total"] > 0
    [(count,)] = await query(
        url, f"SELECT count(*) FROM submission_tests WHERE submission_id = {found['id']}"
    )
    assert count == found["tests_total"]
    assert await query(url, "SELECT count(*) FROM judge_outbox") == [(0,)]
    assert await query(url, "SELECT count(*) FROM submissions") == [(1,)]


@pytest.fixture
def embedded(tmp_path: Path) -> Iterator[Site]:
    with hello_site(tmp_path) as site:
        yield site


async def test_the_api_killed_after_commit_judges_it_when_started_again(embedded: Site) -> None:
    site, url = embedded, database_of(embedded)
    token = site.token("alice")
    await submit_and_die(serve_doomed(site, "doomed"), token)
    submission_id = await saved_but_not_sent(url)

    server = site.serve("api")  # no failpoint: it sends the unfinished job at start
    await judged_once(url, await judged(server, token, submission_id))


@pytest.fixture
def cluster(
    tmp_path: Path,
    pg_url: str,
    private_redis: RedisServer,  # noqa: F811
) -> Iterator[Site]:
    with hello_site(
        tmp_path / "site", DATABASE_URL=pg_url, REDIS_URL=private_redis.url,
        QUEUE_REDELIVERY_SECONDS="5",
    ) as site:  # fmt: skip
        yield site


async def test_another_instance_takes_over_the_job_of_one_killed_after_commit(
    cluster: Site,
    private_redis: RedisServer,  # noqa: F811
) -> None:
    site, url = cluster, database_of(cluster)
    token = site.token("alice")
    site.worker()
    steady = site.serve("steady")
    doomed = serve_doomed(site, "doomed")
    await submit_and_die(doomed, token)
    submission_id = await saved_but_not_sent(url)

    # The steady instance's relay sends it once the saver's grace is over; nothing restarts.
    await judged_once(url, await judged(steady, token, submission_id))
    jobs = private_redis.client()
    try:
        assert jobs.xlen(stream_of("python", PRACTICE)) == 1  # sent once
    finally:
        jobs.close()

    # The dead instance comes back (without the failpoint) and works as before.
    again = site.serve("doomed")
    async with client(again, token) as api:
        reply = await api.post("/api/submissions", json=SUBMISSION)
    assert reply.status_code == 201, reply.text
    found = await judged(again, token, int(reply.json()["id"]))
    assert found["verdict"] == "AC", found
