"""Replays: the players' code over a match, stored while it runs and read afterwards.

Storing: a player's editor content is kept every few seconds and when their socket closes
(battles/socket.py). Each player's snapshots of a match are capped in number and in bytes, so
reconnecting in a loop cannot grow a replay without end: past either cap the newest snapshot
is overwritten (the replay still ends with their latest code), and code identical to the
newest is not stored again.

Reading: after the game only (the route checks). The first page has the event log and the
submissions (verdict, tests passed, time), then the code: snapshots, then submitted code, in
pages of at most `limit` items and about `page_bytes` bytes of code, each naming the cursor
of the next (`next`, null on the last), so no replay is built whole in memory.

The AI opponent's code is never in a replay: it is a problem's reference solution (or the
model's answer). Its attempts' verdicts and times are; it has no snapshots (it only reports
typing activity), and any it had would be left out too.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from codebattle.battles import service as battles
from codebattle.battles.models import CodeSnapshot, MatchPlayer, MatchRow
from codebattle.db.base import MAX_ID
from codebattle.errors import UserError
from codebattle.storage import BlobStore
from codebattle.submissions import service as submissions

PAGE_ITEMS = 100  # code items a page holds unless the client asks for fewer or more
MAX_PAGE_ITEMS = 500
# "s<id>": snapshots after this id; "u<id>": submitted code after this id (snapshots done).
_CURSOR = re.compile(r"^([su])([0-9]{1,10})$")


@dataclass(frozen=True)
class Caps:
    """How much of one player's code one match keeps."""

    count: int
    bytes: int


async def add_snapshot(
    session: AsyncSession,
    match_id: int,
    user_id: int,
    language: str,
    code: str,
    caps: Caps,
    now: float | None = None,
) -> bool:
    """Keep a player's code for the replay (True), or not (False: it is the same as their
    newest snapshot). Past a cap the newest snapshot is overwritten. Commits."""
    moment = time.time() if now is None else now
    # One snapshot at a time per player (their row locked; SQLite's write lock does the same),
    # so two sockets of one player cannot pass a cap together.
    await session.scalar(
        select(MatchPlayer.user_id)
        .where(MatchPlayer.match_id == match_id, MatchPlayer.user_id == user_id)
        .with_for_update()
    )
    mine = (CodeSnapshot.match_id == match_id, CodeSnapshot.user_id == user_id)
    count, total = (
        await session.execute(
            select(func.count(), func.coalesce(func.sum(CodeSnapshot.size), 0)).where(*mine)
        )
    ).one()
    newest = await session.scalar(
        select(CodeSnapshot).where(*mine).order_by(CodeSnapshot.id.desc()).limit(1)
    )
    if newest is not None and newest.code == code and newest.language == language:
        await session.rollback()
        return False
    size = len(code.encode())
    if newest is None or (count < caps.count and total + size <= caps.bytes):
        session.add(
            CodeSnapshot(
                match_id=match_id, user_id=user_id, at=moment, language=language, code=code,
                size=size,
            )
        )  # fmt: skip
    else:
        newest.at, newest.language, newest.code, newest.size = moment, language, code, size
    await session.commit()
    return True


def parse_cursor(text: str | None) -> tuple[str, int]:
    """A page cursor as the previous page named it (None: the first page)."""
    if text is None:
        return "s", 0
    found = _CURSOR.match(text)
    if found is None:
        raise UserError(422, "replay_cursor_bad")
    return found[1], min(int(found[2]), MAX_ID)


def ai_players(row: MatchRow) -> list[int]:
    return [p["user_id"] for p in row.fsm["players"] if p.get("ai")]


async def first_page(
    session: AsyncSession, row: MatchRow, blobs: BlobStore, *, limit: int, page_bytes: int
) -> dict[str, Any]:
    """The event log, every submission (without code) and the first page of code."""
    events = await battles.events_since(session, row.id, 0)
    return {
        "events": [{"seq": e.seq, "type": e.type, "at": e.at, **e.data} for e in events],
        "submissions": [
            {
                "id": s.id,
                "user": s.user_id,
                "language": s.language,
                "verdict": s.verdict,
                "passed": s.tests_passed,
                "time": s.max_time,
                "at": submissions.made_at(s),
            }
            for s in await submissions.of_match(session, row.id)
        ],  # fmt: skip
        **await code_page(session, row, blobs, ("s", 0), limit=limit, page_bytes=page_bytes),
    }


async def code_page(
    session: AsyncSession,
    row: MatchRow,
    blobs: BlobStore,
    cursor: tuple[str, int],
    *,
    limit: int,
    page_bytes: int,
) -> dict[str, Any]:
    """One page of the code timeline after `cursor`: `code` (snapshots, then submitted code;
    never the AI's) and `next`, the cursor of the following page or None."""
    kind, after = cursor
    hidden = ai_players(row)
    items: list[dict[str, Any]] = []
    used = 0
    if kind == "s":
        sizes = await _snapshot_sizes(session, row, after, hidden, limit)
        taken, used = _fit(sizes, limit, page_bytes)
        if taken:
            snapshots = await session.scalars(
                select(CodeSnapshot).where(CodeSnapshot.id.in_(taken)).order_by(CodeSnapshot.id)
            )
            items += [
                {"kind": "snapshot", "id": s.id, "user": s.user_id, "at": s.at,
                 "language": s.language, "code": s.code}
                for s in snapshots
            ]  # fmt: skip
        if len(taken) < len(sizes):
            return {"code": items, "next": f"s{taken[-1]}"}
        after = 0
    room = limit - len(items)
    if room == 0:
        return {"code": items, "next": "u0"}
    # One more than a page takes, so the page knows whether more follow.
    sizes = await submissions.code_sizes_in_match(
        session, row.id, after=after, hidden=hidden, limit=room + 1
    )
    taken, _used = _fit(sizes, room, page_bytes - used, must_take=not items)
    for s, code in await submissions.with_code(session, blobs, taken):
        items.append(
            {"kind": "submission", "id": s.id, "user": s.user_id, "at": submissions.made_at(s),
             "language": s.language, "code": code}
        )  # fmt: skip
    more = len(taken) < len(sizes)
    return {"code": items, "next": f"u{taken[-1] if taken else after}" if more else None}


async def _snapshot_sizes(
    session: AsyncSession, row: MatchRow, after: int, hidden: list[int], room: int
) -> Sequence[Any]:
    """(id, bytes) of the match's snapshots after `after`, in order, never the AI's: one
    more than a page takes, so the page knows whether more follow."""
    return (
        await session.execute(
            select(CodeSnapshot.id, CodeSnapshot.size)
            .where(
                CodeSnapshot.match_id == row.id,
                CodeSnapshot.id > after,
                CodeSnapshot.user_id.not_in(hidden),
            )
            .order_by(CodeSnapshot.id)
            .limit(room + 1)
        )
    ).all()


def _fit(
    rows: Sequence[Any], room: int, budget: int, *, must_take: bool = True
) -> tuple[list[int], int]:
    """The ids of the (id, size) rows a page takes, in order: at most `room` of them within
    `budget` bytes, but with `must_take` at least one whatever its size (every page moves
    on); and the bytes they hold."""
    taken: list[int] = []
    used = 0
    for row_id, size in rows[:room]:
        if used + size > budget and (taken or not must_take):
            break
        taken.append(row_id)
        used += size
    return taken, used
