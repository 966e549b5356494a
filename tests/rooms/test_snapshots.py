"""A room's socket welcome, read once per sequence number for everyone who connects
(rooms/snapshots.py): shared, read again after the room's next event, and never the reason a
member is refused."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
import websockets
from sqlalchemy import event
from websockets.sync.client import connect

from codebattle.accounts import service as accounts
from codebattle.app import create_app
from codebattle.config import Settings
from codebattle.db.session import Database
from codebattle.judge.engine import Judge
from codebattle.realtime.pubsub import MemoryPubSub
from codebattle.rooms import live
from codebattle.rooms import service as rooms
from codebattle.rooms.snapshots import Snapshot, Snapshots
from codebattle.services import Services
from codebattle.storage import LocalBlobStore
from tests.support.factories import make_problem_version, make_room, make_user
from tests.support.servers import free_port
from tests.support.site import runner_factory


class Counted(Snapshots):
    reads = 0

    async def _read(self, *args: Any) -> Snapshot | None:
        self.reads += 1
        return await super()._read(*args)


class FakeServices:
    """What rooms.live.act uses of the services: the database and pub/sub."""

    def __init__(self, db: Database, pubsub: MemoryPubSub) -> None:
        self.db, self.pubsub = db, pubsub


@pytest.fixture
async def setup(db: Database, tmp_path: Path) -> tuple[Database, dict[str, Any]]:
    async with db.session() as session:
        await make_problem_version(session, LocalBlobStore(tmp_path / "blobs"))
        host, guest = await make_user(session), await make_user(session)
        room = await make_room(session, host, public=False)
        await session.commit()
        return db, {"room": room.id, "code": room.code, "host": host, "guest": guest}


async def test_connections_share_one_read_until_the_next_event(
    setup: tuple[Database, dict[str, Any]],
) -> None:
    db, ids = setup
    pubsub = MemoryPubSub()
    snapshots = Counted(db, pubsub)
    room_id = ids["room"]
    first = await asyncio.gather(*(snapshots.get(room_id, "en") for _ in range(20)))
    assert snapshots.reads == 1 and len({id(s) for s in first}) == 1
    assert (await snapshots.get(room_id, "en")) is first[0] and snapshots.reads == 1
    # Another language reads its own (problem names differ).
    await snapshots.get(room_id, "ko")
    assert snapshots.reads == 2
    # The host announces: logged and published; the next connection reads the room again.
    services: Any = FakeServices(db, pubsub)
    [said] = await live.act(services, room_id, ids["host"], "announce", text="hi")
    again = await snapshots.get(room_id, "en")
    assert snapshots.reads == 3 and again is not None and again.seq == said.seq
    assert (await snapshots.get(room_id, "en")) is again and snapshots.reads == 3
    assert await snapshots.get(999_999, "en") is None


async def test_a_member_is_let_in_even_before_the_join_reaches_the_snapshot(
    setup: tuple[Database, dict[str, Any]],
) -> None:
    db, ids = setup
    snapshots = Snapshots(db, MemoryPubSub())
    room_id, guest = ids["room"], ids["guest"]
    before = await snapshots.get(room_id, "en")
    assert before is not None and not before.visible_to(guest.id)
    assert before.visible_to(ids["host"].id) and before.room_for(guest.id)["code"] is None
    assert not await snapshots.visible(room_id, guest)
    # Joined, but the event not published (as if on its way from another instance).
    async with db.session() as session:
        await rooms.change(session, room_id, guest, "join", code=ids["code"])
    assert await snapshots.get(room_id, "en") is before  # nothing said it moved on
    assert await snapshots.visible(room_id, guest)  # the database knows
    fresh = await snapshots.get(room_id, "en", fresh=True)
    assert fresh is not None and fresh.visible_to(guest.id)
    assert fresh.room_for(guest.id)["member"] and fresh.room_for(guest.id)["code"] == ids["code"]


@pytest.fixture
def served(
    app_settings: Settings, judge: Judge, judge_root: Path
) -> Iterator[tuple[str, Services]]:
    """The app on uvicorn in a thread of this process (its database engine in reach)."""
    services = Services.from_settings(app_settings, runner_factory(judge, app_settings, judge_root))
    port = free_port()
    config = uvicorn.Config(
        create_app(app_settings, services), host="127.0.0.1", port=port,
        ws="websockets-sansio", log_level="warning",
    )  # fmt: skip
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started:
            assert time.monotonic() < deadline and thread.is_alive(), "the server did not start"
            time.sleep(0.05)
        yield f"127.0.0.1:{port}", services
    finally:
        server.should_exit = True
        thread.join(30)


def loops_statements(services: Services) -> set[str]:
    """What the server's own loops (deadline sweeps, matchmaking, the AI keeper) run while no
    socket comes: 3 s covers each of them (the slowest looks every 2 s). A count of the
    sockets' statements leaves these out."""
    statements: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(services.db.engine.sync_engine, "before_cursor_execute", seen)
    try:
        time.sleep(3.0)
    finally:
        event.remove(services.db.engine.sync_engine, "before_cursor_execute", seen)
    return set(statements)


