"""Seasons: consecutive periods of SEASON_DAYS days (from local midnight in PLAN_TIMEZONE),
the next one made by whoever first needs it, and each player's season rating.

A season rating follows the all-time rating. At a player's first change in a season it
starts from a soft reset of their all-time rating just BEFORE that change, kept
SEASON_RESET_KEEP of the way from a new player's rating; every change of the all-time
rating (a game, a void, a restoration) then moves it by the same amount. So the season
rating is always `all-time + (reset(base) - base)`, `base` being the all-time rating before
the player's first change of the season, and it is computed that way: from stored values
(the rating history), never accumulated, so a void then a restoration with nothing between
ends exactly (==) where it began, as the all-time rating does (progress/service.py). A
rating with no history behind it (set directly, as test factories do) moves by the row's
own offset instead (the same up to float rounding).

Which season a change belongs to: the one containing its time (`RatingChange.created_at`:
a game's finish, a void's or a restoration's moment); a change earlier than the first
season counts in the first. A void or restoration moves the game count (and the language
count) of that season only when the game itself was played in it: a game of last season
voided now moves this season's rating with the all-time one, never this season's games.

The progress layer has no settings: callers pass `SeasonRules` (from the settings); a
caller that passes none gets the defaults of config.Settings (`SeasonRules()`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from math import isclose
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from codebattle.config import Settings
from codebattle.progress.models import RatingChange, Season, SeasonRating
from codebattle.progress.ratings import Rating
from codebattle.submissions.models import Submission

if TYPE_CHECKING:
    from collections.abc import Iterable


def _default(name: str) -> Any:
    return Settings.model_fields[name].default


@dataclass(frozen=True)
class SeasonRules:
    """The season settings the progress layer needs (SEASON_DAYS, SEASON_RESET_KEEP,
    SEASON_PLACEMENT_GAMES, PLAN_TIMEZONE); the defaults are config's."""

    days: int = _default("SEASON_DAYS")
    reset_keep: float = _default("SEASON_RESET_KEEP")
    placement_games: int = _default("SEASON_PLACEMENT_GAMES")
    timezone: str = _default("PLAN_TIMEZONE")

    @classmethod
    def of(cls, settings: Settings) -> SeasonRules:
        return cls(
            days=settings.SEASON_DAYS,
            reset_keep=settings.SEASON_RESET_KEEP,
            placement_games=settings.SEASON_PLACEMENT_GAMES,
            timezone=settings.PLAN_TIMEZONE,
        )

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def rules_of(given: Settings | SeasonRules | None) -> SeasonRules:
    if given is None:
        return SeasonRules()
    return given if isinstance(given, SeasonRules) else SeasonRules.of(given)


def soft_reset(rating: Rating, keep: float) -> Rating:
    """A rating `keep` of the way from a new player's (mu and sigma alike)."""
    new = Rating()
    return Rating(
        new.mu + (rating.mu - new.mu) * keep,
        rating.sigma + (new.sigma - rating.sigma) * (1 - keep),
    )


def _midnight(day: Any, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)


def first_start(now: datetime, rules: SeasonRules) -> datetime:
    """The first season starts at the local midnight that began `now`'s day."""
    return _midnight(now.astimezone(rules.zone).date(), rules.zone)


def end_of(starts_at: datetime, rules: SeasonRules) -> datetime:
    """`days` local days after the start (a local midnight, whatever DST did between)."""
    local = starts_at.astimezone(rules.zone).date()
    return _midnight(local + timedelta(days=rules.days), rules.zone)


async def _make(
    session: AsyncSession, number: int, starts_at: datetime, rules: SeasonRules
) -> Season:
    """Insert season `number`, or read it when another transaction made it first (the
    unique number; the savepoint keeps the caller's transaction alive)."""
    try:
        async with session.begin_nested():
            row = Season(number=number, starts_at=starts_at, ends_at=end_of(starts_at, rules))
            session.add(row)
        return row
    except IntegrityError:
        found = await session.scalar(select(Season).where(Season.number == number))
        if found is None:  # pragma: no cover - the unique number is the only constraint
            raise
        return found


