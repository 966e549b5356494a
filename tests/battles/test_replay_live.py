"""Replays on a real server: a game against the offline AI shows the AI's attempts but never
its code (a problem's reference solution), anywhere; a player reconnecting in a loop is
refused with 4429 and cannot grow the replay; a replay is read through its pages."""

from __future__ import annotations

import asyncio
import json
import math
import sqlite3
import time
from collections.abc import Iterator
from typing import Any

import pytest
import websockets

from tests.support.clients import Api, Socket
from tests.support.servers import BATTLE_ENV, ROOT, Server, Site

REFERENCE = ROOT / "problems/hello-battle/submissions/accepted"
# A line of every reference solution, as it appears in any text that carries the code.
REFERENCE_LINES = {
    "sum.py": "a, b = map(int, sys.stdin.buffer.read().split())",
    "sum.cpp": "long long a, b;",
    "Sum.java": "long a = Long.parseLong(st.nextToken());",
}
OPENS, WINDOW = 5, 2.0
SNAPSHOTS, SNAPSHOT_BYTES, PAGE_BYTES = 3, 6000, 2500


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    site = Site(
        tmp_path_factory.mktemp("replays"),
        env={
            **BATTLE_ENV,
            "MATCH_SOCKET_OPENS": str(OPENS),
            "MATCH_SOCKET_OPENS_SECONDS": str(WINDOW),
            "REPLAY_SNAPSHOTS_PER_PLAYER": str(SNAPSHOTS),
            "REPLAY_SNAPSHOT_BYTES_PER_PLAYER": str(SNAPSHOT_BYTES),
            "REPLAY_PAGE_BYTES": str(PAGE_BYTES),
        },
    )
    site.import_problems("hello-battle")
    yield site
    site.stop()


