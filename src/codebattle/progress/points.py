"""The points ledger: double-entry, append-only, idempotent (docs/progress.md).

Every movement is one transaction of balanced entries (they sum to zero) with a reason and
an idempotency key: posting the same key again returns the first transaction and moves
nothing. Balances are the sum of an account's entries; a user's (spendable and owed) are
cached on the account and kept in step by the same statement that adds the entry
(`verify` recomputes them). The system's accounts are not cached: every transaction
touches one, and a cached row would make them all wait for each other.

A user's spendable account never goes below zero: each user leg is applied by one conditional
UPDATE (`balance + amount >= 0`), checked by the database too, so two purchases racing
for the same points cannot both pass: the second waits for the first's row lock
(PostgreSQL) or the write lock (SQLite) and then finds too little. A transaction that
would overdraw is rolled back whole (a savepoint), nothing of it written.

Taking back points the user has already spent (a voided game) cannot overdraw either: what
the account holds is taken, the rest becomes a debt in the user's "owed" account, and the
next earnings pay the debt before anything reaches the spendable account.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from codebattle.errors import UserError
from codebattle.progress.models import PointAccount, PointDaily, PointEntry, PointTransaction

USER, OWED, SYSTEM = "user", "owed", "system"
# The system's accounts: where earned points come from, where spent ones go.
EARNINGS, SHOP, GIFTCARDS = "system:earnings", "system:shop", "system:giftcards"
REVERSAL = "reversal"
KEY_MAX = 200


def user_account(user_id: int) -> str:
    return f"user:{user_id}"


def owed_account(user_id: int) -> str:
    return f"owed:{user_id}"


# ---- Posting ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Posted:
    """A transaction and whether this call wrote it (False: the key was posted before)."""

    transaction: PointTransaction
    created: bool


class Overdrawn(Exception):
    """A leg would take a user's balance below zero (raised inside the savepoint)."""


def _kind(code: str) -> tuple[str, int | None]:
    kind, _, rest = code.partition(":")
    if kind in (USER, OWED):
        return kind, int(rest)
    if kind == SYSTEM and rest:
        return SYSTEM, None
    raise ValueError(f"not an account: {code!r}")


async def _account(session: AsyncSession, code: str) -> PointAccount:
    found = await session.scalar(select(PointAccount).where(PointAccount.code == code))
    if found is not None:
        return found
    kind, user_id = _kind(code)
    try:
        async with session.begin_nested():
            row = PointAccount(code=code, kind=kind, user_id=user_id, balance=0)
            session.add(row)
        return row
    except IntegrityError:  # made at the same moment by another transaction
        made = await session.scalar(select(PointAccount).where(PointAccount.code == code))
        assert made is not None
        return made


async def _apply(session: AsyncSession, account: PointAccount, amount: int) -> None:
    """Move one account's cached balance by `amount`, refusing to take a user's spendable
    balance below zero or an owed one above zero (one conditional UPDATE). A system
    account's balance is not cached (its row would be a lock every transaction waits for):
    it is the sum of its entries (`verify` adds them up)."""
    if account.kind == SYSTEM:
        return
    guard = PointAccount.balance + amount
    condition = [PointAccount.id == account.id]
    if account.kind == USER:
        condition.append(guard >= 0)
    elif account.kind == OWED:
        condition.append(guard <= 0)
    result = await session.execute(
        update(PointAccount)
        .where(*condition)
        .values(balance=PointAccount.balance + amount)
        .execution_options(synchronize_session=False)
    )
    if not getattr(result, "rowcount", 0):
        raise Overdrawn(account.code)
    await session.refresh(account, ["balance"])


async def find(session: AsyncSession, key: str) -> PointTransaction | None:
    return await session.scalar(select(PointTransaction).where(PointTransaction.key == key))


