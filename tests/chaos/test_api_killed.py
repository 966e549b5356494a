"""The API dies between commit and queue (failpoint "submit.after_commit": right after the
transaction that saves a submission and its outbox entry, before the job is sent): the
player's connection drops, the submission is in the database as queued, and it is judged
once all the same (decision 0023).

- Embedded default (SQLite, the in-process queue): the API started again sends it.
- PostgreSQL + Redis + a `codebattle worker`: another API instance still running takes it
  over by its relay, once the saver's grace has passed, without any restart.

Real processes on loopback; every wait is bounded. The Redis case runs a private
redis-server: the job streams have fixed names, and the shared server is used by other
tests at the same time."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from tests.support.chaos import query
from tests.support.hosts import require
from tests.support.servers import ROOT, Server, Site, free_port

SOLUTION = (ROOT / "problems/hello-battle/submissions/accepted/sum.py").read_text()
FAILPOINT = "submit.after_commit"
WAIT = 60.0  # seconds any one wait may take (starting a server, judging)


def serve_doomed(site: Site, name: str) -> Server:
    """An API instance that dies right after committing its first submission."""
    site.env["FAILPOINTS"] = FAILPOINT
    try:
        return site.serve(name)
    finally:
        del site.env["FAILPOINTS"]


def client(server: Server, token: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=WAIT
    )


SUBMISSION = {"problem": "hello-battle", "language": "python", "code": SOLUTION}


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
    site = Site(tmp_path)
    site.import_problems("hello-battle")
    yield site
    site.stop()


async def test_the_api_killed_after_commit_judges_it_when_started_again(embedded: Site) -> None:
    site = embedded
    url = f"sqlite+aiosqlite:///{site.data / 'var' / 'codebattle.db'}"
    token = site.token("alice")
    await submit_and_die(serve_doomed(site, "doomed"), token)
    submission_id = await saved_but_not_sent(url)

    server = site.serve("api")  # no failpoint: it sends the unfinished job at start
    await judged_once(url, await judged(server, token, submission_id))


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[str]:
    """A redis-server of this test's own on a free loopback port, without persistence."""
    binary = shutil.which("redis-server")
    require(binary is not None, "redis-server")
    assert binary is not None
    port = free_port()
    folder = tmp_path / "redis"
    folder.mkdir()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(folder)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url, socket_timeout=2)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            assert proc.poll() is None and time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.1)
    try:
        yield url
    finally:
        client.close()
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def cluster(tmp_path: Path, pg_url: str, private_redis: str) -> Iterator[Site]:
    site = Site(
        tmp_path / "site",
        env={"DATABASE_URL": pg_url, "REDIS_URL": private_redis, "QUEUE_REDELIVERY_SECONDS": "5"},
    )
    site.data.mkdir()
    site.import_problems("hello-battle")
    yield site
    site.stop()


async def test_another_instance_takes_over_the_job_of_one_killed_after_commit(
    cluster: Site, pg_url: str, private_redis: str
) -> None:
    site = cluster
    token = site.token("alice")
    site.worker()
    steady = site.serve("steady")
    doomed = serve_doomed(site, "doomed")
    await submit_and_die(doomed, token)
    submission_id = await saved_but_not_sent(pg_url)

    # The steady instance's relay sends it once the saver's grace is over; nothing restarts.
    await judged_once(pg_url, await judged(steady, token, submission_id))
    jobs = redis.Redis.from_url(private_redis, socket_timeout=2)
    try:
        assert jobs.xlen("codebattle:jobs") == 1  # sent once
    finally:
        jobs.close()

    # The dead instance comes back (without the failpoint) and works as before.
    again = site.serve("doomed")
    async with client(again, token) as api:
        reply = await api.post("/api/submissions", json=SUBMISSION)
    assert reply.status_code == 201, reply.text
    found = await judged(again, token, int(reply.json()["id"]))
    assert found["verdict"] == "AC", found
