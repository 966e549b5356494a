"""The match WebSocket: one per page; versioned JSON messages (docs/protocol.md).

The match's event log is a resumable stream (realtime/stream.py). Players send their
actions, code (stored as snapshots for the replay; others only see typing activity) and chat
on the same socket; spectators watch and chat in their own channel. Every message a client
sends is checked against its role; a bad one gets an error message and nothing else breaks.
The server's clock is in every message.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import structlog
from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from codebattle import logs
from codebattle.accounts.models import User
from codebattle.battles import ai_player, chat, fsm, live, replay
from codebattle.battles import service as battles
from codebattle.battles.models import MatchRow
from codebattle.db.preview import PreviewReadOnly
from codebattle.errors import UserError
from codebattle.fairplay import telemetry
from codebattle.realtime.stream import Stream, frame_limit, read_hello
from codebattle.services import Services, services_of
from codebattle.submissions.service import check_code, check_language
from codebattle.web.sockets import NOT_FOUND, admit, refuse

log = structlog.get_logger(__name__)
router = APIRouter()
SNAPSHOT_SECONDS = 3.0  # a player's code is stored at most this often
ACTIVITY_SECONDS = 1.0  # typing activity is published at most this often per player
CHAT_PER_10_SECONDS = 5
ACTIONS = {"ready", "give_up", "rematch"}
TOO_MANY_OPENS = 4429  # the socket was opened too often; the client waits, then retries


@dataclass
class Connection:
    services: Services
    match_id: int
    user: User
    role: str  # "player" | "spectator"
    last_snapshot: float = 0.0
    last_activity: float = 0.0
    pending_code: tuple[str, str] | None = None  # (language, code) not stored yet
    # Names this socket in the match's state: a player with two tabs (maybe on two API
    # instances) is disconnected only when the last one closes.
    socket_id: str = field(default_factory=lambda: uuid.uuid4().hex)


@router.websocket("/ws/matches/{path_id}")
async def match_socket(websocket: WebSocket, path_id: str) -> None:
    services = services_of(websocket)
    admitted = await admit(websocket, path_id)
    if admitted is None:
        return
    user, match_id = admitted
    logs.bind(match_id=match_id)  # on the connection's log lines
    async with services.db.reading() as session:
        row = await session.get(MatchRow, match_id)
    if row is None:
        await refuse(websocket, NOT_FOUND)
        return
    if await _opens_exceeded(services, match_id, user.id):
        await refuse(websocket, TOO_MANY_OPENS)
        return
    players = {p["user_id"] for p in row.fsm["players"]}
    role = "player" if user.id in players else "spectator"
    conn = Connection(services, match_id, user, role)
    locale = getattr(websocket.state, "locale", "ko")
    channels = chat.visible_channels(role)

    async def load_since(seq: int) -> list[dict[str, Any]]:
        async with services.db.reading() as session:
            return [
                live.event_message(e) for e in await battles.events_since(session, match_id, seq)
            ]

    async def handle(data: dict[str, Any]) -> None:
        try:
            await _handle(conn, data)
        except fsm.IllegalEvent as exc:
            raise UserError(409, exc.code) from None

    # A player's frames may carry code; a spectator's never do.
    limit = frame_limit(services.settings.MAX_CODE_BYTES if role == "player" else 0)
    stream = Stream(
        websocket, locale, load_since=load_since, handle=handle, frame_limit=limit,
        visible=lambda m: m.get("type") != "chat" or m.get("channel") in channels,
    )  # fmt: skip
    await websocket.accept()
    # Subscribe before reading the log, so that nothing falls between the two.
    async with services.pubsub.subscribe(live.channel(match_id)) as messages:
        try:
            last_seq = await read_hello(websocket)
        except WebSocketDisconnect:
            return
        async with services.db.reading() as session:
            row = await session.get(MatchRow, match_id)
            assert row is not None
            snapshot = await battles.match_json(session, row, locale)
            history = await chat.history(session, match_id, channels)
        await stream.send(
            {"type": "welcome", "role": role, "me": user.id, "match": snapshot, "chat": history,
             "seq": snapshot["seq"]}
        )  # fmt: skip
        if role == "player":
            # A preview logs no game's events (db/preview.py): its players just watch.
            with contextlib.suppress(fsm.IllegalEvent, LookupError, PreviewReadOnly):
                await live.act(
                    services, match_id,
                    {"type": "reconnect", "user": user.id, "socket": conn.socket_id},
                )  # fmt: skip
        try:
            await stream.run(messages, last_seq or 0, logged=snapshot["seq"])
        finally:
            await _left(conn)


async def _opens_exceeded(services: Services, match_id: int, user_id: int) -> bool:
    """Whether this user opened this match's socket too often lately: each open of a
    player's costs log events (back, then gone) and a code snapshot, broadcast to everyone."""
    settings = services.settings
    wait = await services.ratelimit.hit(
        f"match-socket:{match_id}:{user_id}",
        settings.MATCH_SOCKET_OPENS, settings.MATCH_SOCKET_OPENS_SECONDS,
    )  # fmt: skip
    return wait is not None


