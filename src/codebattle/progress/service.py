"""Ratings in the database: read a player's rating, and rate a finished game (in the caller's
transaction: the one that settles the match's rating once fair play has assessed it, so the
change and its log event land together or not at all), weighted against farming
(progress/ratings.py, docs/ratings.md)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from codebattle.progress import seasons
from codebattle.progress.models import PlayerRating, RatingChange
from codebattle.progress.ratings import REPEAT_WINDOW, Rating, provisional, rate, weight

__all__ = [
    "Rating",
    "Standing",
    "history",
    "rate_game",
    "rating_of",
    "restore_game",
    "standings",
    "void_game",
]

# RatingChange.reason: a game's own change ("won", "lost", "draw"; what rate_game writes),
# or its exact reversal by an operator ("voided") and the reversal undone ("restored").
GAME_REASONS = ("won", "lost", "draw")
VOIDED, RESTORED = "voided", "restored"


@dataclass(frozen=True)
class Standing:
    """A rating as players see it: its value, and whether it is still provisional."""

    display: int
    provisional: bool
    rated_games: int


async def rating_of(session: AsyncSession, user_id: int) -> Rating:
    row = await session.get(PlayerRating, user_id)
    return Rating() if row is None else Rating(row.mu, row.sigma)


async def standings(session: AsyncSession, user_ids: list[int]) -> dict[int, Standing]:
    """Displayed ratings with their provisional mark, in one query."""
    found = {
        uid: (display, games or 0)
        for uid, display, games in (
            await session.execute(
                select(PlayerRating.user_id, PlayerRating.display, PlayerRating.games).where(
                    PlayerRating.user_id.in_(user_ids)
                )
            )
        ).all()
    }
    shown = {}
    for uid in user_ids:
        display, games = found.get(uid, (Rating().display, 0))
        shown[uid] = Standing(display, provisional(games), games)
    return shown


async def _repeats(
    session: AsyncSession, users: list[int], since: datetime
) -> dict[tuple[int, int], int]:
    """Rated games each pair of these players played together since `since`."""
    mine, theirs = aliased(RatingChange), aliased(RatingChange)
    rows = await session.execute(
        select(mine.user_id, theirs.user_id, func.count())
        .join(theirs, theirs.match_id == mine.match_id)
        .where(
            mine.user_id.in_(users),
            theirs.user_id.in_(users),
            mine.user_id != theirs.user_id,
            mine.created_at >= since,
            mine.reason.in_(GAME_REASONS),
            theirs.reason.in_(GAME_REASONS),
        )
        .group_by(mine.user_id, theirs.user_id)
    )
    return {(a, b): int(n) for a, b, n in rows.all()}


async def rate_game(
    session: AsyncSession,
    match_id: int,
    places: dict[int, int],
    reasons: dict[int, str],
    at: float | None = None,
    *,
    season: seasons.SeasonRules | None = None,
) -> list[dict[str, Any]]:
    """Update the players' ratings for one rated game finished at `at` (without committing)
    and return the changes as shown to players: before, after, delta, reason, and why the
    change was weighted (weight, repeat, opponent_provisional, provisional). Each season
    rating moves with its all-time one (progress/seasons.py; `season`: the settings'
    rules, config's defaults when not given)."""
    when = datetime.fromtimestamp(time.time() if at is None else at, UTC)
    users = sorted(places)
    rows = {
        r.user_id: r
        for r in await session.scalars(
            select(PlayerRating).where(PlayerRating.user_id.in_(users)).with_for_update()
        )
    }
    games = {u: (rows[u].games or 0) if u in rows else 0 for u in users}
    together = await _repeats(session, users, when - timedelta(seconds=REPEAT_WINDOW))
    befores = [Rating(rows[u].mu, rows[u].sigma) if u in rows else Rating() for u in users]
    model = rate(befores, [places[u] for u in users], [reasons[u] for u in users])
    languages = await seasons.languages_of(session, match_id)
    shown = []
    for user_id, full in zip(users, model, strict=True):
        others = [u for u in users if u != user_id]
        repeat = 1 + max(together.get((user_id, u), 0) for u in others)
        against_provisional = any(provisional(games[u]) for u in others)
        share = weight(opponent_provisional=against_provisional, repeat=repeat)
        change = full.weighted(share)
        row = rows.get(user_id)
        if row is None:
            row = PlayerRating(user_id=user_id, games=0)
            session.add(row)
        row.mu, row.sigma, row.display = change.after.mu, change.after.sigma, change.after.display
        row.games = games[user_id] + 1
        session.add(
            RatingChange(
                user_id=user_id,
                match_id=match_id,
                before=change.before.display,
                after=change.after.display,
                mu=change.after.mu,
                sigma=change.after.sigma,
                reason=change.reason,
                created_at=when,
            )  # fmt: skip
        )
        await seasons.shift(
            session, user_id, before=change.before, after=change.after, games=1, at=when,
            played_at=when, language=languages.get(user_id), rules=season,
        )  # fmt: skip
        shown.append(
            {
                "user": user_id,
                "before": change.before.display,
                "after": change.after.display,
                "delta": change.delta,
                "reason": change.reason,
                "weight": round(share, 4),
                "repeat": repeat,
                "opponent_provisional": against_provisional,
                "provisional": provisional(row.games),
            }
        )
    return shown


async def void_game(
    session: AsyncSession,
    match_id: int,
    at: float | None = None,
    *,
    season: seasons.SeasonRules | None = None,
) -> list[dict[str, Any]]:
    """Take back exactly the rating change of this game from each player whose change
    stands (not reversed yet), without committing; each reversal is a "voided" change.
    The season rating moves with it (`season` as for `rate_game`)."""
    return await _reverse(session, match_id, at, undo=True, season=season)


async def restore_game(
    session: AsyncSession,
    match_id: int,
    at: float | None = None,
    *,
    season: seasons.SeasonRules | None = None,
) -> list[dict[str, Any]]:
    """Give back exactly the change `void_game` took (an overturned void), as "restored"."""
    return await _reverse(session, match_id, at, undo=False, season=season)


async def _reverse(
    session: AsyncSession,
    match_id: int,
    at: float | None,
    *,
    undo: bool,
    season: seasons.SeasonRules | None = None,
) -> list[dict[str, Any]]:
    """Take back (`undo`) or give back the game's own change, `game - before` (mu, sigma
    and one game), where `before` is the player's previous change (by id; the default
    rating before the first): ratings change in no other way, so every row's change is
    its values minus the previous row's. The amount is always the ORIGINAL game's, never
    a stored rating copied, so games played since keep theirs (voided, played again,
    restored: the current rating plus the game's change).

    Exactness: when the player's rating is still exactly what this game's newest row
    (the game, or its last reversal) left, nothing happened since, and the row being
    undone is inverted by giving back the rating it found (the previous row's values).
    That is the same computation without float rounding: void then restore, with
    nothing in between, ends exactly where it began, however long the chain."""
    when = datetime.fromtimestamp(time.time() if at is None else at, UTC)
    rows = list(
        await session.scalars(
            select(RatingChange).where(RatingChange.match_id == match_id).order_by(RatingChange.id)
        )
    )
    shown: list[dict[str, Any]] = []
    languages = await seasons.languages_of(session, match_id) if rows else {}
    for user_id in sorted({r.user_id for r in rows}):
        mine = [r for r in rows if r.user_id == user_id]
        game = next((r for r in mine if r.reason in GAME_REASONS), None)
        last = mine[-1]
        stands = last.reason != VOIDED
        if game is None or stands != undo:
            continue  # nothing to take back (or, restoring, nothing taken)
        rating = await session.scalar(
            select(PlayerRating).where(PlayerRating.user_id == user_id).with_for_update()
        )
        if rating is None:  # cannot be: the game rated them
            continue
        if (rating.mu, rating.sigma) == (last.mu, last.sigma):  # nothing since `last`
            target = await _rating_before(session, user_id, last.id)
        else:
            before = await _rating_before(session, user_id, game.id)
            sign = -1.0 if undo else 1.0
            target = Rating(
                rating.mu + sign * (game.mu - before.mu),
                rating.sigma + sign * (game.sigma - before.sigma),
            )
        was, found = rating.display, Rating(rating.mu, rating.sigma)
        rating.mu, rating.sigma, rating.display = target.mu, target.sigma, target.display
        rating.games = max(0, (rating.games or 0) + (-1 if undo else 1))
        session.add(
            RatingChange(
                user_id=user_id,
                match_id=match_id,
                before=was,
                after=rating.display,
                mu=rating.mu,
                sigma=rating.sigma,
                reason=VOIDED if undo else RESTORED,
                created_at=when,
            )  # fmt: skip
        )
        await session.flush()  # its id orders it before any later row of this player
        await seasons.shift(
            session, user_id, before=found, after=target, games=-1 if undo else 1, at=when,
            played_at=game.created_at, language=languages.get(user_id), rules=season,
        )  # fmt: skip
        shown.append(
            {
                "user": user_id,
                "before": was,
                "after": rating.display,
                "delta": rating.display - was,
                "reason": VOIDED if undo else RESTORED,
            }
        )
    await session.flush()
    return shown


async def _rating_before(session: AsyncSession, user_id: int, change_id: int) -> Rating:
    """The player's rating just before this change: the previous change's, or the default."""
    previous = await session.scalar(
        select(RatingChange)
        .where(RatingChange.user_id == user_id, RatingChange.id < change_id)
        .order_by(RatingChange.id.desc())
        .limit(1)
    )
    return Rating() if previous is None else Rating(previous.mu, previous.sigma)


async def history(session: AsyncSession, user_id: int, limit: int = 50) -> list[RatingChange]:
    return list(
        await session.scalars(
            select(RatingChange)
            .where(RatingChange.user_id == user_id)
            .order_by(RatingChange.id.desc())
            .limit(limit)
        )
    )
