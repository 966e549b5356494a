"""Ranking tables as players read them: this season's (from season ratings, placement
players apart), a past season's (its archived final table only, never recomputed) and the
all-time one. Ranks follow one order everywhere: display, then games, then user id (the
older account first), so that equal ratings still get distinct, stable ranks.

Players shown: humans with an account (not deleted) and not banned; the AI never plays
rated games. A language filter keeps players with rated games in that language this
season (or in the archived season). Tables are read whole and cut in Python: one season's
players are thousands at most in the alpha (an indexed SQL version is the next step)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from codebattle.accounts.models import User
from codebattle.progress.models import PlayerRating, Season, SeasonRating, SeasonStanding
from codebattle.progress.seasons import SeasonRules, placement

AROUND = 5  # players shown above and below me


@dataclass(frozen=True)
class Line:
    rank: int  # 0: not ranked (placement)
    user_id: int
    display: int
    games: int
    languages: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Table:
    """One page of a table, the total ranked, my line and my neighbours (when ranked)."""

    lines: list[Line]
    total: int
    mine: Line | None = None
    around: list[Line] = field(default_factory=list)
    placement: list[Line] = field(default_factory=list)


def _shown() -> Any:
    """Users whose lines are shown: not deleted, not banned, not the AI."""
    return select(User.id).where(
        User.deleted_at.is_(None), User.banned_at.is_(None), User.is_ai.is_(False)
    )


def ordered(lines: list[Line]) -> list[Line]:
    """Ranked 1..n by display, games, then user id."""
    lines = sorted(lines, key=lambda x: (-x.display, -x.games, x.user_id))
    return [Line(i, x.user_id, x.display, x.games, x.languages) for i, x in enumerate(lines, 1)]


def cut(
    ranked: list[Line], *, offset: int, limit: int, me: int | None, placed: list[Line] | None = None
) -> Table:
    """One page of a ranked table, with my line and the lines around it (by position in
    the list: a filtered archive keeps its stored ranks, so rank - 1 is not the index)."""
    at = next((i for i, x in enumerate(ranked) if x.user_id == me), None)
    mine = None if at is None else ranked[at]
    around = [] if at is None else ranked[max(0, at - AROUND) : at + AROUND + 1]
    return Table(ranked[offset : offset + limit], len(ranked), mine, around, placed or [])


def _speaks(languages: dict[str, int] | None, language: str | None) -> bool:
    return language is None or int((languages or {}).get(language, 0)) > 0


async def season_table(
    session: AsyncSession,
    season: Season,
    rules: SeasonRules,
    *,
    language: str | None = None,
    offset: int = 0,
    limit: int = 50,
    me: int | None = None,
) -> Table:
    """A running season: ranked players (placement done) and those still placing."""
    rows = await session.scalars(
        select(SeasonRating).where(
            SeasonRating.season_id == season.id, SeasonRating.user_id.in_(_shown())
        )
    )
    ranked: list[Line] = []
    placing: list[Line] = []
    for r in rows:
        if not _speaks(r.languages, language):
            continue
        line = Line(0, r.user_id, r.display, r.games or 0, dict(r.languages or {}))
        (placing if placement(line.games, rules) else ranked).append(line)
    placing.sort(key=lambda x: (-x.games, -x.display, x.user_id))
    return cut(ordered(ranked), offset=offset, limit=limit, me=me, placed=placing)


async def final_lines(session: AsyncSession, season: Season, rules: SeasonRules) -> list[Line]:
    """The final table as it is written when a season ends (rewards/season_end.py)."""
    return (await season_table(session, season, rules, limit=10**9)).lines


async def archived_table(
    session: AsyncSession,
    season: Season,
    *,
    language: str | None = None,
    offset: int = 0,
    limit: int = 50,
    me: int | None = None,
) -> Table:
    """A past season's final table, read from season_standings only (its stored ranks;
    a language filter keeps those ranks, the table is never re-ranked)."""
    rows = await session.scalars(
        select(SeasonStanding)
        .where(SeasonStanding.season_id == season.id)
        .order_by(SeasonStanding.rank)
    )
    lines = [
        Line(r.rank, r.user_id, r.display, r.games, dict(r.languages or {}))
        for r in rows
        if _speaks(r.languages, language)
    ]
    return cut(lines, offset=offset, limit=limit, me=me)


async def all_time_table(
    session: AsyncSession, *, offset: int = 0, limit: int = 50, me: int | None = None
) -> Table:
    rows = await session.execute(
        select(PlayerRating.user_id, PlayerRating.display, PlayerRating.games).where(
            PlayerRating.user_id.in_(_shown()), PlayerRating.games > 0
        )
    )
    lines = [Line(0, uid, display, games or 0) for uid, display, games in rows.all()]
    return cut(ordered(lines), offset=offset, limit=limit, me=me)


async def past_seasons(session: AsyncSession) -> list[Season]:
    """Seasons whose final table is written, newest first."""
    return list(
        await session.scalars(
            select(Season).where(Season.archived_at.is_not(None)).order_by(Season.number.desc())
        )
    )


async def badges(session: AsyncSession, user_id: int) -> list[tuple[int, str, int]]:
    """A player's final places: (season number, tier code, rank), newest first."""
    rows = await session.execute(
        select(Season.number, SeasonStanding.tier, SeasonStanding.rank)
        .join(Season, Season.id == SeasonStanding.season_id)
        .where(SeasonStanding.user_id == user_id)
        .order_by(Season.number.desc())
    )
    return [(int(n), str(t), int(r)) for n, t, r in rows.all()]
