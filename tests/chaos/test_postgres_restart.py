"""PostgreSQL crashes in the middle of a ranked duel and comes back: nothing is lost, nothing
is done twice.

A `codebattle serve` and a `codebattle worker` on a private PostgreSQL cluster
(tests/support/pg_server.py) and a private redis-server. Two players are paired; one submits
a wrong answer (judged), the other submits the solution, and PostgreSQL is stopped the hard
way ("immediate": no checkpoint, every connection cut) while that solution is judged. During
the outage every request that needs the database answers 503 with Retry-After, never 500,
and a socket opened then closes with 1013. The judge's results wait in Redis (not acknowledged)
until the database is back; then the game goes on by itself and ends once: one `finished`
event, one rating change per player, every submission done, and the submission refused
during the outage never saved.

Real processes on loopback; every wait is bounded (the whole test takes about 20 s)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import websockets

from tests.support.clients import Api, Socket
from tests.support.pg_server import PgServer, private_pg  # noqa: F401  (the fixture)
from tests.support.redis_server import RedisServer, private_redis  # noqa: F401
from tests.support.servers import BATTLE_ENV, ROOT, Server, Site

SOLUTION = (ROOT / "problems/hello-battle/submissions/accepted/sum.py").read_text()
WAIT = 60.0  # seconds any one wait may take (starting a server, judging, pairing)
OUTAGE_SECONDS = 4.0  # how long PostgreSQL stays down


@pytest.fixture
def site(
    tmp_path: Path,
    private_pg: PgServer,  # noqa: F811
    private_redis: RedisServer,  # noqa: F811
) -> Iterator[tuple[Site, str]]:
    """The site's settings and its database's URL (in the private cluster)."""
    with private_pg.database() as url:
        site = Site(
            tmp_path / "site",
            env={**BATTLE_ENV, "DATABASE_URL": url, "REDIS_URL": private_redis.url,
                 "QUEUE_REDELIVERY_SECONDS": "2", "DISCONNECT_GRACE_SECONDS": "120"},
        )  # fmt: skip
        site.data.mkdir()
        site.cli("migrate")
        site.import_problems("hello-battle")
        try:
            yield site, url
        finally:
            site.stop()
            if not private_pg.running():
                private_pg.start()  # so that the database can be dropped


async def query(url: str, sql: str, *args: Any) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(url, timeout=10)
    try:
        return list(await conn.fetch(sql, *args))
    finally:
        await conn.close()


async def pair(first: Api, second: Api) -> int:
    assert (await first.call("POST", "/api/queue")).json()["state"] == "waiting"
    status = (await second.call("POST", "/api/queue")).json()
    async with asyncio.timeout(WAIT):
        while status["state"] != "paired":
            assert status["state"] == "waiting", status
            await asyncio.sleep(0.3)
            status = (await second.call("GET", "/api/queue")).json()
    return int(status["match"])


async def during_outage(server: Server, token: str, match_id: int) -> list[tuple[str, int]]:
    """Ask what a player would ask (a page, the API, a submission) while the database is
    down, for OUTAGE_SECONDS: each answer must be a 503 with a retry hint and our message."""
    seen: list[tuple[str, int]] = []
    asks = [
        ("GET", f"/api/matches/{match_id}", None, {}),
        ("GET", "/api/queue", None, {}),
        ("GET", "/problems", None, {"Accept": "text/html", "Accept-Language": "en"}),
        ("POST", "/api/submissions",
         {"problem": "hello-battle", "language": "python", "code": "print(1)\n",
          "match": match_id}, {}),
    ]  # fmt: skip
    loop = asyncio.get_running_loop()
    end = loop.time() + OUTAGE_SECONDS
    async with httpx.AsyncClient(
        base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=15
    ) as client:
        while loop.time() < end:
            for method, path, body, headers in asks:
                reply = await client.request(method, path, json=body, headers=headers)
                seen.append((path, reply.status_code))
                assert reply.status_code == 503, (path, reply.status_code, reply.text[:500])
                assert 1 <= int(reply.headers["Retry-After"]) <= 30
                assert "Traceback" not in reply.text
                if path.startswith("/api"):
                    assert reply.json()["error"]["code"] == "service_unavailable"
                else:
                    assert "briefly unavailable" in reply.text
            await asyncio.sleep(0.2)
    return seen


async def socket_during_outage(server: Server, token: str, match_id: int) -> int:
    """A match socket opened while the database is down: the close code it gets."""
    async with asyncio.timeout(15):
        async with websockets.connect(
            f"{server.ws_url}/ws/matches/{match_id}",
            additional_headers={"Authorization": f"Bearer {token}"},
        ) as ws:
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await ws.send(json.dumps({"type": "hello", "last_seq": 0}))
                while True:
                    await ws.recv()
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code


async def open_when_back(server: Server, token: str, match_id: int) -> Socket:
    """A match socket once the database is back (the first try may still meet the outage's
    end: a socket closed with 1013 is tried again, as a client does)."""
    async with asyncio.timeout(WAIT):
        while True:
            try:
                return await Socket.open(server, token, match_id)
            except websockets.ConnectionClosed as closed:
                assert closed.rcvd is not None and closed.rcvd.code == 1013, closed
                await asyncio.sleep(0.5)


async def test_a_duel_survives_a_postgres_crash_and_ends_once(
    site: tuple[Site, str],
    private_pg: PgServer,  # noqa: F811
) -> None:
    cluster, url = site
    tokens = {name: cluster.token(name) for name in ("alice", "bob")}
    server = cluster.serve("api")
    cluster.worker("worker")
    alice, bob = Api(server, tokens["alice"]), Api(server, tokens["bob"])
    match_id = await pair(alice, bob)
    watcher = await Socket.open(server, tokens["bob"], match_id)
    await watcher.event("started")
    alice_id = next(
        p["id"] for p in watcher.welcome["match"]["players"] if p["id"] != watcher.welcome["me"]
    )

    await bob.submit(match_id, "print(0)\n")
    await watcher.event("result")  # judged and recorded: a wrong answer, the game goes on
    solution = await alice.submit(match_id, SOLUTION)

    # The database crashes while the solution is judged.
    await asyncio.to_thread(private_pg.stop, "immediate")
    seen = await during_outage(server, tokens["bob"], match_id)
    assert len(seen) >= 8
    assert await socket_during_outage(server, tokens["bob"], match_id) == 1013
    await asyncio.to_thread(private_pg.start)
    restarted = time.time()

    # The game goes on by itself: the verdict waited in Redis and is recorded now.
    back = await open_when_back(server, tokens["bob"], match_id)
    finished = await back.event("finished")
    assert finished["event"]["at"] >= restarted  # decided after the outage, not before it
    assert finished["event"]["winner"] == alice_id
    assert finished["event"]["reason"] == "solved"
    await back.event("rated")
    await back.close()
    await watcher.close()
    await asyncio.sleep(3)  # the redelivery delay passes: a second recording would show now

    # Decided once.
    events = await query(
        url, "SELECT type FROM match_events WHERE match_id = $1 ORDER BY seq", match_id
    )
    types = [row["type"] for row in events]
    assert types.count("finished") == 1, types
    assert types.count("rated") == 1, types
    [match] = await query(
        url, "SELECT state, winner_id, reason FROM matches WHERE id = $1", match_id
    )
    assert (match["state"], match["winner_id"], match["reason"]) == ("finished", alice_id, "solved")
    changes = await query(
        url, "SELECT user_id, count(*) AS n FROM rating_changes WHERE match_id = $1"
        " GROUP BY user_id", match_id,
    )  # fmt: skip
    assert sorted(row["n"] for row in changes) == [1, 1]
    ratings = await query(url, "SELECT games FROM ratings")
    assert sorted(row["games"] for row in ratings) == [1, 1]
    submissions = await query(
        url, "SELECT id, status, verdict FROM submissions WHERE match_id = $1 ORDER BY id", match_id
    )
    # Two: the one refused during the outage was never saved.
    assert [(row["status"], row["verdict"]) for row in submissions] == [
        ("done", "WA"), ("done", "AC")
    ]  # fmt: skip
    assert submissions[1]["id"] == solution
    [row] = await query(
        url, "SELECT tests_total, (SELECT count(*) FROM submission_tests t WHERE"
        " t.submission_id = s.id) AS recorded FROM submissions s WHERE id = $1", solution,
    )  # fmt: skip
    assert row["tests_total"] > 0 and row["recorded"] == row["tests_total"]  # each test once

    log = server.log.read_text()
    assert "unhandled error" not in log and "Exception in ASGI application" not in log
    assert "a backing service is unavailable" in log
