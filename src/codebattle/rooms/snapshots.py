"""What a room's socket is welcomed with, read once per sequence number for everyone.

A thousand people opening a room's page at once would each read the room, its problems, its
members and its leaderboard: the same rows at the same sequence number. Here the first one
reads them and everyone after shares the result until the room's next logged event.

How a snapshot knows it is out of date: before reading, it subscribes to the room's channel
(its "watch"). Pub/sub hands a message to every local subscriber at once (realtime/pubsub.py),
so a socket that subscribed after an event was published finds that event in the watch, and
the snapshot is read again; an event published after the socket subscribed reaches the socket
itself. Either way nobody misses an event, and a welcome is never older than the room was
when its socket subscribed.

Who may see a room only grows (public or not is fixed at creation, so is the host, and members
never leave), so a snapshot that lets a user in is right; one that does not is checked again
in the database (`visible`) before the socket is refused.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from codebattle.accounts.models import User
from codebattle.db.session import Database
from codebattle.errors import UserError
from codebattle.problems import service as problems
from codebattle.realtime.pubsub import PubSub, Subscription
from codebattle.rooms import live
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


@dataclass
class _Kept:
    """A snapshot being read or read, and the watch that says when it is out of date."""

    read: asyncio.Task[Snapshot | None] = field(init=False)
    exits: contextlib.AsyncExitStack = field(default_factory=contextlib.AsyncExitStack)
    watch: Subscription | None = None
    stale: bool = False

    def moved_on(self, snapshot: Snapshot) -> bool:
        """Whether the room logged an event after `snapshot` (which the watch has seen)."""
        if not self.stale and self.watch is not None:
            seen = self.watch.drain()
            newer = any(envelope.message.get("seq", 0) > snapshot.seq for envelope in seen)
            self.stale = newer or self.watch.overflow.is_set()
        return self.stale


class Snapshots:
    """The latest snapshot of each room a process serves (per locale); concurrent readers
    share one read."""

    def __init__(self, db: Database, pubsub: PubSub, kept: int = KEPT) -> None:
        self.db = db
        self.pubsub = pubsub
        self.kept = kept
        self._kept: OrderedDict[tuple[int, str], _Kept] = OrderedDict()
        self._loop: asyncio.AbstractEventLoop | None = None

    async def get(self, room_id: int, locale: str, fresh: bool = False) -> Snapshot | None:
        """The room as of the moment of the call or later (the caller subscribed to the
        room's channel before it called), or read now with `fresh`; None if there is no
        such room."""
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # reads and watches belong to one event loop (a server
            self._kept.clear()  # runs one; a test client starts one per socket)
            self._loop = loop
        key = (room_id, locale)
        if fresh and key in self._kept:
            await self._forget(key, self._kept[key])
        while True:
            kept = self._kept.get(key)
            if kept is None:
                kept = self._start(key)
            else:
                self._kept.move_to_end(key)
            try:
                snapshot = await asyncio.shield(kept.read)
            except Exception:
                await self._forget(key, kept)  # a failed read is not kept: the next one retries
                raise
            if snapshot is None:  # no such room: nothing to keep
                await self._forget(key, kept)
                return None
            if not kept.moved_on(snapshot):
                return snapshot
            await self._forget(key, kept)

    async def visible(self, room_id: int, user: User) -> bool:
        """The database's answer, for a user the snapshot does not let in."""
        async with self.db.reading() as session:
            try:
                await rooms.visible(session, room_id, user)
            except UserError:
                return False
        return True

    def _start(self, key: tuple[int, str]) -> _Kept:
        kept = _Kept()
        kept.read = asyncio.create_task(self._read(kept, *key))
        self._kept[key] = kept
        while len(self._kept) > self.kept:
            oldest, evicted = next(iter(self._kept.items()))
            del self._kept[oldest]
            evicted.stale = True
            _close_later(evicted)
        return kept

    async def _read(self, kept: _Kept, room_id: int, locale: str) -> Snapshot | None:
        kept.watch = await kept.exits.enter_async_context(
            self.pubsub.subscribe(live.channel(room_id))
        )
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

    async def _forget(self, key: tuple[int, str], kept: _Kept) -> None:
        kept.stale = True
        if self._kept.get(key) is kept:
            del self._kept[key]
            await kept.exits.aclose()


_closing: set[asyncio.Task[None]] = set()  # evicted watches being closed (kept referenced)


def _close_later(kept: _Kept) -> None:
    task = asyncio.create_task(kept.exits.aclose())
    _closing.add(task)
    task.add_done_callback(_closing.discard)
