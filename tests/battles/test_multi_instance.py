"""Two API instances, one judge worker, PostgreSQL and Redis: players and a spectator on
different instances see every event of a game, in order. Then one instance dies in the
middle of a game; its player reconnects to the other and misses nothing, and the game
finishes correctly. The instance that plays an AI opponent dies too: another one takes the AI
over and it plays to the end."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
import redis

from tests.support.clients import Api, Socket
from tests.support.hosts import fresh_pg_database, reachable, require
from tests.support.servers import ROOT, Server, Site

SOLUTION = (ROOT / "problems/hello-battle/submissions/accepted/sum.py").read_text()
REDIS_URL = "redis://127.0.0.1:6379/3"  # a database of its own: other tests clear db 0


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    require(reachable(5432), "PostgreSQL on 127.0.0.1:5432")
    require(reachable(6379), "Redis on 127.0.0.1:6379")
    redis.Redis.from_url(REDIS_URL).flushdb()
    with fresh_pg_database() as database_url:
        site = Site(
            tmp_path_factory.mktemp("instances"),
            env={
                "DATABASE_URL": database_url,
                "REDIS_URL": REDIS_URL,
                "MATCH_COUNTDOWN_SECONDS": "1",
                "MATCH_SECONDS": "300",
                "DISCONNECT_GRACE_SECONDS": "60",
                "QUEUE_REDELIVERY_SECONDS": "5",
                "AI_LEVEL": "hard",
                "AI_SPEED": "4",  # it submits 5 to 15 s into the game
            },
        )
        site.cli("migrate")
        site.import_problems("hello-battle")
        try:
            yield site
        finally:
            site.stop()
            redis.Redis.from_url(REDIS_URL).flushdb()


async def pair(first: Api, second: Api) -> int:
    """Both join the queue; the matchmaker pairs them (at once with close ratings, else
    once the rating window has widened enough)."""
    assert (await first.call("POST", "/api/queue")).json()["state"] == "waiting"
    status = (await second.call("POST", "/api/queue")).json()
    async with asyncio.timeout(90):
        while status["state"] != "paired":
            assert status["state"] == "waiting", status
            await asyncio.sleep(0.5)
            status = (await second.call("GET", "/api/queue")).json()
    assert (await first.call("GET", "/api/queue")).json() == status
    return int(status["match"])


async def watch(match_id: int, *where: tuple[Server, str]) -> list[Socket]:
    """A socket on the match for each (instance, token), once each has seen the start."""
    sockets = [await Socket.open(server, token, match_id) for server, token in where]
    for socket in sockets:
        await socket.event("started")
    return sockets


def assert_in_order(*sockets: Socket) -> list[int]:
    """Each socket saw the same logged events, each once, in sequence order."""
    logs = [s.seqs() for s in sockets]
    for seqs in logs:
        assert seqs == list(range(1, seqs[-1] + 1)), seqs
    assert all(seqs == logs[0] for seqs in logs)
    events = [[(e["type"], e["at"]) for e in s.events()] for s in sockets]
    assert all(e == events[0] for e in events)
    return logs[0]


async def test_games_across_instances_survive_one_dying(site: Site) -> None:
    one, two = site.serve("api-1"), site.serve("api-2")
    site.worker()
    tokens = {n: site.token(n) for n in ("alice", "bob", "carol")}
    alice_one = Api(one, tokens["alice"])
    alice_two = Api(two, tokens["alice"])
    bob = Api(two, tokens["bob"])

    # A whole game: A on instance 1, B and a spectator on instance 2.
    match_id = await pair(alice_one, bob)
    a, b, watcher = await watch(match_id, (one, tokens["alice"]), (two, tokens["bob"]),
                                (two, tokens["carol"]))  # fmt: skip
    await bob.submit(match_id, "print(0)\n")
    for socket in (a, b, watcher):
        await socket.event("result")
    await alice_one.submit(match_id, SOLUTION)
    for socket in (a, b, watcher):
        finished = await socket.event("finished")
        await socket.event("rated")
        assert finished["event"]["winner"] == a.welcome["me"]
    assert_in_order(a, b, watcher)
    for socket in (a, b, watcher):
        await socket.close()

    # Instance 1 dies mid-game; A reconnects to instance 2 with the last number it saw.
    match_id = await pair(alice_one, bob)
    a, b, watcher = await watch(match_id, (one, tokens["alice"]), (two, tokens["bob"]),
                                (two, tokens["carol"]))  # fmt: skip
    await bob.submit(match_id, "print(0)\n")
    await a.event("result")
    kill_instance(one)
    seen_before = a.seqs()
    a_again = await Socket.open(two, tokens["alice"], match_id, last_seq=seen_before[-1])
    await alice_two.submit(match_id, SOLUTION)
    for socket in (a_again, b, watcher):
        finished = await socket.event("finished")
        assert finished["event"]["winner"] == a.welcome["me"]
        assert finished["event"]["reason"] == "solved"
    await b.event("rated")
    await watcher.event("rated")
    await a_again.event("rated")
    whole = seen_before + a_again.seqs()
    assert whole == list(range(1, whole[-1] + 1)), whole  # no gap, no repeat
    full = assert_in_order(b, watcher)
    assert whole == full
    for socket in (a_again, b, watcher):
        await socket.close()


async def test_the_ai_plays_on_when_its_instance_dies(site: Site) -> None:
    one, two = site.serve("api-3"), site.serve("api-4")
    site.worker("worker-2")
    token = site.token("dave")
    dave = Api(one, token)
    match_id = (await dave.call("POST", "/api/matches/ai", {})).json()["id"]
    (mine,) = await watch(match_id, (two, token))
    kill_instance(one)  # the AI's driver dies with it, before the AI has submitted
    # Its lease runs out; instance 2 takes the AI over, and it solves the problem.
    finished = await mine.event("finished")
    ai = next(p["id"] for p in mine.welcome["match"]["players"] if p["ai"])
    assert finished["event"]["winner"] == ai
    assert finished["event"]["reason"] == "solved"
    submitted = [e for e in mine.events() if e["type"] == "submitted"]
    assert 1 <= len(submitted) <= 2  # the plan's attempts, each once: no driver doubled it
    assert all(e["user"] == ai for e in submitted)
    await mine.close()


async def test_two_tabs_on_two_instances_count_as_one_player(site: Site) -> None:
    one, two = site.serve("api-5"), site.serve("api-6")
    tokens = {n: site.token(n) for n in ("erin", "frank")}
    erin, frank = Api(one, tokens["erin"]), Api(two, tokens["frank"])
    match_id = await pair(erin, frank)
    tab_one, tab_two, other = await watch(
        match_id, (one, tokens["erin"]), (two, tokens["erin"]), (two, tokens["frank"])
    )
    me = tab_one.welcome["me"]
    await tab_one.close()  # closed on instance 1; the tab on instance 2 stays
    await asyncio.sleep(1.0)
    match = (await frank.call("GET", f"/api/matches/{match_id}")).json()
    assert next(p["connected"] for p in match["players"] if p["id"] == me)
    await tab_two.close()
    assert (await other.event("disconnected"))["event"]["user"] == me
    assert [e["type"] for e in other.events()].count("disconnected") == 1
    await other.send({"type": "give_up"})
    await other.event("finished")
    await other.close()


def kill_instance(server: Server) -> None:
    server.kill()
    assert server.proc.poll() is not None
