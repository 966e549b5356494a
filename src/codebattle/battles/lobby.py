"""The ranked queue in the database, so every API instance sees one queue: join, leave, look,
and pair (battles/matchmaking.py decides who plays whom). Pairing runs in one transaction
holding a lock (PostgreSQL: a transaction-level advisory lock; SQLite: BEGIN IMMEDIATE), so
two instances pairing at once cannot put a player in two games.

Ranked games count against the plan's daily limit (accounts/plans.py): checked when a player
joins (so nobody waits for a game they cannot play) and counted when a pair's game starts,
in the pairing's transaction; a player with no game left is taken out of the queue, the
other keeps their place.
"""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from codebattle.accounts import plans, sanctions
from codebattle.accounts.models import User
from codebattle.battles import fsm, matchmaking
from codebattle.battles import service as battles
from codebattle.battles.models import MatchRow, QueueTicket
from codebattle.errors import UserError
from codebattle.progress import service as progress

if TYPE_CHECKING:
    from codebattle.config import Settings

PAIRING_LOCK = 7_310_001  # the advisory lock's key on PostgreSQL


async def join(
    session: AsyncSession,
    user_id: int,
    now: float | None = None,
    *,
    limits: Settings | None = None,
) -> QueueTicket:
    """Queue a player for a ranked game (again, if their last pairing's game is over).
    With `limits` (the settings), a player with no game left today is refused at once."""
    if await battles.active_match_of(session, user_id) is not None:
        raise UserError(409, "already_in_match")
    user = await session.get(User, user_id)
    if user is not None:
        clock = datetime.fromtimestamp(now, UTC) if now else datetime.now(UTC)
        # A suspended player plays no ranked game (403 "suspended", until when).
        sanctions.check_ranked(user, clock, limits.plan_zone if limits else None)
        if limits is not None:
            plans.check_game(await plans.allowance(session, user, limits, clock), limits)
    ticket = await session.get(QueueTicket, user_id)
    if ticket is not None and ticket.match_id is None:
        return ticket  # already waiting: joining twice changes nothing
    rating = (await progress.standings(session, [user_id]))[user_id].display
    if ticket is not None:
        await session.delete(ticket)
        await session.flush()
    ticket = QueueTicket(user_id=user_id, rating=rating, joined_at=now or time.time())
    session.add(ticket)
    await session.commit()
    return ticket


async def leave(session: AsyncSession, user_id: int) -> None:
    await session.execute(
        delete(QueueTicket).where(QueueTicket.user_id == user_id, QueueTicket.match_id.is_(None))
    )
    await session.commit()


async def status(
    session: AsyncSession, user_id: int, rules: matchmaking.Rules, now: float | None = None
) -> dict[str, Any]:
    """Where a player stands: not queued, waiting (with the current window and whether an
    AI opponent is on offer), or paired (the match to open)."""
    moment = now or time.time()
    ticket = await session.get(QueueTicket, user_id)
    if ticket is None:
        return {"state": "idle"}
    if ticket.match_id is not None:
        row = await session.get(MatchRow, ticket.match_id)
        if row is not None and row.state not in (fsm.State.finished, fsm.State.cancelled):
            return {"state": "paired", "match": ticket.match_id}
        return {"state": "idle"}
    entry = matchmaking.Ticket(ticket.user_id, ticket.rating, ticket.joined_at)
    return {
        "state": "waiting",
        "rating": ticket.rating,
        "waited": round(moment - ticket.joined_at, 1),
        "window": round(rules.window(entry, moment)),
        "ai_offer": matchmaking.offer_ai(entry, moment, rules),
    }


async def waiting(session: AsyncSession) -> int:
    """How many players wait to be paired."""
    count = await session.scalar(
        select(func.count()).select_from(QueueTicket).where(QueueTicket.match_id.is_(None))
    )
    return int(count or 0)


async def pair(
    session: AsyncSession,
    settings: battles.MatchSettings,
    rules: matchmaking.Rules,
    rng: random.Random,
    now: float | None = None,
    *,
    limits: Settings | None = None,
) -> list[int]:
    """Pair whoever can be paired now and create their matches; return the new match ids.
    With `limits` (the settings), each new game is counted against both players' daily
    limits in this transaction; a player with no game left leaves the queue unpaired."""
    moment = now or time.time()
    if session.in_transaction():
        await session.commit()
    if session.get_bind().dialect.name != "sqlite":  # SQLite: every transaction locks
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PAIRING_LOCK})
    waiting = list(
        await session.scalars(
            select(QueueTicket)
            .where(QueueTicket.match_id.is_(None))
            .order_by(QueueTicket.joined_at)
        )
    )
    clock = datetime.fromtimestamp(moment, UTC)
    users: dict[int, User] = {}
    if limits is not None:
        waiting, users = await _with_games_left(session, waiting, limits, clock)
    tickets = {t.user_id: t for t in waiting}
    pairs = matchmaking.pair(
        [matchmaking.Ticket(t.user_id, t.rating, t.joined_at) for t in waiting], moment, rules
    )
    created = []
    for a, b in pairs:
        if limits is not None and not await _take_games(
            session, [users[a.user_id], users[b.user_id]], tickets, limits, clock
        ):
            continue
        version = await battles.pick_problem(session, rng)
        row = await battles.start(
            session, version, settings, mode="ranked", rated=True,
            players=[(a.user_id, False), (b.user_id, False)],
        )  # fmt: skip
        tickets[a.user_id].match_id = tickets[b.user_id].match_id = row.id
        created.append(row.id)
    await session.commit()
    return created


async def _with_games_left(
    session: AsyncSession, waiting: list[QueueTicket], limits: Settings, clock: datetime
) -> tuple[list[QueueTicket], dict[int, User]]:
    """The waiting tickets of players with a game left today (the others' tickets are
    removed), and the players."""
    ids = [t.user_id for t in waiting]
    users = {u.id: u for u in await session.scalars(select(User).where(User.id.in_(ids)))}
    used = await plans.games_used_by(session, ids, plans.plan_day(clock, limits))
    kept = []
    for ticket in waiting:
        user = users.get(ticket.user_id)
        if (
            user is None
            or plans.allowance_of(user, used[user.id], limits, clock).exhausted
            or not sanctions.may_play_ranked(user, clock)  # suspended while waiting
        ):
            await session.delete(ticket)
        else:
            kept.append(ticket)
    return kept, users


async def _take_games(
    session: AsyncSession,
    players: list[User],
    tickets: dict[int, QueueTicket],
    limits: Settings,
    clock: datetime,
) -> bool:
    """Count a game for each player; if one has none left (a game started elsewhere since
    the check), give back what was taken, take that player out of the queue and leave the
    others waiting."""
    taken: list[User] = []
    for user in players:
        try:
            await plans.take_game(session, user, limits, clock)
        except UserError:
            for other in taken:
                await plans.give_back_game(session, other, limits, clock)
            await session.delete(tickets[user.id])
            return False
        taken.append(user)
    return True
