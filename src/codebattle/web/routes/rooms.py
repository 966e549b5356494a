"""Rooms over HTTP and their WebSocket: create, list, join (public, or by invite code), the
host's start / end / announcements, the leaderboard, and the live room stream."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field, StrictBool, StrictInt

from codebattle import logs
from codebattle.accounts import plans
from codebattle.battles import eventlog
from codebattle.errors import UserError
from codebattle.fairplay import telemetry
from codebattle.problems import service as problems
from codebattle.realtime.stream import Stream, frame_limit, read_hello
from codebattle.rooms import live
from codebattle.rooms import service as rooms
from codebattle.rooms.models import Room
from codebattle.rooms.snapshots import Snapshots
from codebattle.services import services_of
from codebattle.web.ids import Id
from codebattle.web.render import locale_of, render
from codebattle.web.security import require_api_write, require_user
from codebattle.web.sockets import NOT_FOUND, admit, refuse

router = APIRouter()


DEFAULT_SIZE = 50  # a room's size when the host gives none (capped by the host's plan)


class RoomIn(BaseModel):
    title: str = Field(max_length=200)
    problems: list[str] = Field(max_length=50, description="problem slugs, in order")
    # Strict: JSON's `true` is not 1 minute, nor 1.0 a size (lax ints and bools take both).
    duration_minutes: StrictInt = 60
    size_limit: StrictInt | None = Field(
        default=None, description="players at most; default: 50, or less if the plan says"
    )
    public: StrictBool = False


class JoinIn(BaseModel):
    code: str | None = Field(default=None, max_length=12)


class AnnounceIn(BaseModel):
    text: str = Field(max_length=2000)


async def _room(request: Request, room_id: int) -> dict[str, Any]:
    user = require_user(request)
    async with services_of(request).db.reading() as session:
        room = await rooms.visible(session, room_id, user)
        data = await rooms.room_json(session, room, locale_of(request), user)
        data["leaderboard"] = await rooms.leaderboard(session, room)
        return data


@router.post("/api/rooms", status_code=201, tags=["rooms"])
async def create_room(request: Request, body: RoomIn) -> dict[str, Any]:
    user = require_api_write(request)
    services = services_of(request)
    settings = services.settings
    plan = plans.effective_plan(user, datetime.now(UTC))
    max_size = plans.room_size_limit(settings, plan)  # the host's plan decides
    size = body.size_limit if body.size_limit is not None else min(DEFAULT_SIZE, max_size)
    larger = plans.room_plan_for(settings, size)
    upgrade = (larger, plans.room_size_limit(settings, larger)) if larger else None
    async with services.db.session() as session:
        room = await rooms.create(
            session, user, title=body.title, problem_slugs=body.problems,
            duration_minutes=body.duration_minutes, size_limit=size,
            public=body.public, max_size=max_size, plan=plan, upgrade=upgrade,
        )  # fmt: skip
        room_id = room.id
    return await _room(request, room_id)


@router.get("/api/rooms", tags=["rooms"])
async def list_rooms(request: Request) -> list[dict[str, Any]]:
    user = require_user(request)
    async with services_of(request).db.reading() as session:
        return await rooms.rooms_json(
            session, await rooms.listing(session), locale_of(request), user
        )


@router.get("/api/rooms/{room_id}", tags=["rooms"])
async def get_room(request: Request, room_id: Id) -> dict[str, Any]:
    return await _room(request, room_id)


@router.post("/api/rooms/join", tags=["rooms"])
async def join_by_code(request: Request, body: JoinIn) -> dict[str, Any]:
    require_api_write(request)
    async with services_of(request).db.reading() as session:
        room_id = (await rooms.by_code(session, body.code)).id
    return await join_room(request, room_id, body)


@router.post("/api/rooms/{room_id}/join", tags=["rooms"])
async def join_room(request: Request, room_id: Id, body: JoinIn) -> dict[str, Any]:
    user = require_api_write(request)
    await live.act(services_of(request), room_id, user, "join", code=body.code)
    return await _room(request, room_id)


@router.post("/api/rooms/{room_id}/announce", tags=["rooms"])
async def announce(request: Request, room_id: Id, body: AnnounceIn) -> dict[str, Any]:
    """The host's message to everyone in the room."""
    return await _host_action(request, room_id, "announce", body.text)


