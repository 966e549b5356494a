"""The whole cluster as it is deployed (issue 16), real processes on loopback: two API
instances and two judge workers, each with a DATA_DIR of its own (the workers never see
the API's folder: problem packages reach them through the bucket), PostgreSQL, a private
Redis and an S3 server (moto_server). A duel is played through it, a third player's
practice submissions keep both workers busy, and in the middle of the duel's judging the
worker judging the winning solution and the API instance the winner's socket is on are
killed with SIGKILL.

Nothing is lost: every submission has its verdict (none an internal error, each test
recorded once), the duel ends once with its result and rating changes, the match's event
log has no gap, and both players' sockets (the winner's reconnected to the other instance)
hold every event of it, once, in order."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.chaos.test_games_once import SLOW_SOLUTION, duel, finished
from tests.chaos.test_games_once import submit as submit_to_match
from tests.support.chaos import WAIT, client, database_of, hello_site, query, solved_once
from tests.support.match_follower import MatchFollower
from tests.support.redis_server import RedisServer, private_redis  # noqa: F401
from tests.support.s3_server import S3Server, s3_server, s3_settings  # noqa: F401
from tests.support.servers import BATTLE_ENV, Server, Site

WRONG = "a, b = map(int, input().split())\nprint(a - b)\n"
PRACTICE = 2  # slow practice submissions behind the duel's: both workers stay busy


@dataclass
class Cluster:
    sites: list[Site]  # api-1, api-2, worker-1, worker-2: a folder each
    apis: list[Server]
    workers: list[subprocess.Popen[bytes]]
    redis: RedisServer

    @property
    def database(self) -> str:
        return database_of(self.sites[0])

    def log(self, index: int) -> str:
        site = self.sites[index]
        return "".join(path.read_text() for path in site.data.glob("*.log"))


@pytest.fixture
def cluster(
    tmp_path: Path,
    pg_url: str,
    private_redis: RedisServer,  # noqa: F811
    s3_settings: dict[str, str],  # noqa: F811
) -> Iterator[Cluster]:
    shared = {"REDIS_URL": private_redis.url, "QUEUE_REDELIVERY_SECONDS": "3", **s3_settings}
    api_env = {
        **BATTLE_ENV, **shared, "DATABASE_URL": pg_url,
        "MATCH_SOCKET_OPENS": "100", "SUBMISSIONS_PER_MINUTE": "100",
    }  # fmt: skip
    # The problem is imported once, by the first API's folder: into the database and the bucket.
    with hello_site(tmp_path / "api-1", **api_env) as first:
        others = [
            Site(tmp_path / "api-2", env=api_env),
            Site(tmp_path / "worker-1", env=shared),  # no DATABASE_URL: workers never get it
            Site(tmp_path / "worker-2", env=shared),
        ]
        for site in others:
            site.data.mkdir(parents=True)
        try:
            workers = [others[1].worker("worker-1"), others[2].worker("worker-2")]
            apis = [first.serve("api-1"), others[0].serve("api-2")]
            yield Cluster([first, *others], apis, workers, private_redis)
        finally:
            for site in others:
                site.stop()


async def submit_practice(server: Server, token: str, code: str) -> int:
    async with client(server, token) as api:
        reply = await api.post(
            "/api/submissions", json={"problem": "hello-battle", "language": "python", "code": code}
        )
    assert reply.status_code == 201, reply.text
    return int(reply.json()["id"])


def holder_of(redis: RedisServer, submission_id: int) -> int | None:
    """The pid of the worker holding the submission's job (consumers are named
    worker-<host>-<pid>), if one has taken it."""
    jobs = redis.client()
    try:
        for stream in jobs.scan_iter("codebattle:jobs*", _type="stream"):
            for pending in jobs.xpending_range(stream, "workers", "-", "+", 100):
                [(_id, fields)] = jobs.xrange(stream, pending["message_id"], pending["message_id"])
                if json.loads(fields[b"job"])["submission"] == submission_id:
                    return int(pending["consumer"].decode().rsplit("-", 1)[1])
    finally:
        jobs.close()
    return None


async def until(condition: Any, what: str) -> None:
    try:
        async with asyncio.timeout(WAIT):
            while not await condition():
                await asyncio.sleep(0.1)
    except TimeoutError:
        raise AssertionError(f"waited {WAIT} s for {what}") from None


async def test_a_duel_through_the_cluster_loses_nothing_when_an_api_and_a_worker_die(
    cluster: Cluster,
    s3_server: S3Server,  # noqa: F811
) -> None:
    api_1, api_2 = cluster.apis
    site, url = cluster.sites[0], cluster.database
    alice, bob, carol = site.token("alice"), site.token("bob"), site.token("carol")
    match_id = await duel(api_1, alice, bob)
    # Alice's page is on the first instance, bob's on the second; each falls back on the other.
    followers = [
        MatchFollower(lambda: [api_1.ws_url, api_2.ws_url], match_id, alice),
        MatchFollower(lambda: [api_2.ws_url, api_1.ws_url], match_id, bob),
    ]
    following = [asyncio.create_task(f.follow()) for f in followers]
    try:
        await until(lambda: _true(all(f.events for f in followers)), "both sockets")
        solution = await submit_to_match(api_1, alice, match_id, SLOW_SOLUTION)
        wrong = await submit_to_match(api_2, bob, match_id, WRONG)
        practice = [
            await submit_practice(cluster.apis[i % 2], carol, SLOW_SOLUTION)
            for i in range(PRACTICE)
        ]

        # The winning solution is being judged: some of its tests are recorded. Kill its
        # worker, and the instance alice's socket is on.
        async def judging() -> bool:
            rows = await query(
                url, f"SELECT 1 FROM submission_tests WHERE submission_id = {solution}"
            )
            return bool(rows)

        await until(judging, "the solution's first tests")
        pid = await asyncio.to_thread(holder_of, cluster.redis, solution)
        [doomed] = [w for w in cluster.workers if w.pid == pid]
        [survivor] = [w for w in cluster.workers if w.pid != pid]
        doomed.send_signal(signal.SIGKILL)
        api_1.kill()
        await asyncio.to_thread(doomed.wait, WAIT)
        [(status,)] = await query(url, f"SELECT status FROM submissions WHERE id = {solution}")
        assert status == "running"  # killed mid-job

        over = await finished(api_2, alice, match_id)
        assert (over["state"], over["reason"]) == ("finished", "solved"), over
        # The duel: decided once, alice's solution taken once, rated once (after the end).
        [(alice_id,)] = await query(url, "SELECT id FROM users WHERE nickname = 'alice'")
        await solved_once(url, match_id, alice_id, solution)
        [(last,)] = await query(url, f"SELECT seq FROM matches WHERE id = {match_id}")
        await until(lambda: _true(all(f.last_seq >= last for f in followers)), "both sockets")
    finally:
        for task in following:
            task.cancel()
        await asyncio.gather(*following, return_exceptions=True)

    # Every submission judged, each test once, nothing left to send.
    ids = (solution, wrong, *practice)
    async with asyncio.timeout(WAIT):
        while await query(url, f"SELECT 1 FROM submissions WHERE status != 'done' AND id IN {ids}"):
            await asyncio.sleep(0.2)
    verdicts = dict(
        await query(url, f"SELECT id, verdict FROM submissions WHERE id IN {tuple(ids)}")
    )
    assert verdicts == {solution: "AC", wrong: "WA"} | dict.fromkeys(practice, "AC")
    tests = await query(
        url, 'SELECT submission_id, count(*), count(DISTINCT "index") FROM submission_tests '
        "GROUP BY submission_id",
    )  # fmt: skip
    assert all(rows == distinct for _id, rows, distinct in tests), tests
    assert await query(url, "SELECT count(*) FROM judge_outbox") == [(0,)]

    # The event log has no gap, and both sockets hold all of it, once, in order.
    logged = await query(
        url, f"SELECT seq, type FROM match_events WHERE match_id = {match_id} ORDER BY seq"
    )
    assert [seq for seq, _type in logged] == list(range(1, len(logged) + 1))
    for follower in followers:
        assert [(seq, e["type"]) for seq, e in sorted(follower.events.items())] == logged
        assert follower.out_of_order == []
    assert followers[0].connected_to[0] == api_1.ws_url
    assert followers[0].connected_to[-1] == api_2.ws_url  # reconnected to the survivor

    # The job was taken over; the survivors kept running; packages came from the bucket.
    assert "job taken over from a dead worker" in cluster.log(2) + cluster.log(3)
    assert survivor.poll() is None and api_2.proc.poll() is None
    assert "Traceback" not in cluster.log(1) + cluster.log(2) + cluster.log(3)
    bucket = cluster.sites[0].env["S3_BUCKET"]
    stored = s3_server.client().list_objects_v2(Bucket=bucket, Prefix="packages/")
    assert stored.get("KeyCount", 0) >= 1
    for worker_site in cluster.sites[2:]:
        assert not list(worker_site.data.glob("var/blobs/packages/**/*.tar.gz"))
    # The database's own checks pass: event logs whole, blobs it names in the bucket.
    assert site.cli("db", "check").endswith("0 finding(s)")


async def _true(value: bool) -> bool:
    return value
