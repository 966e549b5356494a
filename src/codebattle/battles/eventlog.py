"""The event log of a stream (a match, a room): one table shape, one set of functions.

Each stream is a row with a `seq` column (its last event's sequence number); each event is
a row of (stream id, seq, type, at, data), unique on (stream id, seq). Appending happens in
the transaction that changed the stream, with its row locked, so sequence numbers have no
gaps and no duplicates; clients resume from a sequence number (`since`), and the log is the
replay. The same rules for every stream:

- argument order: `(session, stream, ...)`;
- not found: `LookupError` (the caller turns it into its own 404);
- an event is `{"type": ..., "at": ..., **data}`; a log entry is what is stored and sent.

PostgreSQL locks the row (SELECT ... FOR UPDATE). SQLite has no row locks: there every
transaction begins IMMEDIATE (db/session.py), taking the database's write lock before it reads.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar, cast

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from codebattle.db.base import Base

Event = dict[str, Any]


class Entry(Protocol):
    """A stored log entry (MatchEvent, RoomEvent)."""

    seq: int
    type: str
    at: float
    data: dict[str, Any]


class Stream(Protocol):
    """A stream's row (MatchRow, Room): its id and last sequence number."""

    id: int
    seq: int


O = TypeVar("O", bound=Base)  # noqa: E741 - the stream row's model
E = TypeVar("E", bound=Base)  # the log entries' model


@dataclass(frozen=True)
class EventLog(Generic[O, E]):
    """The log of one kind of stream: its row's model and id column, its entries' model and
    the entry column naming the stream (e.g. MatchEvent.match_id)."""

    owner: type[O]
    owner_id: InstrumentedAttribute[int]
    entry: type[E]
    stream_id: InstrumentedAttribute[int]
    seq: InstrumentedAttribute[int]

    async def locked(self, session: AsyncSession, stream_id: int, *, join: bool = False) -> O:
        """The stream's row, locked and read afresh, in a transaction of its own (what the
        session held before is committed first), or with `join` in the session's transaction
        as it is. LookupError if there is no such stream (rolled back, unless joined: the
        caller's transaction is the caller's to end).

        PostgreSQL: FOR NO KEY UPDATE, which does not wait for rows that merely refer to
        the stream (a new submission's foreign key takes KEY SHARE on its match): a
        transaction that inserts such a row and then locks the stream cannot deadlock with
        another doing the same. `populate_existing`: a row this session read before the lock
        (its target check) is replaced by what the lock sees."""
        if session.in_transaction() and not join:
            await session.commit()
        row = await session.scalar(
            select(self.owner)
            .where(self.owner_id == stream_id)
            .with_for_update(key_share=True)
            .execution_options(populate_existing=True)
        )
        if row is None:
            if not join:
                await session.rollback()
            raise LookupError(f"no {self.owner.__tablename__} {stream_id}")
        return row

    def append(self, session: AsyncSession, stream: O, happened: Sequence[Event]) -> list[E]:
        """Add events to the stream's log with the next sequence numbers (to be committed
        with the change that made them)."""
        row = cast(Stream, stream)
        entries = []
        for item in happened:
            row.seq += 1
            data = {k: v for k, v in item.items() if k not in ("type", "at")}
            fields = {self.stream_id.key: row.id, "seq": row.seq, "type": item["type"]}
            entries.append(self.entry(**fields, at=item["at"], data=data))
        session.add_all(entries)
        return entries

    async def since(self, session: AsyncSession, stream_id: int, after_seq: int) -> list[E]:
        """The log after `after_seq`, in order: what a reconnecting client missed."""
        return list(
            await session.scalars(
                select(self.entry)
                .where(self.stream_id == stream_id, self.seq > after_seq)
                .order_by(self.seq)
            )
        )


def message(entry: Entry) -> dict[str, Any]:
    """A log entry as clients receive it."""
    return {
        "v": 1,
        "type": "event",
        "seq": entry.seq,
        "event": {"type": entry.type, "at": entry.at, **entry.data},
        "server_time": time.time(),
    }
