"""How points are earned: the rules are data (progress/data/earning.toml), the grants go
through the ledger (progress/points.py) with keys that make each one happen once.

Games earn only when rated and settled (the rating is applied once fair play found nothing
or an operator cleared the game: battles.service calls `grant_game` in that transaction)
and only for players in good standing (not suspended nor banned). A voided game's points
are taken back by compensating transactions; a game restored after a void earns again
(its keys carry the number of times it was voided)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from codebattle.accounts import sanctions
from codebattle.accounts.models import User
from codebattle.progress import points
from codebattle.progress.models import PointTransaction

WIN, DRAW, FIRST_WIN, ROOM_PODIUM = "win", "draw", "first_win", "room_podium"
ACHIEVEMENT, SEASON = "achievement", "season"


@dataclass(frozen=True)
class Rule:
    """One way to earn: points (by place for a podium), at most `daily_cap` a day."""

    name: str
    points: int
    daily_cap: int | None
    places: tuple[int, ...] = ()


@cache
def rules() -> dict[str, Rule]:
    data = tomllib.loads((Path(__file__).parent / "data" / "earning.toml").read_text())
    return {
        name: Rule(
            name,
            int(spec.get("points", 0)),
            spec.get("daily_cap"),
            tuple(int(p) for p in spec.get("places", ())),
        )
        for name, spec in data["rules"].items()
    }


def local_day(moment: datetime, zone: tzinfo) -> str:
    return moment.astimezone(zone).date().isoformat()


def may_earn_user(user: User, now: datetime) -> bool:
    """Whether this user may earn or spend points now: a person (not the AI), an account
    not deleted, and in good standing (sanctions.may_earn_rewards). The one rule that
    earning, the shop and achievements all ask."""
    return not user.is_ai and user.deleted_at is None and sanctions.may_earn_rewards(user, now)


async def may_earn(session: AsyncSession, user_id: int, now: datetime) -> bool:
    user = await session.get(User, user_id)
    return user is not None and may_earn_user(user, now)


async def grant_game(
    session: AsyncSession, match_id: int, results: dict[int, str], at: float, zone: tzinfo
) -> dict[int, int]:
    """Points for a rated game that was just settled (`results`: user → "won", "lost",
    "draw"; `at`: when it finished, which decides the day of the daily caps). In the
    caller's transaction. Returns the points each player earned (0 for none)."""
    moment = datetime.fromtimestamp(at, UTC)
    day = local_day(moment, zone)
    gen = await points.generation(session, match_id)
    table = rules()
    earned: dict[int, int] = {}
    for user_id, result in sorted(results.items()):
        earned[user_id] = 0
        if result not in ("won", "draw") or not await may_earn(session, user_id, moment):
            continue
        names = [WIN, FIRST_WIN] if result == "won" else [DRAW]
        for name in names:
            rule = table[name]
            posted = await points.earn(
                session, user_id, key=f"game:{match_id}:{user_id}:{name}:{gen}", reason=name,
                points=rule.points, day=day, cap=rule.daily_cap, match_id=match_id,
                params={"match": match_id}, now=moment,
            )  # fmt: skip
            if posted is not None:
                earned[user_id] += gained(posted.transaction)
    return earned


def gained(txn: PointTransaction) -> int:
    """The points an earning transaction gave (its spendable part and the debt it paid)."""
    value = (txn.params or {}).get("points", 0)
    return int(value) if isinstance(value, int | str) else 0


async def void_game(
    session: AsyncSession, match_id: int, *, by: str = "", now: datetime | None = None
) -> int:
    """Take back every point a voided game gave (compensating transactions, once each).
    Returns how many grants were reversed."""
    return len(await points.reverse_match(session, match_id, by=by, now=now))


async def grant(
    session: AsyncSession,
    user_id: int,
    *,
    key: str,
    reason: str,
    amount: int,
    params: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> points.Posted | None:
    """Points for an achievement or a season's end (no daily cap), once per `key`, to a
    user in good standing (None otherwise, or when nothing is due)."""
    moment = now or datetime.now(UTC)
    if amount <= 0 or not await may_earn(session, user_id, moment):
        return None
    return await points.earn(
        session, user_id, key=key, reason=reason, points=amount, params=params, now=moment
    )