async def _left(conn: Connection) -> None:
    """A player's socket closed: keep their last code; if it was their last socket, start
    their grace period."""
    if conn.role != "player":
        return
    try:
        await _store_code(conn, force=True)
    except PreviewReadOnly:  # a preview keeps no snapshot
        pass
    except Exception:  # the replay misses this code; the disconnect must still count
        log.exception("a code snapshot was not stored", match=conn.match_id, user=conn.user.id)
    # The game is over, or gone, or a preview's (which logs nothing).
    with contextlib.suppress(fsm.IllegalEvent, LookupError, PreviewReadOnly):
        await live.act(
            conn.services, conn.match_id,
            {"type": "disconnect", "user": conn.user.id, "socket": conn.socket_id},
        )  # fmt: skip


async def _handle(conn: Connection, data: dict[str, Any]) -> None:
    kind = data["type"]
    services, match_id, user = conn.services, conn.match_id, conn.user
    if kind == "chat":
        await _chat(conn, data.get("text"))
    elif kind == "chat_delete":
        message_id = data.get("id")
        if not isinstance(message_id, int):
            raise UserError(422, "bad_frame")
        await live.delete_chat(services, user, match_id, message_id)
    elif conn.role != "player":
        raise UserError(403, "not_a_player")
    elif kind == "code":
        await _code(conn, data)
    elif kind == "telemetry":  # stored for fair play; never published, never echoed
        await telemetry.accept(services, user.id, data, match_id=match_id)
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
    settings = conn.services.settings
    caps = replay.Caps(
        settings.REPLAY_SNAPSHOTS_PER_PLAYER, settings.REPLAY_SNAPSHOT_BYTES_PER_PLAYER
    )
    async with conn.services.db.session() as session:
        row = await session.get(MatchRow, conn.match_id)
        if row is None or row.state != fsm.State.running:
            return
        await replay.add_snapshot(session, conn.match_id, conn.user.id, language, code, caps)
    conn.pending_code, conn.last_snapshot = None, now


async def _rematch(conn: Connection) -> None:
    """Every human asked for a rematch: a new match with the same players, announced in the
    old match's log (so a client that reconnects learns of it too)."""
    services = conn.services
    async with services.db.reading() as session:
        row = await session.get(MatchRow, conn.match_id)
        assert row is not None
        match = battles.load(row.fsm)
        ai = next((p for p in match.players if p.ai), None)
        level = await ai_player.level_of(session, ai.user_id) if ai is not None else None
    if ai is not None:  # the same AI, at the same level
        new_id = await ai_player.start_match(services, conn.user.id, level)
    else:
        new_id = await live.rematch(services, row, [p.user_id for p in match.players])
    async with services.db.session() as session:
        entries = await battles.note(session, conn.match_id, "rematch_created", {"match": new_id})
    await live.publish(services, conn.match_id, entries)