async def current(
    session: AsyncSession, now: datetime, settings: Settings | SeasonRules | None = None
) -> Season:
    """The season containing `now`, made (with any missing before it) when needed; the
    first season for a time before it. In the caller's transaction, without committing."""
    rules = rules_of(settings)
    latest = await session.scalar(select(Season).order_by(Season.number.desc()).limit(1))
    if latest is None:
        latest = await _make(session, 1, first_start(now, rules), rules)
    while latest.ends_at <= now:
        latest = await _make(session, latest.number + 1, latest.ends_at, rules)
    if latest.starts_at <= now:
        return latest
    found = await session.scalar(
        select(Season)
        .where(Season.starts_at <= now, Season.ends_at > now)
        .order_by(Season.number)
        .limit(1)
    )
    if found is not None:
        return found
    first = await session.scalar(select(Season).order_by(Season.number).limit(1))
    return first or latest


async def by_number(session: AsyncSession, number: int) -> Season | None:
    return await session.scalar(select(Season).where(Season.number == number))


def placement(games: int, rules: SeasonRules) -> bool:
    """Still playing placement games this season: shown apart, not ranked."""
    return games < rules.placement_games


async def languages_of(session: AsyncSession, match_id: int) -> dict[int, str]:
    """Each player's language in a game: that of their last submission in it."""
    rows = await session.execute(
        select(Submission.user_id, Submission.language)
        .where(Submission.match_id == match_id)
        .order_by(Submission.id)
    )
    return {int(uid): str(lang) for uid, lang in rows.all()}


async def _base(session: AsyncSession, user_id: int, season: Season) -> Rating | None:
    """The all-time rating before the player's first change in this season (the one that
    made their season row): the change before it, by id, or a new player's; None when
    the history has no change in this season."""
    first = await session.scalar(
        select(RatingChange.id)
        .where(
            RatingChange.user_id == user_id,
            RatingChange.created_at >= season.starts_at,
            RatingChange.created_at < season.ends_at,
        )
        .order_by(RatingChange.id)
        .limit(1)
    )
    if first is None:
        return None
    previous = (
        await session.execute(
            select(RatingChange.mu, RatingChange.sigma)
            .where(RatingChange.user_id == user_id, RatingChange.id < first)
            .order_by(RatingChange.id.desc())
            .limit(1)
        )
    ).first()
    return Rating() if previous is None else Rating(previous[0], previous[1])


def _within(moment: datetime, season: Season) -> bool:
    return season.starts_at <= moment < season.ends_at


def _count(languages: dict[str, int] | None, language: str | None, games: int) -> dict[str, int]:
    counts = dict(languages or {})
    if language:
        counts[language] = counts.get(language, 0) + games
        if counts[language] <= 0:
            del counts[language]
    return counts


def _offset(base: Rating, rules: SeasonRules) -> tuple[float, float]:
    """The season rating minus the all-time one, for a season whose first change found
    the all-time rating at `base`."""
    reset = soft_reset(base, rules.reset_keep)
    return reset.mu - base.mu, reset.sigma - base.sigma


async def shift(
    session: AsyncSession,
    user_id: int,
    *,
    before: Rating,
    after: Rating,
    games: int,
    at: datetime,
    played_at: datetime,
    language: str | None = None,
    rules: SeasonRules | None = None,
) -> SeasonRating:
    """Move the player's season rating with their all-time rating, which just went from
    `before` to `after` at `at` (`games`: +1 a game or a restoration, -1 a void; the game
    was played at `played_at`). In the caller's transaction (the one that rates)."""
    given = rules_of(rules)
    season = await current(session, at, given)
    row = await session.get(SeasonRating, (season.id, user_id), with_for_update=True)
    if row is None:
        offset = _offset(before, given)
        row = SeasonRating(season_id=season.id, user_id=user_id, games=0, languages={})
        session.add(row)
    else:
        offset = (row.mu - before.mu, row.sigma - before.sigma)  # the row kept in step
        base = await _base(session, user_id, season)
        if base is not None:
            exact = _offset(base, given)
            if all(isclose(a, b, abs_tol=1e-9) for a, b in zip(exact, offset, strict=True)):
                offset = exact  # the same offset, from stored values: exact (see above)
    moved = Rating(after.mu + offset[0], after.sigma + offset[1])
    row.mu, row.sigma, row.display = moved.mu, moved.sigma, moved.display
    if _within(played_at, season):
        row.games = max(0, (row.games or 0) + games)
        row.languages = _count(row.languages, language, games)
    row.updated_at = at
    await session.flush()
    return row


async def ratings(
    session: AsyncSession, season_id: int, user_ids: Iterable[int]
) -> dict[int, SeasonRating]:
    wanted = list(user_ids)
    if not wanted:
        return {}
    rows = await session.scalars(
        select(SeasonRating).where(
            SeasonRating.season_id == season_id, SeasonRating.user_id.in_(wanted)
        )
    )
    return {r.user_id: r for r in rows}
