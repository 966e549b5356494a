"""Paid plans: checkout, confirmation, webhooks, renewal, cancellation and refunds.

The flow (docs/accounts.md, decision 0018): `start_checkout` writes a pending payment with
our price; the browser has the provider issue a billing key for the user; `complete_checkout`
checks that key is the user's, keeps it, charges it for the payment, and `confirm`s.
`confirm` asks the provider for the payment and only when it is PAID with our amount and
currency marks ours paid and applies the plan (`plans.change_plan`) in one transaction. The
mark is a conditional UPDATE (pending → paid), so a repeated confirm, a reload and a webhook
racing the redirect apply the plan exactly once. A webhook is believed for nothing but the
payment id: its signature is checked, then the payment is read again from the provider.

Renewal charges the stored billing key a day before a period ends, under a payment id made
of the user and the period's end, so running it twice (two instances, a retry) charges once.
Cancelling turns renewal off; the plan lasts until its end, then `plans.expire_plans` moves
the user to free. An operator's refund cancels the payment at the provider, marks it
refunded and, when it paid for the current period, puts the user back on free (audited).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

import structlog
from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from codebattle.accounts import audit, plans
from codebattle.accounts.models import BillingKey, Payment, User
from codebattle.db.session import Database
from codebattle.errors import UserError
from codebattle.integrations.portone import (
    PaymentProviderError,
    PortOne,
    WebhookRejected,
    verify_webhook,
)

log = structlog.get_logger(__name__)

CURRENCY = "KRW"
RENEW_AHEAD = timedelta(days=1)  # charge this long before a period ends
RETRY_PENDING_AFTER = timedelta(minutes=10)  # a renewal left pending this long is retried
RENEWALS_PER_RUN = 100


def price(plan: str, *, basic: int, pro: int) -> int:
    if plan == "basic":
        return basic
    if plan == "pro":
        return pro
    raise UserError(404, "plan_unknown", plan=plan, known="basic, pro")


def customer_id(user_id: int) -> str:
    """How a user is named to the provider (billing keys and payments carry it)."""
    return f"user-{user_id}"


def order_name(plan: str, days: int) -> str:
    return f"AI Code Battle {plan.capitalize()} ({days}d)"


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


# Checkout -------------------------------------------------------------------------------


async def start_checkout(
    session: AsyncSession, user: User, plan: str, *, basic: int, pro: int, now: datetime
) -> Payment:
    """A pending payment for one period of `plan` at our price. Refuses the plan the user
    is on and a lower one (a downgrade waits for the end of the paid period). Commits."""
    amount = price(plan, basic=basic, pro=pro)
    stored = await session.get(User, user.id)
    if stored is None:
        raise UserError(404, "user_unknown")
    current = plans.effective_plan(stored, now)
    if plans.PLANS.index(plan) <= plans.PLANS.index(current) and not resumable(stored, plan, now):
        key = "checkout_current_plan" if plan == current else "checkout_downgrade"
        raise UserError(409, key, plan=plan, current=current)
    payment = Payment(
        id="pay-" + secrets.token_urlsafe(18),
        user_id=user.id,
        plan=plan,
        amount=amount,
        currency=CURRENCY,
        kind="checkout",
        status="pending",
        created_at=now,
    )
    session.add(payment)
    await session.commit()
    return payment


def resumable(user: User, plan: str, now: datetime) -> bool:
    """Whether `user` may buy `plan` again although they are on it: renewal was cancelled
    and the plan still runs. The new period then follows the current one (change_plan
    extends a plan from its end) and renewal is on again."""
    return (
        plans.effective_plan(user, now) == plan
        and plan in plans.PAID_PLANS
        and not user.plan_auto_renew
        and user.plan_ends_at is not None
    )


def resumed_until(user: User, plan: str, period_days: int, now: datetime) -> datetime | None:
    """Where buying `plan` again takes a resumable plan (see `resumable`): the current end
    plus one period, charged at once (None when `plan` is not resumable for `user`)."""
    ends = _aware(user.plan_ends_at)
    if not resumable(user, plan, now) or ends is None:
        return None
    return ends + timedelta(days=period_days)


async def payments_export(session: AsyncSession, user_id: int) -> list[dict[str, object]]:
    """The user's payments for their data export, oldest first: what was bought, for how
    much, for which period, and what became of it. Never the billing key."""
    rows = await session.scalars(
        select(Payment).where(Payment.user_id == user_id).order_by(Payment.created_at, Payment.id)
    )
    return [
        {
            "id": p.id,
            "plan": p.plan,
            "amount": p.amount,
            "currency": p.currency,
            "kind": p.kind,
            "status": p.status,
            "failure": p.failure,
            "period_start": _iso(p.period_start),
            "period_end": _iso(p.period_end),
            "created_at": _iso(p.created_at),
            "paid_at": _iso(p.paid_at),
            "refunded_at": _iso(p.refunded_at),
        }
        for p in rows
    ]


def _iso(value: datetime | None) -> str | None:
    aware = _aware(value)
    return aware.isoformat() if aware is not None else None


@dataclass(frozen=True)
class Outcome:
    """What became of a payment: its status ("paid", "failed", "pending", "refunded"), the
    plan, and why it failed."""

    payment_id: str
    status: str
    plan: str
    failure: str | None = None
    applied: bool = False  # this call applied the plan (at most one call per payment does)


def _outcome(payment: Payment, applied: bool = False) -> Outcome:
    return Outcome(payment.id, payment.status, payment.plan, payment.failure, applied)


async def _payment(session: AsyncSession, payment_id: str) -> Payment | None:
    """The payment as stored now (not the session's cached copy), the transaction ended."""
    payment = await session.scalar(
        select(Payment).where(Payment.id == payment_id).execution_options(populate_existing=True)
    )
    await session.commit()  # no transaction (nor SQLite's write lock) held over a call out
    return payment


async def _fail(session: AsyncSession, payment_id: str, reason: str, now: datetime) -> bool:
    """pending → failed, with the reason; False when it was no longer pending."""
    result = await session.execute(
        update(Payment)
        .where(Payment.id == payment_id, Payment.status == "pending")
        .values(status="failed", failure=reason[:200])
        .execution_options(synchronize_session=False)
    )
    await session.commit()
    return getattr(result, "rowcount", 0) == 1


async def confirm(
    session: AsyncSession, client: PortOne, payment_id: str, *, period_days: int, now: datetime
) -> Outcome:
    """Settle a pending payment from the provider's record of it: PAID with our amount and
    currency → paid and the plan applied; a mismatch or a failure → failed (logged); not
    yet paid → still pending. Safe to call any number of times, concurrently."""
    payment = await _payment(session, payment_id)
    if payment is None:
        raise UserError(404, "payment_unknown")
    if payment.status != "pending":
        return _outcome(payment)
    try:
        remote = await client.get_payment(payment_id)
    except PaymentProviderError as exc:
        if exc.kind == "not_found":  # never charged (the window was closed)
            return _outcome(payment)
        raise UserError(502, "payment_provider_error", reason=exc.kind) from None
    if remote.status == "PAID":
        if remote.amount != payment.amount or remote.currency != payment.currency:
            reason = (
                f"amount mismatch: provider {remote.amount} {remote.currency}, "
                f"ours {payment.amount} {payment.currency}"
            )
            log.error("payment amount mismatch", payment=payment_id, reason=reason)
            await _fail(session, payment_id, reason, now)
        else:
            applied = await _mark_paid(session, payment, period_days=period_days, now=now)
            if applied:
                log.info("payment confirmed", payment=payment_id, plan=payment.plan)
            return _outcome(await _reload(session, payment_id), applied)
    elif remote.status in ("FAILED", "CANCELLED", "PARTIAL_CANCELLED"):
        reason = remote.failure or remote.status.lower()
        if await _fail(session, payment_id, reason, now):
            log.info("payment failed", payment=payment_id, reason=reason)
    return _outcome(await _reload(session, payment_id))


async def _reload(session: AsyncSession, payment_id: str) -> Payment:
    payment = await _payment(session, payment_id)
    assert payment is not None
    return payment


async def _mark_paid(
    session: AsyncSession, payment: Payment, *, period_days: int, now: datetime
) -> bool:
    """In one transaction: pending → paid (the conditional UPDATE only one caller wins),
    then the plan. False when another caller had already done it."""
    result = await session.execute(
        update(Payment)
        .where(Payment.id == payment.id, Payment.status == "pending")
        .values(status="paid", paid_at=now, failure=None)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        await session.rollback()
        return False
    change = await plans.change_plan(
        session,
        payment.user_id,
        payment.plan,
        ends_at=now + timedelta(days=period_days),
        source=payment.kind,  # "checkout" | "renewal"
        payment_id=payment.id,
        now=now,
    )
    await session.execute(
        update(Payment)
        .where(Payment.id == payment.id)
        .values(period_start=change.starts_at, period_end=change.ends_at)
        .execution_options(synchronize_session=False)
    )
    if payment.kind == "checkout":
        has_key = await session.scalar(
            select(BillingKey.user_id).where(BillingKey.user_id == payment.user_id)
        )
        if has_key is not None:
            await session.execute(
                update(User)
                .where(User.id == payment.user_id)
                .values(plan_auto_renew=True)
                .execution_options(synchronize_session=False)
            )
    await session.commit()
    return True


async def complete_checkout(
    session: AsyncSession,
    client: PortOne,
    user: User,
    payment_id: str,
    *,
    billing_key: str | None,
    code: str | None,
    message: str | None,
    period_days: int,
    now: datetime,
) -> Outcome:
    """Where the payment window comes back to: a failure or a cancel marks the payment
    failed; a billing key is checked to be this user's, kept for renewals and charged for
    the payment, which is then confirmed. A reload finds the payment settled."""
    payment = await _payment(session, payment_id)
    if payment is None or payment.user_id != user.id or payment.kind != "checkout":
        raise UserError(404, "payment_unknown")
    if payment.status != "pending":
        return _outcome(payment)
    if code or not billing_key:
        reason = (message or code or "no billing key")[:200]
        await _fail(session, payment_id, reason, now)
        return _outcome(await _reload(session, payment_id))
    try:
        key = await client.get_billing_key(billing_key)
    except PaymentProviderError as exc:
        if exc.kind == "billing_key_not_found":
            await _fail(session, payment_id, "unknown billing key", now)
            return _outcome(await _reload(session, payment_id))
        raise UserError(502, "payment_provider_error", reason=exc.kind) from None
    if key.status != "ISSUED" or key.customer_id != customer_id(user.id):
        log.warning("billing key of another customer", payment=payment_id, user=user.id)
        await _fail(session, payment_id, "billing key not issued to this user", now)
        return _outcome(await _reload(session, payment_id))
    await store_billing_key(session, user.id, billing_key, now)
    try:
        await client.pay_with_billing_key(
            payment_id,
            billing_key=billing_key,
            order_name=order_name(payment.plan, period_days),
            amount=payment.amount,
            currency=payment.currency,
            customer_id=customer_id(user.id),
        )
    except PaymentProviderError as exc:
        if exc.kind not in ("already_paid", "rejected"):  # a reload; a refusal is read below
            raise UserError(502, "payment_provider_error", reason=exc.kind) from None
    return await confirm(session, client, payment_id, period_days=period_days, now=now)


async def store_billing_key(
    session: AsyncSession, user_id: int, billing_key: str, now: datetime
) -> None:
    """Keep `billing_key` as the user's (one per user: a new one replaces the old). Commits."""
    values = {"user_id": user_id, "billing_key": billing_key, "created_at": now}
    if session.get_bind().dialect.name == "postgresql":
        statement = postgresql.insert(BillingKey).values(**values)
        await session.execute(
            statement.on_conflict_do_update(
                index_elements=["user_id"],
                set_={"billing_key": billing_key, "created_at": now},
            )
        )
    else:
        lite = sqlite.insert(BillingKey).values(**values)
        await session.execute(
            lite.on_conflict_do_update(
                index_elements=["user_id"],
                set_={"billing_key": billing_key, "created_at": now},
            )
        )
    await session.commit()


# Webhooks -------------------------------------------------------------------------------


async def handle_webhook(
    session: AsyncSession,
    client: PortOne,
    *,
    secret: str | None,
    payload: str,
    headers: dict[str, str],
    period_days: int,
    now: datetime,
) -> str:
    """A webhook from the provider: the signature checked (a bad one: UserError 400,
    nothing changes), then the payment it names read again from the provider and settled
    as `confirm` does; a cancelled payment that was paid becomes refunded. Returns what was
    done ("ignored", "paid", "failed", "pending", "refunded")."""
    if secret is None:
        raise UserError(400, "webhook_invalid")
    try:
        body = verify_webhook(secret, payload, headers)
    except WebhookRejected as exc:
        log.warning("webhook rejected", reason=exc.reason)
        raise UserError(400, "webhook_invalid") from None
    kind = body.get("type")
    data = body.get("data")
    payment_id = data.get("paymentId") if isinstance(data, dict) else None
    if not isinstance(kind, str) or not kind.startswith("Transaction.") or not payment_id:
        return "ignored"
    payment = await _payment(session, str(payment_id))
    if payment is None:
        log.info("webhook for a payment not ours", type=kind)
        return "ignored"
    if payment.status == "paid":
        try:
            remote = await client.get_payment(payment.id)
        except PaymentProviderError as exc:
            raise UserError(502, "payment_provider_error", reason=exc.kind) from None
        if remote.status == "CANCELLED":
            keys = await _refunded(
                session, payment.id, "cancelled at the provider", "webhook", now=now
            )
            await forget_at_provider(client, keys or [], payment.user_id)
            return "refunded"
        return "paid"
    if payment.status != "pending":
        return payment.status
    outcome = await confirm(session, client, payment.id, period_days=period_days, now=now)
    return outcome.status


# Renewal --------------------------------------------------------------------------------


def renewal_id(user_id: int, period_end: datetime) -> str:
    """The payment id of the renewal of the period that ends at `period_end`: the same for
    every run, so the provider (which takes an id once) and our table charge it once."""
    stamp = _aware(period_end)
    assert stamp is not None
    return f"renew-{user_id}-{stamp.astimezone(UTC).strftime('%Y%m%dT%H%M%S')}"


async def renew_due(
    db: Database,
    client: PortOne,
    *,
    basic: int,
    pro: int,
    period_days: int,
    now: datetime,
    limit: int = RENEWALS_PER_RUN,
) -> list[Outcome]:
    """Charge the billing key of every user whose paid plan ends within RENEW_AHEAD and who
    renews automatically; at most `limit` users a run. Each period is one payment row under
    `renewal_id`: the run that inserts it charges it; one that finds it pending for longer
    than RETRY_PENDING_AFTER charges again (the provider refuses a second charge of an id);
    a paid or failed one is left alone."""
    async with db.reading() as session:
        due = list(
            await session.execute(
                select(User.id, User.plan, User.plan_ends_at, BillingKey.billing_key)
                .join(BillingKey, BillingKey.user_id == User.id)
                .where(User.plan.in_(plans.PAID_PLANS), User.plan_auto_renew.is_(True))
                .where(User.plan_ends_at.is_not(None), User.plan_ends_at > now)
                .where(User.plan_ends_at <= now + RENEW_AHEAD)
                .order_by(User.plan_ends_at, User.id)
                .limit(limit)
            )
        )
    outcomes = []
    for user_id, plan, ends_at, billing_key in due:
        assert ends_at is not None  # the query's condition
        payment_id = renewal_id(user_id, ends_at)
        try:
            outcome = await _renew_one(
                db,
                client,
                payment_id,
                user_id=user_id,
                plan=plan,
                billing_key=billing_key,
                amount=price(plan, basic=basic, pro=pro),
                period_days=period_days,
                now=now,
            )
        except UserError as exc:  # the provider did not answer: the next run tries again
            log.warning("renewal not settled", payment=payment_id, error=exc.key)
            continue
        if outcome is not None:
            outcomes.append(outcome)
    return outcomes


async def _renew_one(
    db: Database,
    client: PortOne,
    payment_id: str,
    *,
    user_id: int,
    plan: str,
    billing_key: str,
    amount: int,
    period_days: int,
    now: datetime,
) -> Outcome | None:
    values = {
        "id": payment_id,
        "user_id": user_id,
        "plan": plan,
        "amount": amount,
        "currency": CURRENCY,
        "kind": "renewal",
        "status": "pending",
        "created_at": now,
    }
    async with db.session() as session:
        if session.get_bind().dialect.name == "postgresql":
            inserted = await session.execute(
                postgresql.insert(Payment).values(**values).on_conflict_do_nothing()
            )
        else:
            inserted = await session.execute(
                sqlite.insert(Payment).values(**values).on_conflict_do_nothing()
            )
        mine = getattr(inserted, "rowcount", 0) == 1
        await session.commit()
        if not mine:
            payment = await _payment(session, payment_id)
            if payment is None or payment.status != "pending":
                return None  # settled by an earlier run
            created = _aware(payment.created_at)
            if created is not None and now - created < RETRY_PENDING_AFTER:
                return None  # another run is charging it right now
            amount = payment.amount  # the price it was charged at
        try:
            await client.pay_with_billing_key(
                payment_id,
                billing_key=billing_key,
                order_name=order_name(plan, period_days),
                amount=amount,
                currency=CURRENCY,
                customer_id=customer_id(user_id),
            )
        except PaymentProviderError as exc:
            if exc.kind in ("unreachable",) or exc.kind.startswith("http_5"):
                raise UserError(502, "payment_provider_error", reason=exc.kind) from None
            if exc.kind not in ("already_paid", "rejected"):
                await _fail(session, payment_id, f"provider: {exc.kind}", now)
                log.warning("renewal refused", payment=payment_id, error=exc.kind)
                return _outcome(await _reload(session, payment_id))
        outcome = await confirm(session, client, payment_id, period_days=period_days, now=now)
        log.info("renewal", payment=payment_id, status=outcome.status)
        return outcome


async def run_renewals(
    db: Database, client: PortOne | None, prices: RenewalPrices, now: datetime
) -> tuple[int, int]:
    """One pass of the server's loop: renew what is due, then expire what ended.
    Returns (renewals settled, plans expired)."""
    renewed: list[Outcome] = []
    if client is not None:
        renewed = await renew_due(
            db, client, basic=prices.basic, pro=prices.pro, period_days=prices.period_days, now=now
        )
    async with db.session() as session:
        expired = await plans.expire_plans(session, now)
        await session.commit()
    return len(renewed), expired


@dataclass(frozen=True)
class RenewalPrices:
    basic: int
    pro: int
    period_days: int


# Cancellation and refunds ---------------------------------------------------------------


async def take_billing_keys(session: AsyncSession, user_id: int) -> list[str]:
    """Delete the user's stored billing key (in `session`, not committed) and return what
    this call deleted, for `forget_at_provider` once committed (of two requests at once,
    only the one whose DELETE removed the row gets the key)."""
    result = await session.execute(
        delete(BillingKey).where(BillingKey.user_id == user_id).returning(BillingKey.billing_key)
    )
    return [str(key) for key in result.scalars()]


async def forget_at_provider(client: PortOne | None, keys: list[str], user_id: int) -> None:
    """Delete billing keys at the provider too (PortOne keeps the card behind them), best
    effort: our copy is already gone; a failure is logged (never the key), not raised. A key
    the provider no longer has is already what we want."""
    for key in keys:
        if client is None:
            log.warning("billing key not deleted at the provider", user=user_id, error="closed")
            continue
        try:
            await client.delete_billing_key(key)
        except PaymentProviderError as exc:
            if exc.kind != "billing_key_not_found":
                log.warning("billing key not deleted at the provider", user=user_id, error=exc.kind)
            continue
        log.info("billing key deleted at the provider", user=user_id)


async def cancel_renewal(session: AsyncSession, client: PortOne | None, user: User) -> None:
    """Stop renewing: the plan lasts until its end, then falls back to free. The billing
    key is forgotten, here and (best effort) at the provider. Commits."""
    await session.execute(
        update(User)
        .where(User.id == user.id)
        .values(plan_auto_renew=False)
        .execution_options(synchronize_session=False)
    )
    keys = await take_billing_keys(session, user.id)
    await session.commit()
    await forget_at_provider(client, keys, user.id)


async def refund(
    session: AsyncSession,
    client: PortOne,
    payment_id: str,
    *,
    reason: str,
    actor_label: str = "cli",
    actor_id: int | None = None,
    now: datetime,
) -> Literal["refunded", "already_refunded"]:
    """An operator's refund: the payment cancelled at the provider, marked refunded, and
    the user put back on free when it paid for the period still running (audited).
    Repeating it changes nothing."""
    payment = await _payment(session, payment_id)
    if payment is None:
        raise UserError(404, "payment_unknown")
    if payment.status == "refunded":
        return "already_refunded"
    if payment.status != "paid":
        raise UserError(409, "payment_not_paid", state=payment.status)
    if not reason.strip():
        raise UserError(422, "refund_reason_required")
    try:
        await client.cancel_payment(payment_id, reason=reason)
    except PaymentProviderError as exc:
        if exc.kind != "already_cancelled":
            raise UserError(502, "payment_provider_error", reason=exc.kind) from None
    keys = await _refunded(session, payment_id, reason, actor_label, actor_id=actor_id, now=now)
    if keys is None:
        return "already_refunded"
    await forget_at_provider(client, keys, payment.user_id)
    return "refunded"


async def _refunded(
    session: AsyncSession,
    payment_id: str,
    reason: str,
    actor_label: str,
    *,
    actor_id: int | None = None,
    now: datetime,
) -> list[str] | None:
    """paid → refunded (conditional: once), the plan back to free if this payment paid for
    the current period, and an audit entry; one transaction. Returns the billing keys it
    took (for `forget_at_provider` once committed), or None when it was refunded already."""
    result = await session.execute(
        update(Payment)
        .where(Payment.id == payment_id, Payment.status == "paid")
        .values(status="refunded", refunded_at=now)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        await session.rollback()
        return None
    keys: list[str] = []
    payment = await session.scalar(
        select(Payment).where(Payment.id == payment_id).execution_options(populate_existing=True)
    )
    assert payment is not None
    user = await session.scalar(select(User).where(User.id == payment.user_id).with_for_update())
    period_end = _aware(payment.period_end)
    if (
        user is not None
        and plans.effective_plan(user, now) == payment.plan
        and period_end is not None
        and period_end > now
    ):
        await plans.change_plan(
            session,
            payment.user_id,
            "free",
            ends_at=None,
            source="refund",
            payment_id=payment_id,
            actor_id=actor_id,
            actor_label=actor_label,
            reason=reason,
            now=now,
        )
        keys = await take_billing_keys(session, payment.user_id)
    audit.record(
        session,
        actor_id,
        actor_label,
        "refund",
        payment.user_id,
        f"payment {payment_id} paid ({payment.amount} {payment.currency})",
        "refunded",
        reason,
    )
    await session.commit()
    log.info("payment refunded", payment=payment_id, by=actor_label)
    return keys


async def payments_of(
    session: AsyncSession, user_id: int | None = None, limit: int = 100
) -> list[tuple[Payment, str]]:
    """Payments, newest first, with their user's nickname (all users, or one)."""
    query = select(Payment, User.nickname).join(User, User.id == Payment.user_id)
    if user_id is not None:
        query = query.where(Payment.user_id == user_id)
    rows = await session.execute(
        query.order_by(Payment.created_at.desc(), Payment.id).limit(max(1, min(limit, 1000)))
    )
    return [(payment, nickname) for payment, nickname in rows]
