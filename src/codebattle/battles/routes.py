"""The match WebSocket: one per page; versioned messages (docs/protocol.md).

A client says which sequence number it saw last; the server sends what it missed from the
stored log, then every new event, in order, with no gaps and no repeats. Players send their
actions on the same socket; spectators only listen. The server's clock is in every message.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from typing import Any

import structlog
from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from codebattle.battles import fsm
from codebattle.battles import service as battles
from codebattle.battles.models import MatchEvent, MatchRow
from codebattle.services import Services, services_of
from codebattle.web.security import same_origin

log = structlog.get_logger(__name__)
router = APIRouter()
MAX_FRAME = 4096  # bytes a client message may have
SEND_QUEUE = 256  # events buffered for a slow client before it is told to resync
HEARTBEAT_SECONDS = 20.0
ACTIONS = {"ready", "give_up", "rematch"}


def event_message(entry: MatchEvent) -> dict[str, Any]:
    return {
        "v": 1,
        "type": "event",
        "seq": entry.seq,
        "event": {"type": entry.type, "at": entry.at, **entry.data},
        "server_time": time.time(),
    }


async def publish(services: Services, match_id: int, entries: list[MatchEvent]) -> None:
    for entry in entries:
        await services.pubsub.publish(f"match:{match_id}", event_message(entry))


async def act(services: Services, match_id: int, event: fsm.Event | None) -> list[MatchEvent]:
    """Apply an event (None: only the deadlines) to a match and publish what happened."""
    async with services.db.session() as session:
        entries = await battles.apply(session, match_id, event)
    await publish(services, match_id, entries)
    return entries


async def sweep_deadlines(services: Services, interval: float = 0.5) -> None:
    """The server ends countdowns, games and grace periods on time, with or without clients."""
    while True:
        await asyncio.sleep(interval)
        try:
            async with services.db.session() as session:
                due = await battles.due(session, time.time())
            for match_id in due:
                with contextlib.suppress(LookupError):
                    await act(services, match_id, None)
        except Exception:
            log.exception("match deadline sweep failed; retrying")


@router.websocket("/ws/matches/{match_id}")
async def match_socket(websocket: WebSocket, match_id: int) -> None:
    services = services_of(websocket)
    user = getattr(websocket.state, "user", None)
    if user is None or not same_origin(websocket):
        await websocket.close(code=4401 if user is None else 4403)
        return
    async with services.db.session() as session:
        row = await session.get(MatchRow, match_id)
    if row is None:
        await websocket.close(code=4404)
        return
    players = {p["user_id"] for p in row.fsm["players"]}
    is_player = user.id in players
    await websocket.accept()
    outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue(SEND_QUEUE)
    async with services.pubsub.subscribe(f"match:{match_id}") as live:
        try:
            hello = await asyncio.wait_for(websocket.receive_text(), timeout=10)
            last_seq = int(json.loads(hello).get("last_seq", 0))
        except (TimeoutError, ValueError, AttributeError, TypeError, KeyError):
            last_seq = 0
        except WebSocketDisconnect:
            return
        await websocket.send_json(
            {
                "v": 1,
                "type": "welcome",
                "role": "player" if is_player else "spectator",
                "seq": row.seq,
                "server_time": time.time(),
            }  # fmt: skip
        )
        sender = asyncio.create_task(_send(websocket, services, match_id, last_seq, outbox))
        feeder = asyncio.create_task(_feed(live, outbox, websocket))
        if is_player:
            with contextlib.suppress(fsm.IllegalEvent, LookupError):
                await act(services, match_id, {"type": "reconnect", "user": user.id})
        try:
            await _receive(websocket, services, match_id, user.id, is_player)
        finally:
            sender.cancel()
            feeder.cancel()
            if is_player:
                with contextlib.suppress(fsm.IllegalEvent, LookupError):
                    await act(services, match_id, {"type": "disconnect", "user": user.id})


async def _feed(live: Any, outbox: asyncio.Queue[dict[str, Any]], websocket: WebSocket) -> None:
    async for message in live:
        try:
            outbox.put_nowait(message)
        except asyncio.QueueFull:  # this client is too slow: it resyncs, nobody else waits
            with contextlib.suppress(Exception):
                await websocket.send_json({"v": 1, "type": "resync"})
                await websocket.close(code=4408)
            return


async def _send(
    websocket: WebSocket,
    services: Services,
    match_id: int,
    last_seq: int,
    outbox: asyncio.Queue[dict[str, Any]],
) -> None:
    """Missed events from the log, then live ones; anything out of order is filled in from
    the log, so the client sees every sequence number once, in order."""
    sent = last_seq

    async def catch_up(until: int | None = None) -> None:
        nonlocal sent
        async with services.db.session() as session:
            for entry in await battles.events_since(session, match_id, sent):
                if until is not None and entry.seq > until:
                    break
                await websocket.send_json(event_message(entry))
                sent = entry.seq

    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
        await catch_up()
        while True:
            try:
                message = await asyncio.wait_for(outbox.get(), HEARTBEAT_SECONDS)
            except TimeoutError:
                await websocket.send_json({"v": 1, "type": "ping", "server_time": time.time()})
                continue
            seq = int(message["seq"])
            if seq <= sent:
                continue  # already sent from the log
            if seq > sent + 1:
                await catch_up(seq - 1)
            await websocket.send_json(message)
            sent = seq


async def _receive(
    websocket: WebSocket, services: Services, match_id: int, user_id: int, is_player: bool
) -> None:
    while True:
        try:
            message = await websocket.receive()
        except (WebSocketDisconnect, RuntimeError):
            return
        if message["type"] == "websocket.disconnect":
            return
        text = message.get("text")
        error = None
        if text is None or len(text.encode()) > MAX_FRAME:
            error = "bad_frame"
        else:
            try:
                data = json.loads(text)
                kind = data.get("type") if isinstance(data, dict) else None
            except ValueError:
                kind, error = None, "bad_frame"
            if error is None and kind == "ping":
                await websocket.send_json({"v": 1, "type": "pong", "server_time": time.time()})
                continue
            if error is None and kind not in ACTIONS:
                error = "unknown_action"
            elif error is None and not is_player:
                error = "not_a_player"
            elif error is None:
                try:
                    await act(services, match_id, {"type": kind, "user": user_id})
                    continue
                except fsm.IllegalEvent as exc:
                    error = exc.code
        with contextlib.suppress(WebSocketDisconnect, RuntimeError):
            await websocket.send_json({"v": 1, "type": "error", "code": error})
