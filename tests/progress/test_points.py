"""The points ledger (progress/points.py) on SQLite and PostgreSQL, tested like a bank's:
balanced transactions once per key; balances the sum of their entries; a balance never
below zero and no point spent twice however many spend at once; daily caps that hold under
concurrency; reversals that turn spent points into a debt paid by later earnings; the
history append-only in the database itself."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from codebattle.db.session import Database
from codebattle.errors import UserError
from codebattle.progress import points
from codebattle.progress.models import PointAccount, PointEntry, PointTransaction
from tests.support.factories import make_user

NOW = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)


async def _user(db: Database, name: str) -> int:
    async with db.session() as session:
        user = await make_user(session, name)
        await session.commit()
        return user.id


async def _earn(db: Database, user_id: int, amount: int, key: str) -> points.Posted | None:
    async with db.session() as session:
        posted = await points.earn(session, user_id, key=key, reason="win", points=amount)
        await session.commit()
        return posted


async def _spend(db: Database, user_id: int, amount: int, key: str) -> bool:
    """One purchase in its own session, as a request would make it: True when it passed."""
    async with db.session() as session:
        try:
            await points.spend(session, user_id, key=key, reason="shop", points=amount,
                               to=points.SHOP)  # fmt: skip
        except UserError as refused:
            assert refused.key == "points_insufficient"
            await session.rollback()
            return False
        await session.commit()
        return True


async def _reverse(db: Database, transaction_id: int) -> bool:
    """Reverse a transaction in its own session, as a void would."""
    async with db.session() as session:
        txn = await session.get(PointTransaction, transaction_id)
        assert txn is not None
        await points.reverse(session, txn)
        await session.commit()
        return True


async def _balance(db: Database, user_id: int) -> tuple[int, int]:
    async with db.reading() as session:
        return await points.balance(session, user_id), await points.debt(session, user_id)


async def _verify(db: Database) -> list[str]:
    async with db.session() as session:
        return points.describe(await points.verify(session))


async def test_a_transaction_is_balanced_and_posted_once_per_key(db: Database) -> None:
    ann = await _user(db, "ann")
    first = await _earn(db, ann, 50, "game:1:ann")
    again = await _earn(db, ann, 50, "game:1:ann")
    assert first is not None and first.created
    assert again is not None and not again.created
    assert again.transaction.id == first.transaction.id
    assert await _balance(db, ann) == (50, 0)
    async with db.reading() as session:
        entries = (
            await session.scalars(
                select(PointEntry.amount).where(PointEntry.transaction_id == first.transaction.id)
            )
        ).all()
        assert sorted(entries) == [-50, 50]
    assert await _verify(db) == []


async def test_unbalanced_or_empty_transactions_are_refused(db: Database) -> None:
    ann = await _user(db, "ann")
    async with db.session() as session:
        with pytest.raises(ValueError, match="unbalanced"):
            legs = [(points.user_account(ann), 5), (points.EARNINGS, -4)]
            await points.post(session, key="k1", reason="x", legs=legs)
        with pytest.raises(ValueError, match="empty"):
            await points.post(session, key="k2", reason="x", legs=[(points.EARNINGS, 0)])
        with pytest.raises(ValueError, match="account"):
            await points.post(session, key="k3", reason="x", legs=[("bank:1", 5), ("x", -5)])
        assert await session.scalar(select(func.count()).select_from(PointTransaction)) == 0


async def test_spending_more_than_the_balance_writes_nothing(db: Database) -> None:
    ann = await _user(db, "ann")
    await _earn(db, ann, 30, "seed")
    assert not await _spend(db, ann, 31, "shop:too-much")
    assert await _balance(db, ann) == (30, 0)
    async with db.reading() as session:
        assert await points.find(session, "shop:too-much") is None
    assert await _spend(db, ann, 30, "shop:all")
    assert await _balance(db, ann) == (0, 0)
    assert await _verify(db) == []


async def test_the_database_refuses_a_negative_user_balance(db: Database) -> None:
    ann = await _user(db, "ann")
    await _earn(db, ann, 10, "seed")
    async with db.session() as session:
        with pytest.raises(IntegrityError):
            await session.execute(
                update(PointAccount)
                .where(PointAccount.code == points.user_account(ann))
                .values(balance=-1)
            )


@pytest.mark.parametrize("table", ["point_entries", "point_transactions"])
async def test_the_ledger_is_append_only(db: Database, table: str) -> None:
    ann = await _user(db, "ann")
    await _earn(db, ann, 10, "seed")
    for statement in (f"UPDATE {table} SET id = id", f"DELETE FROM {table}"):
        async with db.session() as session:
            with pytest.raises(DBAPIError, match="append-only"):
                await session.execute(text(statement))
    assert await _balance(db, ann) == (10, 0)


async def test_many_concurrent_purchases_never_overdraw(db: Database) -> None:
    """A balance of 100 and 24 purchases of 30 at once (in separate sessions): exactly three
    pass, the balance ends at 10, no point is spent twice."""
    ann = await _user(db, "ann")
    await _earn(db, ann, 100, "seed")
    passed = await asyncio.gather(*(_spend(db, ann, 30, f"shop:{n}") for n in range(24)))
    assert sum(passed) == 3
    assert await _balance(db, ann) == (10, 0)
    async with db.reading() as session:
        spent = await session.scalar(
            select(func.count()).select_from(PointTransaction)
            .where(PointTransaction.reason == "shop")
        )  # fmt: skip
        assert spent == 3
    assert await _verify(db) == []


async def test_the_same_purchase_sent_many_times_at_once_pays_once(db: Database) -> None:
    ann = await _user(db, "ann")
    await _earn(db, ann, 100, "seed")
    passed = await asyncio.gather(*(_spend(db, ann, 40, "shop:ann:hat") for _ in range(10)))
    assert all(passed)  # each sees the one purchase, as a retried request should
    assert await _balance(db, ann) == (60, 0)
    assert await _verify(db) == []


async def test_concurrent_earnings_never_pass_the_daily_cap(db: Database) -> None:
    ann = await _user(db, "ann")

    async def win(n: int) -> int:
        async with db.session() as session:
            posted = await points.earn(session, ann, key=f"game:{n}", reason="win", points=50,
                                       day="2026-12-07", cap=120)  # fmt: skip
            await session.commit()
            return 0 if posted is None else int(posted.transaction.params["points"])

    earned = await asyncio.gather(*(win(n) for n in range(8)))
    assert sum(earned) == 120  # 50 + 50 + 20, then nothing
    assert sorted(earned, reverse=True)[:3] == [50, 50, 20]
    assert await _balance(db, ann) == (120, 0)
    async with db.session() as session:  # the next day has its own cap
        posted = await points.earn(session, ann, key="game:next-day", reason="win", points=50,
                                   day="2026-12-08", cap=120)  # fmt: skip
        await session.commit()
        assert posted is not None
    assert await _verify(db) == []


async def test_a_reversal_takes_what_is_left_and_records_the_rest_as_a_debt(
    db: Database,
) -> None:
    ann = await _user(db, "ann")
    grant = await _earn(db, ann, 50, "game:7:ann")
    assert grant is not None
    assert await _spend(db, ann, 40, "shop:ann:hat")
    async with db.session() as session:
        first = await points.reverse(session, grant.transaction)
        second = await points.reverse(session, grant.transaction)
        await session.commit()
    assert first.created and not second.created
    assert await _balance(db, ann) == (0, 40)  # 10 taken back, 40 owed
    await _earn(db, ann, 30, "game:8:ann")  # pays the debt first
    assert await _balance(db, ann) == (0, 10)
    await _earn(db, ann, 25, "game:9:ann")
    assert await _balance(db, ann) == (15, 0)
    async with db.reading() as session:
        lines = await points.history(session, ann)
    assert [(line.reason, line.amount, line.owed) for line in lines] == [
        ("win", 15, -10),
        ("win", 0, -30),
        ("reversal", -10, 40),
        ("shop", -40, 0),
        ("win", 50, 0),
    ]
    assert await _verify(db) == []


async def test_concurrent_reversals_of_one_grant_reverse_it_once(db: Database) -> None:
    ann = await _user(db, "ann")
    grant = await _earn(db, ann, 50, "game:7:ann")
    assert grant is not None

    await asyncio.gather(*(_reverse(db, grant.transaction.id) for _ in range(6)))
    assert await _balance(db, ann) == (0, 0)
    async with db.reading() as session:
        count = await session.scalar(
            select(func.count()).select_from(PointTransaction)
            .where(PointTransaction.reverses_id == grant.transaction.id)
        )  # fmt: skip
        assert count == 1
    assert await _verify(db) == []


async def test_verify_finds_and_fixes_a_wrong_cached_balance(db: Database) -> None:
    ann = await _user(db, "ann")
    await _earn(db, ann, 50, "seed")
    async with db.session() as session:
        await session.execute(
            update(PointAccount)
            .where(PointAccount.code == points.user_account(ann))
            .values(balance=70)
        )
        await session.commit()
    assert await _verify(db) == [f"balance: user:{ann}: cached 70, entries 50"]
    async with db.session() as session:
        await points.verify(session, fix=True)
    assert await _verify(db) == []
    assert await _balance(db, ann) == (50, 0)


async def test_one_grant_sent_many_times_at_once_takes_the_daily_cap_once(db: Database) -> None:
    ann = await _user(db, "ann")

    async def grant(key: str) -> None:
        async with db.session() as session:
            await points.earn(session, ann, key=key, reason="room_podium", points=50,
                              day="2026-12-07", cap=120)  # fmt: skip
            await session.commit()

    await asyncio.gather(*(grant("room:1:ann") for _ in range(6)))
    await grant("room:2:ann")  # the cap still has 70 left: all 50 of it
    await grant("room:3:ann")  # then 20
    assert await _balance(db, ann) == (120, 0)
    assert await _verify(db) == []


async def test_a_reversal_racing_purchases_never_fails_and_never_overdraws(
    db: Database,
) -> None:
    """The balance a reversal takes from is read under a lock: purchases racing it wait
    (or it waits for them), and whatever they left is taken, the rest owed."""
    ann = await _user(db, "ann")
    grant = await _earn(db, ann, 100, "game:1:ann")
    assert grant is not None

    results = await asyncio.gather(
        _reverse(db, grant.transaction.id), *(_spend(db, ann, 30, f"shop:{n}") for n in range(5))
    )
    bought = sum(1 for passed in results[1:] if passed)
    balance, debt = await _balance(db, ann)
    assert balance == 0 and debt == 30 * bought  # the grant is gone whatever was bought
    assert await _verify(db) == []