@router.post("/api/rooms/{room_id}/{action}", tags=["rooms"])
async def host_action(request: Request, room_id: Id, action: str) -> dict[str, Any]:
    """The host's `start` or `end`."""
    if action not in ("start", "end"):
        raise UserError(404, "not_found")
    return await _host_action(request, room_id, action, None)


async def _host_action(
    request: Request, room_id: int, action: str, text: str | None
) -> dict[str, Any]:
    user = require_api_write(request)
    services = services_of(request)
    await live.act(services, room_id, user, action, text=text)
    async with services.db.reading() as session:  # the new state, cheaply (hosts may
        room = await session.get(Room, room_id)  # announce often to a thousand players)
        assert room is not None
        return {"id": room.id, "state": room.state, "seq": room.seq,
                "starts_at": room.starts_at, "ends_at": room.ends_at}  # fmt: skip


@router.websocket("/ws/rooms/{path_id}")
async def room_socket(websocket: WebSocket, path_id: str) -> None:
    """The room's log as a resumable stream; the welcome has the room and its leaderboard.
    A private room is for its host and members; anyone signed in may watch a public one
    (the HTTP routes' rule, rooms.visible, read from the shared snapshot)."""
    services = services_of(websocket)
    admitted = await admit(websocket, path_id)
    if admitted is None:
        return
    user, room_id = admitted
    logs.bind(room_id=room_id)  # on the connection's log lines
    locale = getattr(websocket.state, "locale", "ko")
    snapshots = _snapshots(websocket)
    # Subscribe before taking the snapshot, so that nothing falls between the two.
    async with services.pubsub.subscribe(live.channel(room_id)) as messages:
        snapshot = await snapshots.get(room_id, locale)
        if snapshot is not None and not snapshot.visible_to(user.id):
            # Seeing a room only grows: ask the database (a join not yet seen here).
            fresh = await snapshots.visible(room_id, user)
            snapshot = await snapshots.get(room_id, locale, fresh=True) if fresh else None
        if snapshot is None or not snapshot.visible_to(user.id):
            await refuse(websocket, NOT_FOUND)
            return

        async def load_since(after: int) -> list[dict[str, Any]]:
            async with services.db.reading() as session:
                entries = await rooms.events_since(session, room_id, after)
            return [eventlog.message(e) for e in entries]

        async def handle(data: dict[str, Any]) -> None:
            if data["type"] == "telemetry":  # a member's editor (fair play; never published)
                await telemetry.accept(services, user.id, data, room_id=room_id)
                return
            raise UserError(422, "unknown_action")  # actions go through the HTTP API

        limit = frame_limit(telemetry.frame_bytes(services.settings))
        stream = Stream(websocket, locale, load_since=load_since, handle=handle, frame_limit=limit)
        await websocket.accept()
        try:
            last_seq = await read_hello(websocket)
        except WebSocketDisconnect:
            return
        await stream.send(
            {"type": "welcome", "me": user.id, "room": snapshot.room_for(user.id),
             "leaderboard": snapshot.leaderboard, "seq": snapshot.seq}
        )  # fmt: skip
        # A client starting from the snapshot gets the log from the snapshot on.
        await stream.run(
            messages, snapshot.seq if last_seq is None else last_seq, logged=snapshot.seq
        )


def _snapshots(websocket: WebSocket) -> Snapshots:
    """The app's cache of room snapshots (one per process, made on first use)."""
    state = websocket.app.state
    if not hasattr(state, "room_snapshots"):
        services = services_of(websocket)
        state.room_snapshots = Snapshots(services.db, services.pubsub)
    cache: Snapshots = state.room_snapshots
    return cache


@router.get("/rooms", response_class=HTMLResponse, include_in_schema=False)
async def rooms_page(request: Request) -> HTMLResponse:
    user = require_user(request)
    async with services_of(request).db.reading() as session:
        listed = await rooms.rooms_json(
            session, await rooms.listing(session), locale_of(request), user
        )
        catalog = [
            problems.problem_json(p, locale_of(request)) for p in await problems.listing(session)
        ]
    plan = plans.effective_plan(user, datetime.now(UTC))
    max_size = plans.room_size_limit(services_of(request).settings, plan)
    return render(
        request, "rooms.html", rooms=listed, catalog=catalog, plan=plan, max_size=max_size,
        default_size=min(DEFAULT_SIZE, max_size),
    )  # fmt: skip


@router.get("/rooms/{room_id}", response_class=HTMLResponse, include_in_schema=False)
async def room_page(request: Request, room_id: Id) -> HTMLResponse:
    return render(request, "room.html", room=await _room(request, room_id))
