"""Matches in the database: each event is one transaction that locks the match row, runs the
state machine (battles/fsm.py) and appends what happened to the event log with the next
sequence numbers. Concurrent events on one match are therefore applied one at a time: two
final results arriving at the same moment produce exactly one winner.

PostgreSQL locks the row (SELECT ... FOR UPDATE). SQLite has no row locks: there the
transaction begins IMMEDIATE, taking the database's write lock before it reads.
"""

from __future__ import annotations

import time
from dataclasses import asdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from codebattle.battles import fsm
from codebattle.battles.models import MatchEvent, MatchRow
from codebattle.db.session import IMMEDIATE


def dump(match: fsm.Match) -> dict[str, Any]:
    data = asdict(match)
    data["rematch_offers"] = sorted(match.rematch_offers)
    return data


def load(data: dict[str, Any]) -> fsm.Match:
    return fsm.Match(
        settings=fsm.Settings(**data["settings"]),
        state=fsm.State(data["state"]),
        players=[fsm.Player(**p) for p in data["players"]],
        starts_at=data["starts_at"],
        ends_at=data["ends_at"],
        winner=data["winner"],
        reason=data["reason"],
        rematch_offers=set(data["rematch_offers"]),
    )


def next_deadline(match: fsm.Match) -> float | None:
    """The earliest moment `fsm.tick` may change this match (for the deadline sweeper)."""
    moments: list[float] = []
    if match.state == fsm.State.countdown and match.starts_at is not None:
        moments.append(match.starts_at)
    if match.state == fsm.State.running and match.ends_at is not None:
        moments.append(match.ends_at)
    if match.state in (fsm.State.countdown, fsm.State.running):
        moments += [
            p.disconnected_at + match.settings.grace
            for p in match.players
            if p.disconnected_at is not None
        ]
    return min(moments, default=None)


async def create(
    session: AsyncSession,
    *,
    mode: str,
    problem_id: int,
    problem_version_id: int,
    settings: fsm.Settings,
    rated: bool,
) -> MatchRow:
    match = fsm.Match(settings)
    row = MatchRow(
        mode=mode,
        rated=rated,
        problem_id=problem_id,
        problem_version_id=problem_version_id,
        state=match.state,
        fsm=dump(match),
        seq=0,
    )
    session.add(row)
    await session.commit()
    return row


async def apply(
    session: AsyncSession, match_id: int, event: fsm.Event | None, now: float | None = None
) -> list[MatchEvent]:
    """Apply a player's event (or, with None, just the deadlines) in one transaction and
    return the new log entries. Raises fsm.IllegalEvent (nothing is changed) or LookupError.
    Commits what the session held before, then runs in a transaction of its own."""
    if session.get_bind().dialect.name == "sqlite":
        if session.in_transaction():
            await session.commit()  # apply commits anyway; its own transaction must begin here
        await session.connection(execution_options={IMMEDIATE: True})
    return await _apply(session, match_id, event, now)


async def _apply(
    session: AsyncSession, match_id: int, event: fsm.Event | None, now: float | None
) -> list[MatchEvent]:
    moment = time.time() if now is None else now
    row = await session.scalar(select(MatchRow).where(MatchRow.id == match_id).with_for_update())
    if row is None:
        await session.rollback()
        raise LookupError(f"no match {match_id}")
    match = load(row.fsm)
    try:
        happened = fsm.tick(match, moment) if event is None else fsm.apply(match, event, moment)
    except fsm.IllegalEvent:
        await session.rollback()
        raise
    entries = []
    for offset, item in enumerate(happened, start=1):
        data = {k: v for k, v in item.items() if k not in ("type", "at")}
        entries.append(
            MatchEvent(
                match_id=row.id, seq=row.seq + offset, type=item["type"], at=item["at"], data=data
            )  # fmt: skip
        )
    session.add_all(entries)
    row.seq += len(entries)
    row.fsm = dump(match)
    row.state = match.state
    row.next_deadline = next_deadline(match)
    row.winner_id = match.winner
    row.reason = match.reason
    await session.commit()
    return entries


async def events_since(session: AsyncSession, match_id: int, after_seq: int) -> list[MatchEvent]:
    """The log after `after_seq`, in order: what a reconnecting client missed."""
    return list(
        await session.scalars(
            select(MatchEvent)
            .where(MatchEvent.match_id == match_id, MatchEvent.seq > after_seq)
            .order_by(MatchEvent.seq)
        )
    )


async def due(session: AsyncSession, now: float) -> list[int]:
    """Matches whose next deadline has passed: the sweeper applies `apply(..., None)`."""
    return list(
        await session.scalars(
            select(MatchRow.id).where(
                MatchRow.next_deadline.is_not(None), MatchRow.next_deadline <= now
            )
        )
    )
