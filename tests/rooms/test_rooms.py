"""Rooms in the database, on SQLite and PostgreSQL: the size limit holds under concurrent
joins, the time ends a room, and a submission made before the end counts when judged after."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from starlette.websockets import WebSocketDisconnect

from codebattle.accounts import service as accounts
from codebattle.battles import chat
from codebattle.db.session import Database
from codebattle.errors import UserError
from codebattle.problems.importer import import_package
from codebattle.rooms import service as rooms
from codebattle.rooms.models import Room
from codebattle.storage import LocalBlobStore
from tests.support.hosts import PROBLEMS
from tests.support.site import sign_in


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    yield database
    await database.dispose()


async def new_room(db: Database, tmp_path: Path, size: int) -> tuple[int, int]:
    async with db.session() as session:
        await import_package(session, LocalBlobStore(tmp_path / "blobs"), PROBLEMS / "hello-battle")
        host = await accounts.sign_in_nickname(session, "host", "en")
        room = await rooms.create(
            session, host, title="t", problem_slugs=["hello-battle"], duration_minutes=10,
            size_limit=size, public=True, max_size=1000,
        )  # fmt: skip
        return room.id, room.problems[0]


async def test_concurrent_joins_never_overfill_a_room(db: Database, tmp_path: Path) -> None:
    room_id, _ = await new_room(db, tmp_path, size=3)
    async with db.session() as session:
        users = [await accounts.sign_in_nickname(session, f"u{i}", "en") for i in range(8)]

    async def join(user_index: int) -> str:
        async with db.session() as session:
            try:
                await rooms.change(session, room_id, users[user_index], "join")
            except UserError as exc:
                return exc.key
            return "joined"

    outcomes = await asyncio.gather(*(join(i) for i in range(8)))
    assert sorted(outcomes).count("joined") == 3
    assert set(outcomes) == {"joined", "room_full"}
    async with db.session() as session:
        room = await session.get(Room, room_id)
        assert room is not None and room.members == 3


async def test_time_ends_a_room_and_late_judging_still_counts(db: Database, tmp_path: Path) -> None:
    room_id, version = await new_room(db, tmp_path, size=5)
    async with db.session() as session:
        host = await accounts.sign_in_nickname(session, "host", "en")
        player = await accounts.sign_in_nickname(session, "player", "en")
        await rooms.change(session, room_id, player, "join")
        await rooms.change(session, room_id, host, "start")
        submitted_at = time.time()
        # Ten minutes pass: the sweeper's tick ends the room.
        await session.execute(update(Room).where(Room.id == room_id).values(ends_at=time.time()))
        await session.commit()
        assert await rooms.due(session, time.time() + 1) == [room_id]
        ended = await rooms.change(session, room_id, None, "tick")
        assert [(e.type, e.data) for e in ended] == [("ended", {"reason": "time"})]
        assert await rooms.due(session, time.time() + 1) == []
        # Judged after the end, submitted before it: counts.
        solved = await rooms.change(
            session, room_id, None, "result", user_id=player.id, version_id=version,
            verdict="AC", submitted_at=submitted_at,
        )  # fmt: skip
        assert [e.type for e in solved] == ["solved"]
        # Submitted after the end: does not.
        late = await rooms.change(
            session, room_id, None, "result", user_id=player.id, version_id=version,
            verdict="WA", submitted_at=time.time() + 5,
        )  # fmt: skip
        assert late == []
        room = await session.get(Room, room_id)
        assert room is not None
        board = await rooms.leaderboard(session, room)
        assert [(r["nickname"], r["solved"]) for r in board] == [("player", 1)]
        assert board[0]["tier"]["code"] == "newbie"  # the name's tier beside it (room.js)


def _room_api(client: TestClient, csrf: str, **body: object) -> dict[str, Any]:
    base: dict[str, object] = {"title": "t", "problems": ["hello-battle"], "public": False}
    reply = client.post("/api/rooms", json={**base, **body}, headers={"X-CSRF-Token": csrf})
    assert reply.status_code == 201, reply.text
    return dict(reply.json())


def test_private_room_is_hidden_from_strangers_over_http_and_socket(client: TestClient) -> None:
    csrf = sign_in(client, "phost")
    private = _room_api(client, csrf, title="Secret class")
    public = _room_api(client, csrf, title="Open class", public=True)
    stranger = TestClient(client.app, base_url="http://testserver")
    stranger_csrf = sign_in(stranger, "pstranger")
    headers = {"X-CSRF-Token": stranger_csrf}
    room_id = private["id"]
    nowhere = stranger.get("/api/rooms/999999").json()
    # Neither the API, the page, the socket nor a host action tells it from no room at all.
    for reply in (
        stranger.get(f"/api/rooms/{room_id}"),
        stranger.get(f"/rooms/{room_id}"),
        stranger.post(f"/api/rooms/{room_id}/start", headers=headers),
        stranger.post(f"/api/rooms/{room_id}/announce", json={"text": "hi"}, headers=headers),
    ):
        assert reply.status_code == 404, reply.text
        assert "Secret class" not in reply.text and "hello-battle" not in reply.text
    assert stranger.get(f"/api/rooms/{room_id}").json() == nowhere
    url = f"/ws/rooms/{room_id}"
    with pytest.raises(WebSocketDisconnect) as refused, stranger.websocket_connect(url) as ws:
        ws.send_json({"type": "hello", "last_seq": 0})
        ws.receive_json()
    assert refused.value.code == 4404
    # A public room is for anyone signed in; the host sees their own.
    assert stranger.get(f"/api/rooms/{public['id']}").json()["title"] == "Open class"
    assert client.get(f"/api/rooms/{room_id}").json()["title"] == "Secret class"
    # The invite code still lets a non-member in, and then the room is theirs to see.
    joined = stranger.post("/api/rooms/join", json={"code": private["code"]}, headers=headers)
    assert joined.status_code == 200, joined.text
    assert joined.json()["title"] == "Secret class"
    assert stranger.get(f"/rooms/{room_id}").status_code == 200
    # (A member's socket, welcomed, is in test_live's room test, on a real server.)
    # A member who is not the host is told so (it is no secret to them).
    start = stranger.post(f"/api/rooms/{room_id}/start", headers=headers)
    assert start.status_code == 403 and start.json()["error"]["code"] == "host_only"


async def test_a_room_past_its_end_refuses_submissions_before_the_sweeper_runs(
    db: Database, tmp_path: Path
) -> None:
    room_id, _ = await new_room(db, tmp_path, size=5)
    async with db.session() as session:
        host = await accounts.sign_in_nickname(session, "host", "en")
        player = await accounts.sign_in_nickname(session, "player", "en")
        await rooms.change(session, room_id, player, "join")
        await rooms.change(session, room_id, host, "start")
        await rooms.room_target(session, room_id, player.id, "hello-battle")
        await session.execute(update(Room).where(Room.id == room_id).values(ends_at=time.time()))
        await session.commit()  # over, but still "running" until the sweeper's tick
        with pytest.raises(UserError) as refused:
            await rooms.room_target(session, room_id, player.id, "hello-battle")
        assert (refused.value.status, refused.value.key) == (409, "room_not_running")


# NUL, a right-to-left override, an isolate, a zero-width space, a bell: none is printable.
HIDDEN = "\x00\u202e\u2066\u200b\x07"


async def test_room_titles_and_announcements_drop_nul_and_bidi_controls(
    db: Database, tmp_path: Path
) -> None:
    room_id, _ = await new_room(db, tmp_path, size=5)
    async with db.session() as session:
        host = await accounts.sign_in_nickname(session, "host", "en")
        made = await rooms.create(
            session, host, title=f" Class{HIDDEN} 1 ", problem_slugs=["hello-battle"],
            duration_minutes=10, size_limit=5, public=True, max_size=1000,
        )  # fmt: skip
        assert made.title == "Class 1"
        with pytest.raises(UserError) as empty:
            await rooms.create(
                session, host, title=HIDDEN, problem_slugs=["hello-battle"],
                duration_minutes=10, size_limit=5, public=True, max_size=1000,
            )  # fmt: skip
        assert empty.value.key == "room_title_invalid"
        text = f"5 minutes{HIDDEN} left\nGood luck"
        [said] = await rooms.change(session, room_id, host, "announce", text=text)
        # Cleaned as chat messages are, by the same function.
        assert said.data["text"] == "5 minutes left\nGood luck" == chat.check_text(text)
        with pytest.raises(UserError) as blank:
            await rooms.change(session, room_id, host, "announce", text=HIDDEN)
        assert blank.value.key == "chat_empty"


def test_booleans_are_refused_where_numbers_are_expected(client: TestClient) -> None:
    csrf = sign_in(client, "boolhost")
    headers = {"X-CSRF-Token": csrf}
    base = {"title": "t", "problems": ["hello-battle"]}
    for field, value in (
        ("duration_minutes", True), ("size_limit", True), ("duration_minutes", 1.5),
        ("size_limit", "10"), ("public", 1),
    ):  # fmt: skip
        reply = client.post("/api/rooms", json={**base, field: value}, headers=headers)
        assert reply.status_code == 422, (field, value, reply.text)
        assert [f["field"] for f in reply.json()["error"]["fields"]] == [field]
    for path, field in (("/api/users/1/mute", "minutes"), ("/api/matches/ai", "level")):
        reply = client.post(path, json={field: True}, headers=headers)
        assert reply.status_code == 422, reply.text
        assert [f["field"] for f in reply.json()["error"]["fields"]] == [field]
    assert client.post("/api/rooms", json=base, headers=headers).status_code == 201


async def test_room_service_refuses_booleans_as_numbers(db: Database, tmp_path: Path) -> None:
    await new_room(db, tmp_path, size=5)
    async with db.session() as session:
        host = await accounts.sign_in_nickname(session, "host", "en")
        for numbers, key in (
            ({"duration_minutes": True, "size_limit": 5}, "room_duration_invalid"),
            ({"duration_minutes": 10, "size_limit": True}, "room_size_invalid"),
        ):
            with pytest.raises(UserError) as refused:
                await rooms.create(
                    session, host, title="t", problem_slugs=["hello-battle"], public=True,
                    max_size=1000, **numbers,
                )  # fmt: skip
            assert refused.value.key == key