async def post(
    session: AsyncSession,
    *,
    key: str,
    reason: str,
    legs: Sequence[tuple[str, int]],
    user_id: int | None = None,
    match_id: int | None = None,
    reverses_id: int | None = None,
    params: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> Posted:
    """Post one balanced transaction once per `key`, in the caller's transaction (not
    committed). Legs on the same account are merged; legs of zero are dropped. Raises
    UserError 409 "points_insufficient" when a user's balance would go below zero, having
    written nothing of this transaction."""
    if not key or len(key) > KEY_MAX:
        raise ValueError("an idempotency key of 1 to 200 characters")
    merged: dict[str, int] = {}
    for code, amount in legs:
        merged[code] = merged.get(code, 0) + int(amount)
    merged = {code: amount for code, amount in merged.items() if amount}
    if sum(merged.values()) != 0:
        raise ValueError(f"unbalanced transaction {key!r}: {merged}")
    if not merged:
        raise ValueError(f"an empty transaction {key!r}")
    existing = await find(session, key)
    if existing is not None:
        return Posted(existing, False)
    try:
        async with session.begin_nested():
            row = PointTransaction(
                key=key,
                reason=reason,
                user_id=user_id,
                match_id=match_id,
                reverses_id=reverses_id,
                params=params or {},
            )
            if now is not None:
                row.created_at = now
            session.add(row)
            await session.flush()
            # Accounts in a fixed order: two transactions touching the same two accounts
            # lock them in the same order (no deadlock on PostgreSQL).
            for code in sorted(merged):
                account = await _account(session, code)
                await _apply(session, account, merged[code])
                session.add(PointEntry(transaction_id=row.id, account_id=account.id,
                                       amount=merged[code]))  # fmt: skip
            await session.flush()
    except Overdrawn:
        raise UserError(409, "points_insufficient") from None
    except IntegrityError:
        # The same key (or the same reversal) posted at this moment by another transaction.
        again = await find(session, key)
        if again is None and reverses_id is not None:
            again = await session.scalar(
                select(PointTransaction).where(PointTransaction.reverses_id == reverses_id)
            )
        if again is None:
            raise
        return Posted(again, False)
    return Posted(row, True)


# ---- Earning -----------------------------------------------------------------------------


async def _take_daily(
    session: AsyncSession, user_id: int, day: str, rule: str, amount: int, cap: int
) -> int:
    """Take up to `amount` of the day's `cap` for this rule: what may still be earned.
    The day's row is locked (made first when missing), so racing grants never pass the
    cap together."""
    if await session.get(PointDaily, (user_id, day, rule)) is None:
        try:
            async with session.begin_nested():
                session.add(PointDaily(user_id=user_id, day=day, rule=rule, amount=0))
        except IntegrityError:
            pass  # made at this moment by another grant
    row = await session.scalar(
        select(PointDaily)
        .where(PointDaily.user_id == user_id, PointDaily.day == day, PointDaily.rule == rule)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert row is not None
    left = max(0, min(amount, cap - row.amount))
    if left:
        row.amount += left
        await session.flush()
    return left


async def earn(
    session: AsyncSession,
    user_id: int,
    *,
    key: str,
    reason: str,
    points: int,
    day: str | None = None,
    cap: int | None = None,
    match_id: int | None = None,
    params: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> Posted | None:
    """Give a user `points` from the system's earnings, once per `key`, in the caller's
    transaction. With a `cap`, at most `cap` points of this `reason` on `day` (the local
    date, "2026-12-07"): the grant is cut to what is left (None when nothing is). A debt
    (the user's "owed" account) is paid first. None when nothing was granted."""
    existing = await find(session, key)
    if existing is not None:
        return Posted(existing, False)
    if points <= 0:
        return None
    try:
        async with session.begin_nested():
            if cap is not None:
                if day is None:
                    raise ValueError("a daily cap needs the day")
                points = await _take_daily(session, user_id, day, reason, points, cap)
                if not points:
                    return None
            await _lock(session, [owed_account(user_id), user_account(user_id)])
            owed = await _balance(session, owed_account(user_id))
            repay = min(points, -owed)
            legs = [(EARNINGS, -points), (user_account(user_id), points - repay)]
            if repay:
                legs.append((owed_account(user_id), repay))
            posted = await post(
                session, key=key, reason=reason, legs=legs, user_id=user_id,
                match_id=match_id, params={**(params or {}), "points": points,
                                           **({"day": day} if cap is not None else {})},
                now=now,
            )  # fmt: skip
            if not posted.created:
                # Another grant of this key won while we waited for the day's row: undo
                # our share of the cap (the savepoint) and answer with theirs.
                raise _PostedBefore(posted)
            return posted
    except _PostedBefore as before:
        return before.posted


class _PostedBefore(Exception):
    def __init__(self, posted: Posted) -> None:
        super().__init__(posted.transaction.key)
        self.posted = posted


async def _lock(session: AsyncSession, codes: list[str]) -> None:
    """Lock these accounts' rows (those that exist), in code order as `post` does, before
    reading balances to decide amounts: a concurrent spend or earn waits instead of
    making the guarded UPDATE fail. (SQLite: the write lock is held already.)"""
    await session.execute(
        select(PointAccount.id)
        .where(PointAccount.code.in_(sorted(codes)), PointAccount.kind != SYSTEM)
        .order_by(PointAccount.code)
        .with_for_update()
    )


async def spend(
    session: AsyncSession,
    user_id: int,
    *,
    key: str,
    reason: str,
    points: int,
    to: str,
    params: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> Posted:
    """Move `points` from the user's balance to a system account (`SHOP`, `GIFTCARDS`),
    once per `key`. UserError 409 "points_insufficient" when the balance is short."""
    if points <= 0:
        raise ValueError("spend a positive number of points")
    return await post(
        session, key=key, reason=reason, legs=[(user_account(user_id), -points), (to, points)],
        user_id=user_id, params=params, now=now,
    )  # fmt: skip


async def reverse(
    session: AsyncSession,
    transaction: PointTransaction,
    *,
    reason: str = REVERSAL,
    params: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> Posted:
    """The compensating transaction of `transaction`: every entry negated, once (the key
    and the unique `reverses_id`). What a user's spendable account cannot give back (the
    points were spent) is recorded as a debt in their owed account instead."""
    key = f"reverse:{transaction.id}"
    existing = await find(session, key)
    if existing is not None:
        return Posted(existing, False)
    entries = await session.execute(
        select(PointAccount.code, PointEntry.amount)
        .join(PointAccount, PointAccount.id == PointEntry.account_id)
        .where(PointEntry.transaction_id == transaction.id)
    )
    rows = entries.all()
    await _lock(session, [c for code, _ in rows for c in _with_owed(code)])
    legs: list[tuple[str, int]] = []
    for code, amount in rows:
        back = -int(amount)
        kind, user_id = _kind(code)
        if kind == USER and back < 0 and user_id is not None:
            have = await _balance(session, code)
            taken = min(have, -back)
            legs.append((code, -taken))
            legs.append((owed_account(user_id), back + taken))  # the rest, owed
        else:
            legs.append((code, back))
    posted = await post(
        session, key=key, reason=reason, legs=legs, user_id=transaction.user_id,
        match_id=transaction.match_id, reverses_id=transaction.id,
        params={"reverses": transaction.key, **(params or {})}, now=now,
    )  # fmt: skip
    if posted.created:
        await _give_back_daily(session, transaction)
    return posted


async def _give_back_daily(session: AsyncSession, transaction: PointTransaction) -> None:
    """A reversed capped grant no longer counts towards its day's cap (a game restored
    after a void earns what it earned before)."""
    given = transaction.params or {}
    day, amount = given.get("day"), given.get("points")
    if transaction.user_id is None or not isinstance(day, str) or not isinstance(amount, int):
        return
    await session.execute(
        update(PointDaily)
        .where(
            PointDaily.user_id == transaction.user_id,
            PointDaily.day == day,
            PointDaily.rule == transaction.reason,
        )
        .values(amount=case((PointDaily.amount > amount, PointDaily.amount - amount), else_=0))
        .execution_options(synchronize_session=False)
    )  # fmt: skip


def _with_owed(code: str) -> list[str]:
    """An account and, for a user's, their owed account (a reversal may move both)."""
    kind, user_id = _kind(code)
    return [code, owed_account(user_id)] if kind == USER and user_id is not None else [code]


async def standing_of_match(session: AsyncSession, match_id: int) -> list[PointTransaction]:
    """A game's grants that stand: posted for it, not a reversal, not reversed."""
    reversed_ids = select(PointTransaction.reverses_id).where(
        PointTransaction.reverses_id.is_not(None)
    )
    return list(
        await session.scalars(
            select(PointTransaction)
            .where(
                PointTransaction.match_id == match_id,
                PointTransaction.reverses_id.is_(None),
                PointTransaction.id.not_in(reversed_ids),
            )
            .order_by(PointTransaction.id)
        )
    )


async def reverse_match(
    session: AsyncSession, match_id: int, *, by: str = "", now: datetime | None = None
) -> list[Posted]:
    """Take back every point a game gave (a voided game), in the caller's transaction."""
    return [
        await reverse(session, txn, params={"by": by} if by else None, now=now)
        for txn in await standing_of_match(session, match_id)
    ]


async def generation(session: AsyncSession, match_id: int) -> int:
    """How many times a game's points were taken back: part of its grants' keys, so a
    game restored after a void earns again (once per restoration)."""
    count = await session.scalar(
        select(func.count())
        .select_from(PointTransaction)
        .where(PointTransaction.match_id == match_id, PointTransaction.reverses_id.is_not(None))
    )
    return int(count or 0)


# ---- Reading -----------------------------------------------------------------------------


async def _balance(session: AsyncSession, code: str) -> int:
    value = await session.scalar(select(PointAccount.balance).where(PointAccount.code == code))
    return int(value or 0)


async def balance(session: AsyncSession, user_id: int) -> int:
    """Points the user can spend."""
    return await _balance(session, user_account(user_id))


async def debt(session: AsyncSession, user_id: int) -> int:
    """Points the user owes (taken back after they were spent); earnings pay it first."""
    return -await _balance(session, owed_account(user_id))


@dataclass(frozen=True)
class Line:
    """One line of a user's points history: a transaction as it touched their accounts."""

    transaction_id: int
    at: datetime
    reason: str
    amount: int  # change of the spendable balance
    owed: int  # change of the debt (positive: more owed)
    params: dict[str, Any]
    match_id: int | None


async def history(
    session: AsyncSession, user_id: int, *, limit: int = 50, before: int | None = None
) -> list[Line]:
    """The user's transactions, newest first, `limit` of them before transaction `before`."""
    codes = (user_account(user_id), owed_account(user_id))
    query = (
        select(PointTransaction, PointAccount.code, PointEntry.amount)
        .join(PointEntry, PointEntry.transaction_id == PointTransaction.id)
        .join(PointAccount, PointAccount.id == PointEntry.account_id)
        .where(PointAccount.code.in_(codes))
        .order_by(PointTransaction.id.desc())
    )
    if before is not None:
        query = query.where(PointTransaction.id < before)
    lines: dict[int, Line] = {}
    for txn, code, amount in (await session.execute(query.limit(limit * 2))).all():
        line = lines.get(txn.id) or Line(txn.id, txn.created_at, txn.reason, 0, 0,
                                         dict(txn.params or {}), txn.match_id)  # fmt: skip
        if code.startswith(USER):
            line = Line(**{**line.__dict__, "amount": line.amount + int(amount)})
        else:
            line = Line(**{**line.__dict__, "owed": line.owed - int(amount)})
        lines[txn.id] = line
    return sorted(lines.values(), key=lambda x: -x.transaction_id)[:limit]


# ---- Checking ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    what: str  # "unbalanced", "balance", "negative"
    subject: str  # a transaction key or an account code
    detail: str


async def verify(session: AsyncSession, *, fix: bool = False) -> list[Problem]:
    """Recompute every account's balance from its entries and check every transaction
    sums to zero and no user balance is negative. With `fix`, a cached balance that
    differs is set to the sum (the entries are the truth); commits then."""
    problems: list[Problem] = []
    unbalanced = await session.execute(
        select(PointTransaction.key, func.sum(PointEntry.amount))
        .join(PointEntry, PointEntry.transaction_id == PointTransaction.id)
        .group_by(PointTransaction.id, PointTransaction.key)
        .having(func.sum(PointEntry.amount) != 0)
    )
    for key, total in unbalanced.all():
        problems.append(Problem("unbalanced", key, f"entries sum to {total}"))
    sums = dict(
        (
            await session.execute(
                select(PointEntry.account_id, func.sum(PointEntry.amount)).group_by(
                    PointEntry.account_id
                )
            )
        ).all()
    )
    for account in await session.scalars(select(PointAccount).order_by(PointAccount.id)):
        truth = int(sums.get(account.id) or 0)
        if account.kind != SYSTEM and account.balance != truth:
            problems.append(
                Problem("balance", account.code, f"cached {account.balance}, entries {truth}")
            )
            if fix:
                account.balance = truth
        if account.kind == USER and truth < 0:
            problems.append(Problem("negative", account.code, f"{truth}"))
    if fix:
        await session.commit()
    return problems


def describe(problems: Iterable[Problem]) -> list[str]:
    return [f"{p.what}: {p.subject}: {p.detail}" for p in problems]
