"""The match WebSocket: one per page; versioned JSON messages (docs/protocol.md).

A client says which sequence number it saw last; the server sends what it missed from the
stored log, then every new event, in order, with no gaps and no repeats. Players send their
actions, code (stored as snapshots for the replay; others only see typing activity) and chat
on the same socket; spectators watch and chat in their own channel. Every message a client
sends is checked against its role; a bad one gets an error message and nothing else breaks.
The server's clock is in every message.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import dataclass
from typing import Any

import structlog
from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from codebattle.accounts.models import User
from codebattle.battles import ai_player, chat, fsm, live
from codebattle.battles import service as battles
from codebattle.battles.models import MatchRow
from codebattle.errors import UserError
from codebattle.i18n import translate
from codebattle.services import Services, services_of
from codebattle.submissions.service import check_code, check_language
from codebattle.web.security import same_origin

log = structlog.get_logger(__name__)
router = APIRouter()
SPECTATOR_FRAME = 4096  # bytes a spectator's message may have; a player's may carry code
SEND_QUEUE = 256  # messages buffered for a slow client before it is told to resync
HEARTBEAT_SECONDS = 20.0
HELLO_SECONDS = 10.0
SNAPSHOT_SECONDS = 3.0  # a player's code is stored at most this often
ACTIVITY_SECONDS = 1.0  # typing activity is published at most this often per player
CHAT_PER_10_SECONDS = 5
ACTIONS = {"ready", "give_up", "rematch"}


@dataclass
class Connection:
    websocket: WebSocket
    services: Services
    match_id: int
    user: User
    role: str  # "player" | "spectator"
    locale: str
    last_snapshot: float = 0.0
    last_activity: float = 0.0
    pending_code: tuple[str, str] | None = None  # (language, code) not stored yet

    async def send(self, message: dict[str, Any]) -> None:
        await self.websocket.send_json({"v": 1, **message, "server_time": time.time()})

    async def error(self, code: str, **params: Any) -> None:
        with contextlib.suppress(WebSocketDisconnect, RuntimeError):
            await self.send(
                {"type": "error", "code": code,
                 "message": translate(code, self.locale, **params)}
            )  # fmt: skip


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
    role = "player" if user.id in players else "spectator"
    conn = Connection(websocket, services, match_id, user, role,
                      getattr(websocket.state, "locale", "ko"))  # fmt: skip
    await websocket.accept()
    # Subscribe before reading the log, so that nothing falls between the two.
    async with services.pubsub.subscribe(live.channel(match_id)) as messages:
        try:
            last_seq = await _hello(websocket)
        except WebSocketDisconnect:
            return
        async with services.db.session() as session:
            row = await session.get(MatchRow, match_id)
            assert row is not None
            snapshot = await battles.match_json(session, row, conn.locale)
            history = await chat.history(session, match_id, chat.visible_channels(role))
        await conn.send(
            {"type": "welcome", "role": role, "me": user.id, "match": snapshot, "chat": history,
             "seq": snapshot["seq"]}
        )  # fmt: skip
        if role == "player":
            with contextlib.suppress(fsm.IllegalEvent, LookupError):
                await live.act(services, match_id, {"type": "reconnect", "user": user.id})
        outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue(SEND_QUEUE)
        tasks = {
            asyncio.create_task(_send(conn, last_seq, outbox)),
            asyncio.create_task(_feed(conn, messages, outbox)),
            asyncio.create_task(_receive(conn)),
        }
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            for outcome in await asyncio.gather(*tasks, return_exceptions=True):
                if isinstance(outcome, Exception):
                    log.error("match socket failed", match=match_id, exc_info=outcome)
            await _left(conn)


async def _hello(websocket: WebSocket) -> int:
    """The client's first message: {"type": "hello", "last_seq": n}. Without a valid one in
    time, the client gets the whole log."""
    try:
        hello = json.loads(await asyncio.wait_for(websocket.receive_text(), HELLO_SECONDS))
        seq = hello.get("last_seq", 0) if isinstance(hello, dict) else 0
        return seq if isinstance(seq, int) and seq >= 0 else 0
    except (TimeoutError, ValueError, KeyError, TypeError):
        return 0


async def _left(conn: Connection) -> None:
    """A player's socket closed: keep their last code, and start their grace period."""
    if conn.role != "player":
        return
    with contextlib.suppress(Exception):
        await _store_code(conn, force=True)
        await live.act(conn.services, conn.match_id, {"type": "disconnect", "user": conn.user.id})


async def _feed(conn: Connection, messages: Any, outbox: asyncio.Queue[dict[str, Any]]) -> None:
    async for message in messages:
        if message.get("type") == "chat" and message.get("channel") not in chat.visible_channels(
            conn.role
        ):
            continue
        try:
            outbox.put_nowait(message)
        except asyncio.QueueFull:  # this client is too slow: it resyncs, nobody else waits
            with contextlib.suppress(Exception):
                await conn.send({"type": "resync"})
                await conn.websocket.close(code=4408)
            return


