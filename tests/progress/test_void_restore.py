"""A game's rating change voided and restored (progress.void_game, restore_game), on
SQLite and PostgreSQL: always by the original game's change (mu, sigma, one game), exact
(==) when nothing happened in between, and games played in between keep theirs."""

from __future__ import annotations

from sqlalchemy import select

from codebattle.db.session import Database
from codebattle.problems.models import ProblemVersion
from codebattle.progress import service as progress
from codebattle.progress.models import PlayerRating, RatingChange
from codebattle.progress.ratings import Rating
from tests.support.factories import make_match

T0 = 1_700_000_000.0
State = dict[int, tuple[float, float, int, int]]  # mu, sigma, display, games


async def _game(db: Database, version: ProblemVersion, winner: int, loser: int, at: float) -> int:
    async with db.session() as session:
        match_id = (await make_match(session, version, [winner, loser], now=at)).id
        await progress.rate_game(session, match_id, {winner: 1, loser: 2},
                                 {winner: "won", loser: "lost"}, at)  # fmt: skip
        await session.commit()
        return match_id


async def _void(db: Database, match_id: int, *, undo: bool = True) -> None:
    async with db.session() as session:
        if undo:
            await progress.void_game(session, match_id, T0)
        else:
            await progress.restore_game(session, match_id, T0)
        await session.commit()


async def _state(db: Database, *users: int) -> State:
    async with db.reading() as session:
        rows = await session.scalars(select(PlayerRating).where(PlayerRating.user_id.in_(users)))
        return {r.user_id: (r.mu, r.sigma, r.display, r.games) for r in rows}


async def _delta(db: Database, match_id: int, user_id: int) -> tuple[float, float]:
    """The game's own change (mu, sigma): its row minus the player's previous row."""
    async with db.reading() as session:
        rows = list(
            await session.scalars(
                select(RatingChange).where(RatingChange.user_id == user_id)
                .order_by(RatingChange.id)
            )
        )  # fmt: skip
    at = next(i for i, r in enumerate(rows) if r.match_id == match_id and r.reason != "voided")
    before = Rating() if at == 0 else Rating(rows[at - 1].mu, rows[at - 1].sigma)
    return rows[at].mu - before.mu, rows[at].sigma - before.sigma


def _plus(state: State, deltas: dict[int, tuple[float, float]], sign: float = 1.0) -> State:
    """`state` moved by each player's game change, as the service computes it."""
    moved = {}
    for user, (mu, sigma, _display, games) in state.items():
        d_mu, d_sigma = deltas[user]
        new = Rating(mu + sign * d_mu, sigma + sign * d_sigma)
        moved[user] = (new.mu, new.sigma, new.display, games + (1 if sign > 0 else -1))
    return moved


async def test_void_then_restore_with_nothing_between_is_exact(
    db: Database, version: ProblemVersion, players: tuple[int, int]
) -> None:
    ann, bob = players
    await _game(db, version, ann, bob, T0)
    before = await _state(db, ann, bob)
    match_id = await _game(db, version, bob, ann, T0 + 600)
    after = await _state(db, ann, bob)
    for _ in range(3):  # void, restore, void, restore, ...: exact every time
        await _void(db, match_id)
        assert await _state(db, ann, bob) == before
        await _void(db, match_id, undo=False)
        assert await _state(db, ann, bob) == after


async def test_restore_after_a_later_game_adds_the_change_to_the_current_rating(
    db: Database, version: ProblemVersion, players: tuple[int, int]
) -> None:
    ann, bob = players
    first = await _game(db, version, ann, bob, T0)
    deltas = {u: await _delta(db, first, u) for u in players}
    await _void(db, first)
    await _game(db, version, bob, ann, T0 + 600)  # played while the first stood voided
    current = await _state(db, ann, bob)
    await _void(db, first, undo=False)
    assert await _state(db, ann, bob) == _plus(current, deltas)


async def test_a_later_game_before_the_void_survives_its_restore(
    db: Database, version: ProblemVersion, players: tuple[int, int]
) -> None:
    ann, bob = players
    first = await _game(db, version, ann, bob, T0)
    deltas = {u: await _delta(db, first, u) for u in players}
    await _game(db, version, bob, ann, T0 + 600)
    current = await _state(db, ann, bob)
    await _void(db, first)
    voided = await _state(db, ann, bob)
    assert voided == _plus(current, deltas, -1.0)
    await _void(db, first, undo=False)  # nothing since the void: exactly back
    assert await _state(db, ann, bob) == current


async def test_a_chain_with_games_between_stays_consistent(
    db: Database, version: ProblemVersion, players: tuple[int, int]
) -> None:
    ann, bob = players
    first = await _game(db, version, ann, bob, T0)
    deltas = {u: await _delta(db, first, u) for u in players}
    await _void(db, first)
    await _game(db, version, bob, ann, T0 + 600)
    second = await _state(db, ann, bob)
    await _void(db, first, undo=False)
    restored = await _state(db, ann, bob)
    assert restored == _plus(second, deltas)
    await _void(db, first)  # nothing since the restore: exactly where it found them
    assert await _state(db, ann, bob) == second
    await _game(db, version, ann, bob, T0 + 1200)
    third = await _state(db, ann, bob)
    await _void(db, first, undo=False)
    assert await _state(db, ann, bob) == _plus(third, deltas)
    await _void(db, first)
    assert await _state(db, ann, bob) == third
    async with db.reading() as session:
        reasons = list(
            await session.scalars(
                select(RatingChange.reason).where(
                    RatingChange.match_id == first, RatingChange.user_id == ann
                ).order_by(RatingChange.id)
            )
        )  # fmt: skip
    assert reasons == ["won", "voided", "restored", "voided", "restored", "voided"]