def test_a_room_socket_reads_the_database_once_when_the_snapshot_is_shared(
    served: tuple[str, Services], app_settings: Settings
) -> None:
    address, services = served

    async def token() -> str:
        async with Database(app_settings.database_url).session() as session:
            _, plain = await accounts.create_token(session, await make_user(session), "t")
            return plain

    headers = {"Authorization": f"Bearer {asyncio.run(token())}"}
    body = {"title": "t", "problems": ["hello-battle"], "public": True}
    room = httpx.post(f"http://{address}/api/rooms", json=body, headers=headers).json()
    statements: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "UPDATE", "INSERT")):
            statements.append(statement)

    def welcome() -> dict[str, Any]:
        url = f"ws://{address}/ws/rooms/{room['id']}"
        with connect(url, additional_headers=headers) as ws:
            ws.send(json.dumps({"type": "hello", "snapshot": True}))
            message: dict[str, Any] = json.loads(ws.recv(10))
        return message

    assert welcome()["type"] == "welcome"  # the first one reads the snapshot
    loops = loops_statements(services)
    event.listen(services.db.engine.sync_engine, "before_cursor_execute", seen)
    try:
        for _ in range(3):
            assert welcome()["room"]["title"] == "t"
    finally:
        event.remove(services.db.engine.sync_engine, "before_cursor_execute", seen)
    # One query per connection: who the token's user is.
    statements = [s for s in statements if s not in loops]
    assert len(statements) == 3, statements
    assert all("api_tokens" in s for s in statements)


def test_fifty_room_sockets_at_once_share_their_users_reads(
    served: tuple[str, Services], app_settings: Settings
) -> None:
    """web/security.SignIns: sockets that arrive together find their users in one read, so
    fifty sockets opened at once make far fewer than fifty queries."""
    address, services = served

    async def tokens() -> list[str]:
        async with Database(app_settings.database_url).session() as session:
            made = [await accounts.create_token(session, await make_user(session), "t")]
            made += [await accounts.create_token(session, await make_user(session), "t")]
        return [plain for _, plain in made]

    plains = asyncio.run(tokens())
    body = {"title": "t", "problems": ["hello-battle"], "public": True}
    host = {"Authorization": f"Bearer {plains[0]}"}
    room = httpx.post(f"http://{address}/api/rooms", json=body, headers=host).json()
    url = f"ws://{address}/ws/rooms/{room['id']}"
    # Both tokens' first use is recorded (a write of its own) before the count starts.
    second = {"Authorization": f"Bearer {plains[1]}"}
    httpx.get(f"http://{address}/api/rooms/{room['id']}", headers=second).raise_for_status()
    selects: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            selects.append(statement)

    async def welcome(plain: str) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {plain}"}
        async with websockets.connect(url, additional_headers=headers) as ws:
            await ws.send(json.dumps({"type": "hello", "snapshot": True}))
            message: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), 10))
        return message

    async def fifty() -> list[dict[str, Any]]:
        return await asyncio.gather(*(welcome(plains[i % 2]) for i in range(50)))

    assert asyncio.run(welcome(plains[0]))["type"] == "welcome"  # the snapshot is read
    loops = loops_statements(services)
    event.listen(services.db.engine.sync_engine, "before_cursor_execute", seen)
    try:
        welcomes = asyncio.run(fifty())
    finally:
        event.remove(services.db.engine.sync_engine, "before_cursor_execute", seen)
    assert [w["type"] for w in welcomes] == ["welcome"] * 50
    assert len({w["me"] for w in welcomes}) == 2  # each socket gets its own user
    selects = [s for s in selects if s not in loops]
    assert all("api_tokens" in s for s in selects), selects
    assert len(selects) <= 10, f"{len(selects)} reads for 50 sockets"