async def _send(conn: Connection, last_seq: int, outbox: asyncio.Queue[dict[str, Any]]) -> None:
    """Missed events from the log, then live ones; a logged event that arrives out of order
    is filled in from the log, so the client sees every sequence number once, in order."""
    sent = last_seq

    async def catch_up(until: int | None = None) -> None:
        nonlocal sent
        async with conn.services.db.session() as session:
            for entry in await battles.events_since(session, conn.match_id, sent):
                if until is not None and entry.seq > until:
                    break
                await conn.websocket.send_json(live.event_message(entry))
                sent = entry.seq

    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
        await catch_up()
        while True:
            try:
                message = await asyncio.wait_for(outbox.get(), HEARTBEAT_SECONDS)
            except TimeoutError:
                await conn.send({"type": "ping"})
                continue
            if "seq" not in message:  # ephemeral: activity, judging progress, chat
                await conn.websocket.send_json(message)
                continue
            seq = int(message["seq"])
            if seq <= sent:
                continue  # already sent from the log
            if seq > sent + 1:
                await catch_up(seq - 1)
            await conn.websocket.send_json(message)
            sent = seq


async def _receive(conn: Connection) -> None:
    limit = SPECTATOR_FRAME
    if conn.role == "player":
        limit = conn.services.settings.MAX_CODE_BYTES + SPECTATOR_FRAME
    while True:
        try:
            frame = await conn.websocket.receive()
        except (WebSocketDisconnect, RuntimeError):
            return
        if frame["type"] == "websocket.disconnect":
            return
        text = frame.get("text")
        if text is None or len(text) > limit:
            await conn.error("bad_frame")
            continue
        try:
            data = json.loads(text)
        except ValueError:
            data = None
        if not isinstance(data, dict) or not isinstance(data.get("type"), str):
            await conn.error("bad_frame")
            continue
        try:
            await _handle(conn, data)
        except UserError as exc:
            await conn.error(exc.key, **exc.params)
        except fsm.IllegalEvent as exc:
            await conn.error(exc.code)


async def _handle(conn: Connection, data: dict[str, Any]) -> None:
    kind = data["type"]
    services, match_id, user = conn.services, conn.match_id, conn.user
    if kind == "ping":
        await conn.send({"type": "pong"})
    elif kind == "chat":
        await _chat(conn, data.get("text"))
    elif kind == "chat_delete":
        message_id = data.get("id")
        if not isinstance(message_id, int):
            raise UserError(422, "bad_frame")
        async with services.db.session() as session:
            await chat.delete(session, user, message_id)
        await live.publish_ephemeral(services, match_id, {"type": "chat_deleted", "id": message_id})
    elif conn.role != "player":
        raise UserError(403, "not_a_player")
    elif kind == "code":
        await _code(conn, data)
    elif kind in ACTIONS:
        entries = await live.act(services, match_id, {"type": kind, "user": user.id})
        if any(e.type == "rematch_accepted" for e in entries):
            await _rematch(conn)
    else:
        raise UserError(422, "unknown_action")


async def _chat(conn: Connection, text: object) -> None:
    services = conn.services
    checked = chat.check_text(text)
    wait = await services.ratelimit.hit(f"chat:{conn.user.id}", CHAT_PER_10_SECONDS, 10.0)
    if wait is not None:
        raise UserError(429, "chat_rate_limited", seconds=max(1, round(wait + 0.5)))
    channel = chat.PLAYERS if conn.role == "player" else chat.SPECTATORS
    async with services.db.session() as session:
        message = await chat.post(session, conn.match_id, conn.user, channel, checked)
    await live.publish_ephemeral(services, conn.match_id, message)


async def _code(conn: Connection, data: dict[str, Any]) -> None:
    """A player's editor content: kept for the replay, shown to others as activity only."""
    language = check_language(data.get("language"))
    code = data.get("code")
    if code == "":
        code = "\n"
    checked = check_code(code, conn.services.settings.MAX_CODE_BYTES)
    conn.pending_code = (language, checked)
    now = time.time()
    if now - conn.last_activity >= ACTIVITY_SECONDS:
        conn.last_activity = now
        await live.publish_ephemeral(
            conn.services, conn.match_id,
            {"type": "activity", "user": conn.user.id, "chars": len(checked),
             "lines": checked.count("\n") + 1},
        )  # fmt: skip
    await _store_code(conn)


async def _store_code(conn: Connection, force: bool = False) -> None:
    now = time.time()
    if conn.pending_code is None or (not force and now - conn.last_snapshot < SNAPSHOT_SECONDS):
        return
    language, code = conn.pending_code
    async with conn.services.db.session() as session:
        row = await session.get(MatchRow, conn.match_id)
        if row is None or row.state != fsm.State.running:
            return
        await battles.add_snapshot(session, conn.match_id, conn.user.id, language, code)
    conn.pending_code, conn.last_snapshot = None, now


async def _rematch(conn: Connection) -> None:
    """Every human asked for a rematch: a new match with the same players, announced in the
    old match's log (so a client that reconnects learns of it too)."""
    services = conn.services
    async with services.db.session() as session:
        row = await session.get(MatchRow, conn.match_id)
        assert row is not None
        match = battles.load(row.fsm)
    ai = next((p for p in match.players if p.ai), None)
    if ai is not None:
        new_id = await ai_player.start_match(services, conn.user.id)
    else:
        new_id = await live.rematch(services, row, [p.user_id for p in match.players])
    async with services.db.session() as session:
        entries = await battles.note(session, conn.match_id, "rematch_created", {"match": new_id})
    await live.publish(services, conn.match_id, entries)
