"""PostgreSQL crashes in the middle of a ranked duel and comes back: nothing is lost, nothing
is done twice.

A `codebattle serve` and a `codebattle worker` on a private PostgreSQL cluster
(tests/support/pg_server.py) and a private redis-server. Two players are paired; one submits
a wrong answer (judged), the other submits the solution, and PostgreSQL is stopped the hard
way ("immediate": no checkpoint, every connection cut) while that solution is judged. During
the outage every request that needs the database answers 503 with Retry-After, never 500;
a socket opened then, or one whose message needs the database, closes with 1013. The
judge's results wait in Redis (not acknowledged) until the database is back; then the game
goes on by itself and ends once: one `finished` event, one rating change per player, every
submission done, and the submission refused during the outage never saved.

In-process, a transition's transaction is cut by a crash right before its COMMIT (every
statement sent): a match's finishing move with its rating, and a room's scoring of a
verdict. After the restart none of it is there, and the same transition applied again
lands once.

Real processes on loopback; every wait is bounded (the duel takes about 20 s)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from sqlalchemy import event, func, select

from codebattle.battles import fsm
from codebattle.battles import service as battles
from codebattle.battles.models import MatchRow
from codebattle.db import outage
from codebattle.db.session import Database
from codebattle.judge.jobs import Event
from codebattle.progress.models import PlayerRating, RatingChange
from codebattle.rooms import service as rooms
from codebattle.rooms.models import RoomMember
from codebattle.storage import LocalBlobStore
from codebattle.submissions import recording
from codebattle.submissions import service as submissions
from tests.support.chaos import database_of, hello_site, query, solved_once
from tests.support.clients import Api, Socket
from tests.support.factories import make_problem_version, make_room, make_user
from tests.support.pg_server import PgServer, private_db, private_pg  # noqa: F401
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
) -> Iterator[Site]:
    """A site on a database of the private cluster and the private Redis."""
    with (
        private_pg.database(migrated=True) as url,
        hello_site(
            tmp_path / "site", **BATTLE_ENV, DATABASE_URL=url, REDIS_URL=private_redis.url,
            QUEUE_REDELIVERY_SECONDS="2", DISCONNECT_GRACE_SECONDS="120",
        ) as site,
    ):  # fmt: skip
        yield site


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
    site: Site,
    private_pg: PgServer,  # noqa: F811
) -> None:
    tokens = {name: site.token(name) for name in ("alice", "bob")}
    server = site.serve("api")
    site.worker("worker")
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
    # An open socket whose message needs the database (chat is stored) closes the same way.
    await watcher.send({"type": "chat", "text": "still there?"})
    async with asyncio.timeout(15):
        with pytest.raises(websockets.ConnectionClosed) as closed:
            while True:
                await watcher.ws.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1013
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
    await asyncio.sleep(3)  # the redelivery delay passes: a second recording would show now

    # Decided once; each player's one game counted once.
    url = database_of(site)
    await solved_once(url, match_id, alice_id, solution)
    assert await query(url, "SELECT games FROM ratings") == [(1,), (1,)]
    submissions = await query(
        url, f"SELECT id, status, verdict FROM submissions WHERE match_id = {match_id} ORDER BY id"
    )
    # Two: the one refused during the outage was never saved.
    assert [row[1:] for row in submissions] == [("done", "WA"), ("done", "AC")]
    assert submissions[1][0] == solution

    log = server.log.read_text()
    assert "unhandled error" not in log and "Exception in ASGI application" not in log
    assert "a backing service is unavailable" in log


# One transition, one transaction: PostgreSQL crashes right before a transition's COMMIT,
# every statement of it already sent. Nothing of it is seen after the restart, and the same
# transition applied again lands once.


@contextlib.contextmanager
def crash_before_commit(db: Database, server: PgServer) -> Iterator[None]:
    """Crash the server the next time a transaction of `db` is about to commit."""
    armed = [True]

    def crash(_connection: Any) -> None:
        if armed[0]:
            armed[0] = False
            server.stop("immediate")

    event.listen(db.engine.sync_engine, "commit", crash)
    try:
        yield
    finally:
        event.remove(db.engine.sync_engine, "commit", crash)
        assert not armed[0], "no transaction reached its commit"


async def test_a_finishing_match_transition_cut_by_a_crash_leaves_nothing(
    private_db: Database,  # noqa: F811
    private_pg: PgServer,  # noqa: F811
    tmp_path: Path,
) -> None:
    db = private_db
    async with db.session() as session:
        version = await make_problem_version(session, LocalBlobStore(tmp_path / "blobs"))
        a, b = await make_user(session, "alice"), await make_user(session, "bob")
        ids = (a.id, b.id)
        row = await battles.create(
            session, mode="ranked", problem_id=version.problem_id, problem_version_id=version.id,
            settings=fsm.Settings(tests=22, duration=300, countdown=3, grace=20), rated=True,
        )  # fmt: skip
        match_id = row.id
        await session.commit()
    async with db.session() as session:
        for kind, user, at in (("join", ids[0], 0), ("join", ids[1], 1), ("ready", ids[0], 2),
                               ("ready", ids[1], 3)):  # fmt: skip
            await battles.apply(session, match_id, {"type": kind, "user": user}, at)
        await battles.apply(session, match_id, None, 6.0)  # started
    solve = {"type": "result", "user": ids[0], "passed": 22}

    with crash_before_commit(db, private_pg), pytest.raises(Exception) as raised:
        async with db.session() as session:
            await battles.apply(session, match_id, solve, 60)
    assert outage.is_unavailable(raised.value)
    await asyncio.to_thread(private_pg.start)

    async with db.reading() as session:
        log = [e.type for e in await battles.events_since(session, match_id, 0)]
        assert log[-1] == "started" and "finished" not in log
        match = await session.get(MatchRow, match_id)
        assert match is not None and match.state == fsm.State.running
        assert await session.scalar(select(func.count()).select_from(RatingChange)) == 0
        assert await session.scalar(select(func.count()).select_from(PlayerRating)) == 0
    async with db.session() as session:  # the verdict comes again (redelivered): once
        done = await battles.apply(session, match_id, solve, 61)
        assert [e.type for e in done] == ["result", "finished"]
        # Fair play found nothing: the game is rated, once.
        rated = await battles.settle_rating(session, match_id, hold=False, now=62)
        assert [e.type for e in rated] == ["rated"]
    async with db.reading() as session:
        log = [e.type for e in await battles.events_since(session, match_id, 0)]
        assert log.count("finished") == 1 and log.count("rated") == 1
        changes = (await session.scalars(select(RatingChange.user_id))).all()
        assert sorted(changes) == sorted(ids)
        games = (await session.scalars(select(PlayerRating.games))).all()
        assert games == [1, 1]


async def test_a_room_result_cut_by_a_crash_counts_once_after_it(
    private_db: Database,  # noqa: F811
    private_pg: PgServer,  # noqa: F811
    tmp_path: Path,
) -> None:
    db, blobs = private_db, LocalBlobStore(tmp_path / "blobs")
    async with db.session() as session:
        await make_problem_version(session, blobs)
        host, player = await make_user(session, "host"), await make_user(session, "player")
        room_id = (await make_room(session, host)).id
        await rooms.change(session, room_id, player, "join")
        await rooms.change(session, room_id, host, "start")
        target = await rooms.room_target(session, room_id, player.id, "hello-battle")
        submission, _job = await submissions.create(
            session, blobs, player, None, "python", "print(1)\n", max_code_bytes=65536,
            target=target, room_id=room_id,
        )  # fmt: skip
        await session.commit()
    tests = [
        {"name": f"secret/{i}", "verdict": "AC", "time": 0.01, "memory": 1024, "sample": False}
        for i in range(target.test_count)
    ]
    result = {"verdict": "AC", "compile_output": "", "message": "",
              "tests_total": target.test_count, "judge_time": 0.1, "tests": tests}  # fmt: skip
    done: Any = {"submission": submission.id, "type": "done", "result": result}
    events: list[Event] = [done]
    async with db.session() as session:
        [recorded] = await recording.record_batch(session, events)
    assert recorded is not None and recorded.verdict == "AC"

    async def pass_on() -> list[Any]:
        async with db.session() as session:
            return await rooms.change(
                session, room_id, None, "result", user_id=player.id,
                version_id=recorded.version_id, verdict="AC", submitted_at=recorded.made_at,
                submission_id=recorded.submission_id,
            )  # fmt: skip

    async def solved() -> tuple[int, bool]:
        async with db.reading() as session:
            member = await session.get(RoomMember, (room_id, player.id))
            assert member is not None
            return member.solved, await recording.reported(session, submission.id)

    with crash_before_commit(db, private_pg), pytest.raises(Exception) as raised:
        await pass_on()
    assert outage.is_unavailable(raised.value)
    await asyncio.to_thread(private_pg.start)
    assert await solved() == (0, False)  # neither the solve nor "taken" was kept
    assert await pass_on()  # passed on again (as runtime.report_verdicts does): counted
    assert await pass_on() == []  # a redelivery after that: nothing
    assert await solved() == (1, True)
