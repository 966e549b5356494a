"""Points earned by games (progress/earning.py through battles.service), on SQLite and
PostgreSQL: only a rated game that fair play settled earns, in the transaction that rates
it; the day's first win earns a bonus once; a held game earns nothing until released; a
suspended player earns nothing; a void takes the points back and its overturn gives them
again, once each however often it is repeated."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from codebattle.accounts.models import User
from codebattle.battles import service as battles
from codebattle.db.session import Database
from codebattle.problems.models import ProblemVersion
from codebattle.progress import earning, points
from tests.support.factories import make_match

T0 = datetime(2026, 12, 7, 3, 0, tzinfo=UTC).timestamp()  # 12:00 in Seoul
WIN, FIRST, DRAW = (earning.rules()[n].points for n in ("win", "first_win", "draw"))


async def _play(
    db: Database, version: ProblemVersion, winner: int, loser: int, at: float, *, hold: bool
) -> int:
    """A ranked game the loser gives up, then settled by fair play (rated, or held)."""
    async with db.session() as session:
        match_id = (await make_match(session, version, [winner, loser], now=at)).id
        await session.commit()
    async with db.session() as session:
        await battles.apply(session, match_id, None, at + 5)
        await battles.apply(session, match_id, {"type": "give_up", "user": loser}, at + 6)
        entries = await battles.settle_rating(session, match_id, hold=hold, now=at + 7)
    if not hold:
        assert entries[-1].data["points"][str(winner)] == points_of(entries[-1].data, winner)
    return match_id


def points_of(data: dict[str, object], user_id: int) -> int:
    earned = data.get("points")
    assert isinstance(earned, dict)
    return int(earned[str(user_id)])


async def _balance(db: Database, user_id: int) -> int:
    async with db.reading() as session:
        return await points.balance(session, user_id)


async def _verify(db: Database) -> None:
    async with db.session() as session:
        assert points.describe(await points.verify(session)) == []


async def test_a_settled_win_earns_the_win_and_the_days_first_win(
    db: Database, version: ProblemVersion, players: tuple[int, int]
) -> None:
    ann, bob = players
    await _play(db, version, ann, bob, T0, hold=False)
    assert await _balance(db, ann) == WIN + FIRST
    assert await _balance(db, bob) == 0  # a loss earns nothing
    await _play(db, version, ann, bob, T0 + 600, hold=False)
    assert await _balance(db, ann) == 2 * WIN + FIRST  # the bonus once a day
    # The next day in Seoul (00:00 KST is 15:00 UTC) has its own first win.
    next_day = datetime(2026, 12, 7, 15, 30, tzinfo=UTC).timestamp()
    await _play(db, version, ann, bob, next_day, hold=False)
    assert await _balance(db, ann) == 3 * WIN + 2 * FIRST
    await _verify(db)


async def test_a_held_game_earns_only_once_released(
    db: Database, version: ProblemVersion, players: tuple[int, int]
) -> None:
    ann, bob = players
    match_id = await _play(db, version, ann, bob, T0, hold=True)
    assert await _balance(db, ann) == 0
    async with db.session() as session:
        entries = await battles.release_rating(session, match_id, T0 + 60)
    assert points_of(entries[-1].data, ann) == WIN + FIRST
    assert await _balance(db, ann) == WIN + FIRST


async def test_a_suspended_player_earns_nothing(
    db: Database, version: ProblemVersion, players: tuple[int, int]
) -> None:
    ann, bob = players
    async with db.session() as session:
        user = await session.get(User, ann)
        assert user is not None
        user.suspended_until = datetime.fromtimestamp(T0, UTC) + timedelta(days=3)
        await session.commit()
    await _play(db, version, ann, bob, T0, hold=False)
    assert await _balance(db, ann) == 0


async def test_a_void_takes_the_points_back_and_its_overturn_gives_them_again(
    db: Database, version: ProblemVersion, players: tuple[int, int]
) -> None:
    ann, bob = players
    match_id = await _play(db, version, ann, bob, T0, hold=False)
    assert await _balance(db, ann) == WIN + FIRST
    for round_ in range(2):  # void, restore, void, restore: once each time
        async with db.session() as session:
            await battles.void(session, match_id, T0 + 100 + round_, by="flag:1")
        assert await _balance(db, ann) == 0
        async with db.session() as session:  # the same source again changes nothing
            assert await battles.void(session, match_id, T0 + 101, by="flag:1") == []
        assert await _balance(db, ann) == 0
        async with db.session() as session:
            entries = await battles.unvoid(session, match_id, T0 + 200 + round_, by="flag:1")
        assert entries[-1].data["points"] == {str(ann): WIN + FIRST, str(bob): 0}
        assert await _balance(db, ann) == WIN + FIRST
    await _verify(db)


async def test_a_void_after_the_points_were_spent_leaves_a_debt(
    db: Database, version: ProblemVersion, players: tuple[int, int]
) -> None:
    ann, bob = players
    match_id = await _play(db, version, ann, bob, T0, hold=False)
    async with db.session() as session:
        await points.spend(session, ann, key="shop:ann:hat", reason="shop", points=WIN,
                           to=points.SHOP)  # fmt: skip
        await session.commit()
    async with db.session() as session:
        await battles.void(session, match_id, T0 + 100, by="match:1")
    async with db.reading() as session:
        assert await points.balance(session, ann) == 0
        assert await points.debt(session, ann) == WIN
    await _verify(db)
