"""The season-end job: for every season that is over, write its final table once, then
grant each ranked player the points of their final tier, once.

Survives restarts by its steps, each made once and safe to run again:
1. the table: one conditional UPDATE sets `archived_at` (only the first runner passes) and
   the standings are inserted in that same transaction, so a table is either all there or
   not at all, and never recomputed (later rating changes leave it as it is);
2. the points: `earning.grant` with the key `season:<n>:<user>` (once per user whatever
   happens: a crash midway and a rerun grants the rest, never anyone twice), committed in
   batches; only players in good standing at the grant receive points;
3. `rewarded_at`, once every grant is made: the season is finished with.
A badge needs nothing more: the final tier is in the player's standing row (the profile
shows it, progress/rankings.badges)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import structlog
from sqlalchemy import select, update

from codebattle.battles import live
from codebattle.config import Settings
from codebattle.db.session import Database
from codebattle.progress import earning, rankings
from codebattle.progress.models import Season, SeasonStanding
from codebattle.progress.seasons import SeasonRules, current
from codebattle.progress.tiers import by_code, tier_of
from codebattle.services import Services

log = structlog.get_logger(__name__)
INTERVAL = 60.0  # seconds between passes
# A season's table waits this long after its end: games that finished just before it are
# rated once fair play has looked at them (seconds to minutes), and count in the table.
# A game held for an operator longer than this counts for the next season's rating only.
SETTLE_GRACE = timedelta(minutes=15)
BATCH = 200  # grants per transaction


async def archive(db: Database, season_id: int, rules: SeasonRules, now: datetime) -> bool:
    """Write the season's final table unless it is written: True when this call wrote it."""
    async with db.session() as session:
        taken = await session.execute(
            update(Season)
            .where(Season.id == season_id, Season.archived_at.is_(None))
            .values(archived_at=now)
            .execution_options(synchronize_session=False)
        )
        if not getattr(taken, "rowcount", 0):
            await session.rollback()
            return False
        season = await session.get(Season, season_id)
        assert season is not None
        for line in await rankings.final_lines(session, season, rules):
            session.add(
                SeasonStanding(
                    season_id=season_id,
                    user_id=line.user_id,
                    rank=line.rank,
                    display=line.display,
                    tier=tier_of(line.display).code,
                    games=line.games,
                    languages=line.languages,
                )  # fmt: skip
            )
        await session.commit()
        return True


async def reward(db: Database, season_id: int, now: datetime) -> int:
    """Grant the season's points (once per player, by key), then mark it rewarded.
    Returns the grants this call made."""
    async with db.reading() as session:
        season = await session.get(Season, season_id)
        if season is None or season.rewarded_at is not None:
            return 0
        number = season.number
        standings = list(
            (
                await session.execute(
                    select(SeasonStanding.user_id, SeasonStanding.tier, SeasonStanding.rank)
                    .where(SeasonStanding.season_id == season_id)
                    .order_by(SeasonStanding.rank)
                )
            ).all()
        )
    made = 0
    for start in range(0, len(standings), BATCH):
        async with db.session() as session:
            for user_id, code, rank in standings[start : start + BATCH]:
                tier = by_code(code)
                amount = 0 if tier is None else tier.season_points
                posted = await earning.grant(
                    session, user_id, key=f"season:{number}:{user_id}", reason=earning.SEASON,
                    amount=amount, params={"season": number, "tier": code, "rank": rank},
                    now=now,
                )  # fmt: skip
                made += int(posted is not None and posted.created)
            await session.commit()
    async with db.session() as session:
        await session.execute(
            update(Season)
            .where(Season.id == season_id, Season.rewarded_at.is_(None))
            .values(rewarded_at=now)
            .execution_options(synchronize_session=False)
        )
        await session.commit()
    return made


async def run_once(db: Database, settings: Settings | SeasonRules, now: datetime) -> int:
    """One pass: the season containing `now` exists (the next one starts by itself), and
    every season over (SETTLE_GRACE ago) and not yet rewarded is archived and rewarded.
    Returns how many
    seasons this pass finished."""
    rules = settings if isinstance(settings, SeasonRules) else SeasonRules.of(settings)
    async with db.session() as session:
        await current(session, now, rules)
        await session.commit()
    async with db.reading() as session:
        due = list(
            await session.scalars(
                select(Season.id)
                .where(Season.ends_at <= now - SETTLE_GRACE, Season.rewarded_at.is_(None))
                .order_by(Season.number)
            )
        )
    for season_id in due:
        await archive(db, season_id, rules, now)
        await reward(db, season_id, now)
    return len(due)


async def running(services: Services, interval: float = INTERVAL) -> None:
    """`run_once` every `interval` seconds for the life of the process. Every instance
    runs it, with no lease: every step is made once whoever makes it. `live.every` logs
    an outage once, not a traceback a pass."""
    await live.every(
        interval,
        lambda: run_once(services.db, services.settings, datetime.now(UTC)),
        "the season-end job",
    )