def strings(value: Any) -> Iterator[str]:
    """Every string inside a JSON value."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def shows_reference_code(text: str) -> bool:
    return any(line in text for line in REFERENCE_LINES.values())


async def test_an_ai_games_replay_has_its_verdicts_and_times_but_no_code(
    site: Site, server: Server
) -> None:
    for name, line in REFERENCE_LINES.items():  # the lines looked for are the real ones
        assert line in (REFERENCE / name).read_text()
    dave = Api(server, site.token("dave"))
    match_id = (await dave.call("POST", "/api/matches/ai", {"level": "hard"})).json()["id"]
    me = await Socket.open(server, dave.token, match_id)
    [ai] = [p["id"] for p in me.welcome["match"]["players"] if p["ai"]]
    await me.event("started")
    await me.send({"type": "code", "language": "python", "code": "print('dave was here')\n"})
    finished = await me.event("finished")
    assert finished["event"]["winner"] == ai
    await me.close()

    # The replay: the AI's attempts with their verdict and times; no code of its own.
    replay = (await dave.call("GET", f"/api/matches/{match_id}/replay")).json()
    attempts = [s for s in replay["submissions"] if s["user"] == ai]
    assert attempts and attempts[-1]["verdict"] == "AC"
    assert all(s["at"] > 0 and s["time"] >= 0 and "code" not in s for s in attempts)
    assert [e["submission"] for e in replay["events"] if e["type"] == "submitted"] == [
        s["id"] for s in attempts
    ]
    assert replay["next"] is None
    assert all(c["user"] != ai for c in replay["code"])  # neither snapshots nor submitted code
    assert any(c["code"] == "print('dave was here')\n" for c in replay["code"])  # a human's stay
    assert not any(shows_reference_code(text) for text in strings(replay))

    # Nor anywhere else: the replay page, the match, the history, the AI's submissions.
    page = await dave.call("GET", f"/matches/{match_id}/replay")
    assert page.status_code == 200 and "dave was here" in page.text
    assert not shows_reference_code(page.text)
    for path in (f"/api/matches/{match_id}", "/api/matches?live_only=false", "/api/matches"):
        listed = await dave.call("GET", path)
        assert listed.status_code == 200 and not shows_reference_code(listed.text)
    for attempt in attempts:  # only a submission's owner reads it; the AI has no token
        refused = await dave.call("GET", f"/api/submissions/{attempt['id']}")
        assert refused.status_code == 404 and not shows_reference_code(refused.text)


async def open_code_close(server: Server, token: str, match_id: int, code: str) -> int | None:
    """One reconnect cycle: open the match socket, type, close. The close code when the
    server refused the socket, else None."""
    try:
        async with websockets.connect(
            f"{server.ws_url}/ws/matches/{match_id}",
            additional_headers={"Authorization": f"Bearer {token}"},
        ) as ws:
            await ws.send(json.dumps({"type": "hello", "last_seq": 0}))
            while json.loads(await ws.recv())["type"] != "welcome":
                pass
            await ws.send(json.dumps({"type": "code", "language": "python", "code": code}))
            await ws.send(json.dumps({"type": "ping"}))  # answered once the code was handled
            while json.loads(await ws.recv())["type"] != "pong":
                pass
    except websockets.ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd else -1
    return None


async def ranked_match(site: Site, server: Server, one: str, two: str) -> tuple[Api, Api, int]:
    first, second = Api(server, site.token(one)), Api(server, site.token(two))
    await first.call("POST", "/api/queue")
    paired = (await second.call("POST", "/api/queue")).json()
    assert paired["state"] == "paired", paired
    watcher = await Socket.open(server, second.token, paired["match"])
    await watcher.event("started")
    await watcher.close()
    await asyncio.sleep(WINDOW)  # the watcher's open is forgotten
    return first, second, paired["match"]


def snapshot_rows(site: Site, match_id: int) -> list[tuple[int, int, int, str]]:
    with sqlite3.connect(site.data / "var" / "codebattle.db") as db:
        return db.execute(
            "SELECT id, user_id, size, code FROM code_snapshots WHERE match_id = ? ORDER BY id",
            (match_id,),
        ).fetchall()


async def read_pages(api: Api, match_id: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    first = (await api.call("GET", f"/api/matches/{match_id}/replay")).json()
    pages = [first]
    while pages[-1]["next"] is not None:
        reply = await api.call("GET", f"/api/matches/{match_id}/replay?after={pages[-1]['next']}")
        assert reply.status_code == 200, reply.text
        assert set(reply.json()) == {"code", "next"}  # later pages: code only
        pages.append(reply.json())
        assert len(pages) < 100
    return first, pages


async def test_forty_reconnects_leave_a_bounded_replay_read_through_its_pages(
    site: Site, server: Server
) -> None:
    alice, bob, match_id = await ranked_match(site, server, "alice", "bob")
    me = (await alice.call("GET", "/api/me")).json()["id"]
    # The attack: 40 open/close cycles, each with new code (2 KB), as fast as it goes.
    began = time.monotonic()
    outcomes = [
        await open_code_close(server, alice.token, match_id, f"# {n}\n" + "x" * 2000 + "\n")
        for n in range(40)
    ]
    windows = math.ceil((time.monotonic() - began) / WINDOW) + 1
    admitted = outcomes.count(None)
    assert set(outcomes) <= {None, 4429}
    assert 1 <= admitted <= OPENS * windows and outcomes.count(4429) >= 40 - OPENS * windows
    # Identical code is not stored again; the opponent's own opens are not limited by hers.
    assert await open_code_close(server, bob.token, match_id, "print(1)\n") is None
    assert await open_code_close(server, bob.token, match_id, "print(1)\n") is None

    rows = snapshot_rows(site, match_id)
    hers = [r for r in rows if r[1] == me]
    assert 1 <= len(hers) <= SNAPSHOTS
    assert sum(r[2] for r in hers) <= SNAPSHOT_BYTES + 2100  # the cap, and the newest
    assert [r[3] for r in rows if r[1] != me] == ["print(1)\n"]
    ws = await Socket.open(server, bob.token, match_id)
    await ws.send({"type": "give_up"})
    await ws.event("finished")
    await ws.close()

    # The replay comes in pages within REPLAY_PAGE_BYTES; together they hold every snapshot.
    first, pages = await read_pages(bob, match_id)
    assert len(pages) >= 2
    snapshots = [c for p in pages for c in p["code"] if c["kind"] == "snapshot"]
    assert [c["id"] for c in snapshots] == [r[0] for r in rows]
    assert [c["code"] for c in snapshots] == [r[3] for r in rows]
    for page in pages:
        size = sum(len(c["code"].encode()) for c in page["code"])
        assert size <= PAGE_BYTES or len(page["code"]) == 1
    # The log holds no more reconnects than the limit let through.
    back = [e for e in first["events"] if e["type"] == "reconnected" and e["user"] == me]
    assert len(back) <= admitted

    # A page cursor that no page gave, or a limit out of range: 422, not a 500.
    for query in ("after=zzz", "after=s99999999999", "limit=0", "limit=100000"):
        refused = await bob.call("GET", f"/api/matches/{match_id}/replay?{query}")
        assert refused.status_code == 422, (query, refused.text)
    assert (await bob.call("GET", f"/api/matches/{match_id}/replay?limit=1")).json()["next"]


async def test_opening_a_match_socket_too_often_is_refused_with_4429(
    site: Site, server: Server
) -> None:
    erin, _frank, match_id = await ranked_match(site, server, "erin", "frank")
    grace = Api(server, site.token("grace"))  # a spectator is limited the same way
    for api in (erin, grace):
        outcomes = []
        while 4429 not in outcomes:
            outcomes.append(await open_code_close(server, api.token, match_id, "# hi\n"))
            # A window boundary may reset the count (twice on a loaded machine: slow opens).
            assert len(outcomes) <= 3 * OPENS
        assert outcomes[0] is None
    # The refusal lasts until the window ends: then the client is let in again.
    await asyncio.sleep(WINDOW)
    assert await open_code_close(server, erin.token, match_id, "# back\n") is None
