"""Rating farming, on SQLite and PostgreSQL: throwaway accounts that queue and give up gain
their farmer nothing (docs/ratings.md). Games that end in the countdown are cancelled and
unrated; a provisional opponent moves a rating by half; repeated games between the same two
players within a day move ratings by 1/k."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from codebattle.battles import service as battles
from codebattle.db.session import Database
from codebattle.problems.models import ProblemVersion
from codebattle.progress import service as progress
from codebattle.progress.models import RatingChange
from codebattle.progress.ratings import PROVISIONAL_GAMES, Rating, rate
from tests.support.factories import make_match, make_user

DAY = 24 * 3600.0
T0 = 1_700_000_000.0  # game times: real epoch seconds, a day apart where it matters


async def user(db: Database, name: str, *, rated_games: int = 0) -> int:
    """A player; with `rated_games`, an established one (a rating of 1000 or so)."""
    async with db.session() as session:
        account = await make_user(session, name, rated_games=rated_games)
        await session.commit()
        return account.id


async def play(
    db: Database, version: ProblemVersion, winner: int, loser: int, at: float, *,
    give_up_in_countdown: bool = False,
) -> list[str]:  # fmt: skip
    """A ranked game paired at `at`; the loser gives up (in the countdown, or once it runs).
    Returns the logged events of the ending."""
    async with db.session() as session:
        row = await make_match(session, version, [winner, loser], now=at)
        await session.commit()
    give_up = {"type": "give_up", "user": loser}
    async with db.session() as session:
        if give_up_in_countdown:
            entries = await battles.apply(session, row.id, give_up, at + 1)
        else:
            await battles.apply(session, row.id, None, at + 5)  # started
            entries = await battles.apply(session, row.id, give_up, at + 6)
        # Fair play found nothing: the game is rated (battles.settle_rating).
        entries += await battles.settle_rating(session, row.id, hold=False, now=at + 7)
    return [e.type for e in entries]


async def changes(db: Database, user_id: int) -> list[RatingChange]:
    async with db.reading() as session:
        return list(reversed(await progress.history(session, user_id)))


async def test_the_give_up_in_countdown_loop_gains_no_rating(
    db: Database, version: ProblemVersion
) -> None:
    farmer = await user(db, "farmer")
    for n in range(6):  # the reported loop: 1000 -> 1138 -> 1256 -> ...
        throwaway = await user(db, f"throwaway{n}")
        ending = await play(db, version, farmer, throwaway, T0 + n * 60,
                            give_up_in_countdown=True)  # fmt: skip
        assert ending == ["gave_up", "cancelled"]  # no winner, no `rated`
    async with db.reading() as session:
        assert (await progress.standings(session, [farmer]))[farmer].display == Rating().display
        assert await session.scalar(select(func.count()).select_from(RatingChange)) == 0


async def test_a_provisional_opponent_moves_a_rating_by_half(
    db: Database, version: ProblemVersion
) -> None:
    veteran = await user(db, "veteran", rated_games=PROVISIONAL_GAMES)
    rookie = await user(db, "rookie")
    async with db.reading() as session:
        shown = await progress.standings(session, [veteran, rookie])
    assert not shown[veteran].provisional and shown[rookie].provisional
    assert await play(db, version, veteran, rookie, T0) == [
        "gave_up", "finished", "rated",
    ]  # fmt: skip
    async with db.reading() as session:  # what clients see of the two (after the game)
        [listed] = await battles.matches_json(
            session, await battles.recent_matches(session, user_id=rookie), "en"
        )
    assert [p["provisional"] for p in listed["players"]] == [False, True]
    (won,) = await changes(db, veteran)
    (lost,) = await changes(db, rookie)
    full, _ = rate([Rating(25.0, 6.0), Rating()], [1, 2], ["won", "lost"])
    assert won.mu == pytest.approx(full.weighted(0.5).after.mu)  # half: the rookie is new
    assert 0 < won.after - won.before < full.delta
    assert lost.mu < Rating().mu  # the rookie's own change is not reduced
    async with db.reading() as session:
        rated = await battles.events_since(session, won.match_id, 0)
    by_user = {c["user"]: c for c in rated[-1].data["changes"]}
    assert by_user[veteran]["weight"] == 0.5 and by_user[veteran]["opponent_provisional"]
    assert by_user[rookie]["weight"] == 1.0 and by_user[rookie]["provisional"]
    # Five finished rated games end the provisional period.
    for n in range(PROVISIONAL_GAMES - 1):
        await play(db, version, veteran, rookie, T0 + (n + 1) * 2 * DAY)
    async with db.reading() as session:
        assert not (await progress.standings(session, [rookie]))[rookie].provisional


async def test_repeated_games_between_two_players_count_less_each_time(
    db: Database, version: ProblemVersion
) -> None:
    one = await user(db, "one", rated_games=10)
    two = await user(db, "two", rated_games=10)
    for n in range(3):  # within a day: 1, 1/2, 1/3 of the change
        await play(db, version, one, two, T0 + n * 600)
    await play(db, version, one, two, T0 + DAY + 1200)  # a day after the second: 1/2 again
    async with db.reading() as session:
        logs = [
            (await battles.events_since(session, c.match_id, 0))[-1].data["changes"]
            for c in await changes(db, one)
        ]
    weights = [next(c["weight"] for c in log if c["user"] == one) for log in logs]
    repeats = [next(c["repeat"] for c in log if c["user"] == one) for log in logs]
    assert repeats == [1, 2, 3, 2] and weights == [1.0, 0.5, 0.3333, 0.5]
    gains = [c.after - c.before for c in await changes(db, one)]
    assert gains[0] > gains[1] > gains[2] > 0
