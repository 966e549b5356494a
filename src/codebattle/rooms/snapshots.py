"""What a room's socket is welcomed with, read once per sequence number for everyone.

A thousand people opening a room's page at once would each read the room, its problems and
its leaderboard: the same rows, at the same sequence number. Here the first one reads them
(with the room's members, which decide who may see a private room) and everyone who connects
at that sequence number or earlier shares the result; the next logged event moves the room's
sequence number on, and the next connection reads it again. Each connection still reads the
room's current sequence number itself (one primary-key lookup), so nobody is welcomed with,
or admitted by, a snapshot older than the room was when they connected; a snapshot newer than
that is fine (the stream skips what the snapshot already holds).
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from codebattle.db.session import Database
from codebattle.problems import service as problems
from codebattle.rooms import service as rooms
from codebattle.rooms.models import Room, RoomMember

KEPT = 256  # rooms (per locale) whose snapshot a process keeps


@dataclass(frozen=True)
class Snapshot:
    seq: int
    room: Room  # detached: its columns as read
    card: dict[str, Any]  # rooms.room_card
    leaderboard: list[dict[str, Any]]
    members: frozenset[int]

    def visible_to(self, user_id: int) -> bool:
        """rooms.visible's rule: the host, a member, or anyone signed in for a public room."""
        return self.room.public or user_id == self.room.host_id or user_id in self.members

    def room_for(self, user_id: int) -> dict[str, Any]:
        return rooms.as_seen(self.card, self.room, user_id, user_id in self.members)


class Snapshots:
    """The latest snapshot of each room a process serves, per locale; concurrent misses
    share one read."""

    def __init__(self, db: Database, kept: int = KEPT) -> None:
        self.db = db
        self.kept = kept
        self.reads: OrderedDict[tuple[int, str], tuple[int, asyncio.Future[Snapshot | None]]] = (
            OrderedDict()
        )

    async def get(self, room_id: int, locale: str) -> Snapshot | None:
        """The room at its current sequence number or later; None if there is no such room."""
        async with self.db.reading() as session:
            seq = await session.scalar(select(Room.seq).where(Room.id == room_id))
        if seq is None:
            return None
        key = (room_id, locale)
        cached = self.reads.get(key)
        if cached is not None and cached[0] >= seq:
            self.reads.move_to_end(key)
            return await asyncio.shield(cached[1])
        read = asyncio.ensure_future(self._read(room_id, locale))
        self.reads[key] = (seq, read)
        while len(self.reads) > self.kept:
            self.reads.popitem(last=False)
        try:
            return await asyncio.shield(read)
        except Exception:
            if self.reads.get(key, (0, None))[1] is read:
                del self.reads[key]  # a failed read is not kept: the next one tries again
            raise

    async def _read(self, room_id: int, locale: str) -> Snapshot | None:
        async with self.db.reading() as session:
            room = await session.get(Room, room_id, populate_existing=True)
            if room is None:
                return None
            cards = await problems.version_cards(session, room.problems, locale)
            members = await session.scalars(
                select(RoomMember.user_id).where(RoomMember.room_id == room_id)
            )
            return Snapshot(
                seq=room.seq,
                room=room,
                card=rooms.room_card(room, cards),
                leaderboard=await rooms.leaderboard(session, room),
                members=frozenset(members),
            )
