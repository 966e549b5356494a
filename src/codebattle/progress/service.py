"""Ratings in the database: read a player's rating, and rate a finished game (in the caller's
transaction, the one that finished the match, so a result and its rating change land
together or not at all)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from codebattle.progress.models import PlayerRating, RatingChange
from codebattle.progress.ratings import Rating, rate

__all__ = ["Rating", "displays", "history", "rate_game", "rating_of"]


async def rating_of(session: AsyncSession, user_id: int) -> Rating:
    row = await session.get(PlayerRating, user_id)
    return Rating() if row is None else Rating(row.mu, row.sigma)


async def displays(session: AsyncSession, user_ids: list[int]) -> dict[int, int]:
    """Displayed ratings; a player who never played a rated game has a new player's."""
    found = dict(
        (
            await session.execute(
                select(PlayerRating.user_id, PlayerRating.display).where(
                    PlayerRating.user_id.in_(user_ids)
                )
            )
        ).all()
    )
    return {uid: found.get(uid, Rating().display) for uid in user_ids}


async def rate_game(
    session: AsyncSession, match_id: int, places: dict[int, int], reasons: dict[int, str]
) -> list[dict[str, Any]]:
    """Update the players' ratings for one rated game (without committing) and return the
    changes as shown to players: before, after, delta, reason."""
    users = sorted(places)
    rows = {
        r.user_id: r
        for r in await session.scalars(
            select(PlayerRating).where(PlayerRating.user_id.in_(users)).with_for_update()
        )
    }
    befores = [Rating(rows[u].mu, rows[u].sigma) if u in rows else Rating() for u in users]
    changes = rate(befores, [places[u] for u in users], [reasons[u] for u in users])
    shown = []
    for user_id, change in zip(users, changes, strict=True):
        row = rows.get(user_id)
        if row is None:
            row = PlayerRating(user_id=user_id, games=0)
            session.add(row)
        row.mu, row.sigma, row.display = change.after.mu, change.after.sigma, change.after.display
        row.games = (row.games or 0) + 1
        session.add(
            RatingChange(
                user_id=user_id,
                match_id=match_id,
                before=change.before.display,
                after=change.after.display,
                mu=change.after.mu,
                sigma=change.after.sigma,
                reason=change.reason,
            )  # fmt: skip
        )
        shown.append(
            {
                "user": user_id,
                "before": change.before.display,
                "after": change.after.display,
                "delta": change.delta,
                "reason": change.reason,
            }
        )
    return shown


async def history(session: AsyncSession, user_id: int, limit: int = 50) -> list[RatingChange]:
    return list(
        await session.scalars(
            select(RatingChange)
            .where(RatingChange.user_id == user_id)
            .order_by(RatingChange.id.desc())
            .limit(limit)
        )
    )
