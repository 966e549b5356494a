"""Editor telemetry on the game sockets, on a real server: a player's batch on the match socket
is stored and reaches nobody (not the opponent, not a spectator, not the sender: no echo); a
garbage batch gets `telemetry_invalid` and the same socket's chat and code still work; a
spectator gets `not_a_player`. On a room's socket, a member's batch is stored and a visitor
of the public room is refused."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from codebattle.db.session import Database
from codebattle.fairplay import telemetry
from tests.support.clients import Api, RoomSocket, Socket
from tests.support.servers import BATTLE_ENV, Site


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    site = Site(tmp_path_factory.mktemp("telemetry"), env=BATTLE_ENV)
    site.import_problems("hello-battle")
    yield site
    site.stop()


def batch(*kinds: str) -> dict[str, Any]:
    at = int(time.time() * 1000)
    events: list[dict[str, Any]] = []
    for kind in kinds:
        event: dict[str, Any] = {"kind": kind, "at": at}
        if kind == "paste":
            event.update(chars=300, lines=12, internal=False)
        elif kind == "typing":
            event.update(span=4000, chars=35, deletes=2)
        events.append(event)
    return {"v": 1, "type": "telemetry", "events": events}


async def stored(site: Site, user_id: int, **game: int) -> list[dict[str, Any]]:
    db = Database(f"sqlite+aiosqlite:///{site.data / 'var' / 'codebattle.db'}")
    try:
        async with db.reading() as session:
            return await telemetry.events_of(session, user_id, **game)
    finally:
        await db.dispose()


def leaked(socket: Socket) -> list[dict[str, Any]]:
    """Messages that carry telemetry or its numbers."""
    return [m for m in socket.received if m.get("type") == "telemetry" or "events" in m]


async def test_match_socket_telemetry_is_stored_and_never_shown(site: Site) -> None:
    server = site.serve()
    alice, bob, carol = (Api(server, site.token(n)) for n in ("tm-alice", "tm-bob", "tm-carol"))
    assert (await alice.call("POST", "/api/queue")).json()["state"] == "waiting"
    match_id = (await bob.call("POST", "/api/queue")).json()["match"]
    a = await Socket.open(server, alice.token, match_id)
    b = await Socket.open(server, bob.token, match_id)
    watcher = await Socket.open(server, carol.token, match_id)
    me = a.welcome["me"]
    await a.event("started")

    # Garbage: refused whole, and the socket goes on (chat, code).
    await a.send({"v": 1, "type": "telemetry", "events": [{"kind": "paste", "at": "now"}]})
    error = await a.next("error")
    assert error["code"] == "telemetry_invalid" and error["message"]
    await a.send({"type": "chat", "text": "still here"})
    assert (await b.next("chat"))["text"] == "still here"
    await a.send({"type": "code", "language": "python", "code": "print(1)\n"})
    await b.next("activity")

    # A player's batch is stored; the next message shows it was handled, without an answer.
    await a.send(batch("paste", "typing", "run"))
    await a.send({"type": "chat", "text": "after telemetry"})
    for socket in (a, b, watcher):
        await socket.next("chat", text="after telemetry")
    kinds = [e["kind"] for e in await stored(site, me, match_id=match_id)]
    assert kinds == ["paste", "typing", "run"]

    # A spectator is refused (and stores nothing).
    await watcher.send(batch("run"))
    assert (await watcher.next("error"))["code"] == "not_a_player"
    assert await stored(site, watcher.welcome["me"], match_id=match_id) == []

    # Nobody saw any of it: no telemetry message, no echo, no error but the two above.
    await a.send({"type": "ping"})
    await a.next("pong")
    for socket in (a, b, watcher):
        assert leaked(socket) == [], leaked(socket)
    assert [m["code"] for m in a.received if m["type"] == "error"] == ["telemetry_invalid"]
    assert [m["code"] for m in b.received if m["type"] == "error"] == []
    for socket in (a, b, watcher):
        await socket.close()


async def test_room_socket_telemetry_from_members_only(site: Site) -> None:
    server = site.serve("api-rooms")
    host, member, visitor = (Api(server, site.token(n)) for n in ("tr-host", "tr-mem", "tr-vis"))
    made = await host.call(
        "POST", "/api/rooms", {"title": "telemetry", "problems": ["hello-battle"], "public": True}
    )
    room = made.json()
    assert (await member.call("POST", f"/api/rooms/{room['id']}/join", {})).status_code == 200
    m = await RoomSocket.open(server, member.token, room["id"])
    v = await RoomSocket.open(server, visitor.token, room["id"])
    await m.send(batch(*["typing"] * 100))  # a full client batch is over a message's 4 KiB
    await v.send(batch("run"))
    assert (await v.next("error"))["code"] == "not_a_player"
    await m.send({"type": "fly"})  # anything else is still unknown
    assert (await m.next("error"))["code"] == "unknown_action"
    events = await stored(site, m.welcome["me"], room_id=room["id"])
    assert len(events) == 100 and {e["kind"] for e in events} == {"typing"}
    assert leaked(m) == leaked(v) == []
    assert [e["code"] for e in m.received if e["type"] == "error"] == ["unknown_action"]
    await m.close()
    await v.close()
