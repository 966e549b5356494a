"""Checkout, confirmation, webhooks, renewal, cancellation and refunds (accounts/billing.py)
on SQLite and PostgreSQL, against the fake PortOne on a real uvicorn. What is worth money
is attacked: ten confirmations, reloads and webhooks at once apply a plan once and charge
once; two renewal runs at once charge a period once."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from structlog.testing import capture_logs

from codebattle.accounts import billing, deletion
from codebattle.accounts.models import AuditEntry, BillingKey, Payment, PlanChange, User
from codebattle.app import create_app
from codebattle.db.session import Database
from codebattle.errors import UserError
from codebattle.integrations.fake_portone import FakePortOne, signed_headers
from codebattle.integrations.portone import FAKE_WEBHOOK_SECRET, PaymentProviderError, PortOne
from tests.support.factories import make_user
from tests.support.fake_portone import client_of, running_fake
from tests.support.servers import free_port
from tests.support.site import settings_for, sign_in

DAYS = 30
PRICES = {"basic": 4900, "pro": 9900}


@pytest.fixture(scope="module")
def provider() -> Iterator[tuple[FakePortOne, str]]:
    with running_fake() as running:
        yield running


@pytest.fixture
def fake(provider: tuple[FakePortOne, str]) -> FakePortOne:
    return provider[0]


@pytest.fixture
def api(provider: tuple[FakePortOne, str]) -> PortOne:
    """Our client to the fake provider."""
    return client_of(provider[1])


async def _user(db: Database) -> User:
    async with db.session() as session:
        return await make_user(session)


async def _key(api: PortOne, user: User, card: str = "4242424242424242") -> str:
    return await api.issue_billing_key(
        card_number=card,
        expiry_year="30",
        expiry_month="12",
        birth_or_business_number="900101",
        password_two_digits="00",
        customer_id=billing.customer_id(user.id),
    )


async def _start(db: Database, user: User, plan: str = "pro") -> Payment:
    async with db.session() as session:
        return await billing.start_checkout(session, user, plan, **PRICES, now=_now())


def _now() -> datetime:
    return datetime.now(UTC)


async def _complete(
    db: Database, api: PortOne, user: User, payment_id: str, key: str
) -> billing.Outcome:
    async with db.session() as session:
        return await billing.complete_checkout(
            session,
            api,
            user,
            payment_id,
            billing_key=key,
            code=None,
            message=None,
            period_days=DAYS,
            now=_now(),
        )


async def _subscribe(db: Database, api: PortOne, plan: str = "pro") -> tuple[User, Payment]:
    user = await _user(db)
    payment = await _start(db, user, plan)
    outcome = await _complete(db, api, user, payment.id, await _key(api, user))
    assert outcome.status == "paid", outcome
    return user, payment


async def _stored(db: Database, user_id: int) -> User:
    async with db.reading() as session:
        user = await session.get(User, user_id)
        assert user is not None
        return user


async def _count(db: Database, model: type, **where: object) -> int:
    async with db.reading() as session:
        query = select(func.count()).select_from(model)
        for name, value in where.items():
            query = query.where(getattr(model, name) == value)
        return int(await session.scalar(query) or 0)


async def _webhook(
    db: Database, api: PortOne, kind: str, payment_id: str, secret: str = FAKE_WEBHOOK_SECRET
) -> str:
    payload = json.dumps(
        {"type": kind, "timestamp": _now().isoformat(), "data": {"paymentId": payment_id}}
    )
    async with db.session() as session:
        return await billing.handle_webhook(
            session,
            api,
            secret=FAKE_WEBHOOK_SECRET,
            payload=payload,
            headers=signed_headers(secret, payload),
            period_days=DAYS,
            now=_now(),
        )


async def test_checkout(db: Database, api: PortOne, fake: FakePortOne) -> None:
    before = _now()
    user, payment = await _subscribe(db, api, "pro")
    stored = await _stored(db, user.id)
    assert (stored.plan, stored.plan_source, stored.plan_auto_renew) == ("pro", "checkout", True)
    assert stored.plan_ends_at is not None
    assert before + timedelta(days=DAYS) <= stored.plan_ends_at <= _now() + timedelta(days=DAYS)
    assert fake.payments[payment.id].amount == 9900
    async with db.reading() as session:
        row = await session.get(Payment, payment.id)
        assert row is not None and (row.status, row.kind, row.amount) == ("paid", "checkout", 9900)
        assert row.period_end == stored.plan_ends_at
        change = await session.scalar(select(PlanChange).where(PlanChange.user_id == user.id))
        assert change is not None and (change.source, change.payment_id) == ("checkout", payment.id)
        assert await session.get(BillingKey, user.id) is not None
    # A reload of the page the window came back to changes nothing.
    again = await _complete(db, api, user, payment.id, "whatever")
    assert (again.status, again.applied) == ("paid", False)
    assert await _count(db, PlanChange, user_id=user.id) == 1


async def test_current_plan_and_downgrade_refused(db: Database, api: PortOne) -> None:
    user, _ = await _subscribe(db, api, "pro")
    for plan, key in (("pro", "checkout_current_plan"), ("basic", "checkout_downgrade")):
        with pytest.raises(UserError) as refused:
            await _start(db, user, plan)
        assert refused.value.key == key
    with pytest.raises(UserError):
        await _start(db, user, "free")


async def test_amount_mismatch_is_not_activated(db: Database, api: PortOne) -> None:
    user = await _user(db)
    payment = await _start(db, user, "pro")
    # Paid at the provider, but for 100 won instead of 9,900: confirm must refuse it.
    await api.pay_with_billing_key(
        payment.id,
        billing_key=await _key(api, user),
        order_name="tampered",
        amount=100,
        currency="KRW",
        customer_id=billing.customer_id(user.id),
    )
    async with db.session() as session:
        outcome = await billing.confirm(session, api, payment.id, period_days=DAYS, now=_now())
    assert outcome.status == "failed" and "amount mismatch" in (outcome.failure or "")
    assert (await _stored(db, user.id)).plan == "free"
    assert await _count(db, PlanChange, user_id=user.id) == 0
    assert await _webhook(db, api, "Transaction.Paid", payment.id) == "failed"
    assert (await _stored(db, user.id)).plan == "free"


async def test_someone_elses_billing_key_is_refused(db: Database, api: PortOne) -> None:
    owner, thief = await _user(db), await _user(db)
    key = await _key(api, owner)
    payment = await _start(db, thief, "pro")
    outcome = await _complete(db, api, thief, payment.id, key)
    assert outcome.status == "failed"
    assert (await _stored(db, thief.id)).plan == "free"
    with pytest.raises(UserError) as not_yours:  # nor may another user complete it
        await _complete(db, api, owner, payment.id, key)
    assert not_yours.value.status == 404


async def test_cancelled_window(db: Database, api: PortOne) -> None:
    user = await _user(db)
    payment = await _start(db, user, "basic")
    async with db.session() as session:
        outcome = await billing.complete_checkout(
            session, api, user, payment.id, billing_key=None, code="FAILURE_TYPE_PG",
            message="사용자가 결제를 취소하였습니다", period_days=DAYS, now=_now(),
        )  # fmt: skip
    assert outcome.status == "failed" and "취소" in (outcome.failure or "")
    assert (await _stored(db, user.id)).plan == "free"


async def test_ten_at_once_apply_the_plan_once(
    db: Database, api: PortOne, fake: FakePortOne
) -> None:
    """The attack: the page reloaded five times while five webhooks arrive, all at once.
    The card is charged once, the payment marked paid once, the plan applied once."""
    user = await _user(db)
    payment = await _start(db, user, "pro")
    key = await _key(api, user)
    results = await asyncio.gather(
        *(_complete(db, api, user, payment.id, key) for _ in range(5)),
        *(_webhook(db, api, "Transaction.Paid", payment.id) for _ in range(5)),
        return_exceptions=True,
    )
    errors = [r for r in results if isinstance(r, BaseException)]
    assert not errors, errors
    outcomes = [r for r in results if isinstance(r, billing.Outcome)]
    assert len(outcomes) == 5 and sum(o.applied for o in outcomes) <= 1  # or a webhook did
    assert all(o.status == "paid" for o in outcomes)
    assert fake.payments[payment.id].charges == 1
    assert await _count(db, PlanChange, user_id=user.id) == 1
    stored = await _stored(db, user.id)
    assert stored.plan == "pro" and stored.plan_ends_at is not None
    assert stored.plan_ends_at <= _now() + timedelta(days=DAYS)  # not extended twice
    # Ten more webhooks for the settled payment: nothing changes.
    await asyncio.gather(*(_webhook(db, api, "Transaction.Paid", payment.id) for _ in range(10)))
    assert await _count(db, PlanChange, user_id=user.id) == 1


async def test_bad_webhook_signature_changes_nothing(db: Database, api: PortOne) -> None:
    user = await _user(db)
    payment = await _start(db, user, "pro")
    await api.pay_with_billing_key(
        payment.id,
        billing_key=await _key(api, user),
        order_name="Pro",
        amount=9900,
        currency="KRW",
        customer_id=billing.customer_id(user.id),
    )
    forged = "whsec_" + "Zm9yZ2VkLWJ5LXNvbWVvbmUtZWxzZQ=="
    with pytest.raises(UserError) as refused:
        await _webhook(db, api, "Transaction.Paid", payment.id, secret=forged)
    assert (refused.value.status, refused.value.key) == (400, "webhook_invalid")
    async with db.reading() as session:
        row = await session.get(Payment, payment.id)
        assert row is not None and row.status == "pending"
    assert (await _stored(db, user.id)).plan == "free"


def test_webhook_route_refuses_a_bad_signature(client: TestClient) -> None:
    payload = json.dumps({"type": "Transaction.Paid", "data": {"paymentId": "pay-x"}})
    forged = signed_headers("whsec_" + "Zm9yZ2VkLWJ5LXNvbWVvbmUtZWxzZQ==", payload)
    reply = client.post("/payments/webhook", content=payload, headers=forged)
    assert reply.status_code == 400
    assert client.post("/payments/webhook", content=payload).status_code == 400
    # A well-signed webhook for a payment that is not ours is acknowledged and ignored.
    good = client.post(
        "/payments/webhook", content=payload, headers=signed_headers(FAKE_WEBHOOK_SECRET, payload)
    )
    assert good.status_code == 200 and good.json()["result"] == "ignored"


async def _due(db: Database, user_id: int, hours: float) -> datetime:
    """Move the user's plan end to `hours` from now; return it."""
    ends = _now() + timedelta(hours=hours)
    async with db.session() as session:
        await session.execute(update(User).where(User.id == user_id).values(plan_ends_at=ends))
        await session.commit()
    return ends


async def _renew(db: Database, api: PortOne, now: datetime | None = None) -> list[billing.Outcome]:
    return await billing.renew_due(db, api, **PRICES, period_days=DAYS, now=now or _now())


async def test_renewal_charges_once_per_period(
    db: Database, api: PortOne, fake: FakePortOne
) -> None:
    user, _ = await _subscribe(db, api, "basic")
    ends = await _due(db, user.id, 12)
    first, second = await asyncio.gather(_renew(db, api), _renew(db, api))
    mine = [o for o in first + second if o.payment_id == billing.renewal_id(user.id, ends)]
    assert [o.status for o in mine] == ["paid"] and mine[0].applied
    payment_id = mine[0].payment_id
    assert fake.payments[payment_id].charges == 1 and fake.payments[payment_id].amount == 4900
    stored = await _stored(db, user.id)
    assert stored.plan == "basic" and stored.plan_source == "renewal"
    assert stored.plan_ends_at is not None
    assert abs((stored.plan_ends_at - (ends + timedelta(days=DAYS))).total_seconds()) < 1
    assert await _count(db, Payment, user_id=user.id, kind="renewal") == 1
    assert await _count(db, PlanChange, user_id=user.id, source="renewal") == 1
    # Run again, and again as if the end had not moved: the period is not charged twice.
    assert not [o for o in await _renew(db, api) if o.payment_id == payment_id]
    async with db.session() as session:
        await session.execute(update(User).where(User.id == user.id).values(plan_ends_at=ends))
        await session.commit()
    assert not [o for o in await _renew(db, api) if o.payment_id == payment_id]
    assert fake.payments[payment_id].charges == 1
    assert await _count(db, PlanChange, user_id=user.id, source="renewal") == 1


async def test_declined_renewal_lets_the_plan_end(db: Database, api: PortOne) -> None:
    user, _ = await _subscribe(db, api, "pro")
    async with db.session() as session:
        declining = await _key(api, user, card="4000000000000002")
        await billing.store_billing_key(session, user.id, declining, _now())
    ends = await _due(db, user.id, 2)
    outcomes = [
        o for o in await _renew(db, api) if o.payment_id == billing.renewal_id(user.id, ends)
    ]
    assert [o.status for o in outcomes] == ["failed"]
    later = ends + timedelta(seconds=1)
    await billing.run_renewals(db, api, billing.RenewalPrices(4900, 9900, DAYS), later)
    stored = await _stored(db, user.id)
    assert stored.plan == "free" and stored.plan_source == "expiry"


async def test_cancel_at_period_end(db: Database, api: PortOne) -> None:
    user, _ = await _subscribe(db, api, "pro")
    async with db.session() as session:
        await billing.cancel_renewal(session, api, user)
    stored = await _stored(db, user.id)
    assert (stored.plan, stored.plan_auto_renew) == ("pro", False)
    assert await _count(db, BillingKey, user_id=user.id) == 0
    ends = await _due(db, user.id, 12)
    assert not [o for o in await _renew(db, api) if o.payment_id.startswith(f"renew-{user.id}-")]
    assert (await _stored(db, user.id)).plan == "pro"  # until its end
    prices = billing.RenewalPrices(4900, 9900, DAYS)
    await billing.run_renewals(db, api, prices, ends - timedelta(minutes=1))
    assert (await _stored(db, user.id)).plan == "pro"
    await billing.run_renewals(db, api, prices, ends + timedelta(seconds=1))
    stored = await _stored(db, user.id)
    assert (stored.plan, stored.plan_source) == ("free", "expiry")
    assert await _count(db, Payment, user_id=user.id, kind="renewal") == 0


async def _key_of(db: Database, user_id: int) -> str:
    async with db.reading() as session:
        key = await session.scalar(
            select(BillingKey.billing_key).where(BillingKey.user_id == user_id)
        )
    assert key is not None
    return str(key)


async def test_cancelling_renewal_deletes_the_key_at_the_provider(
    db: Database, api: PortOne, fake: FakePortOne
) -> None:
    user, _ = await _subscribe(db, api, "pro")
    key = await _key_of(db, user.id)
    assert not fake.billing_keys[key].deleted
    with capture_logs() as logs:
        async with db.session() as session:
            await billing.cancel_renewal(session, api, user)
    assert fake.billing_keys[key].deleted  # PortOne charges it no more
    assert await _count(db, BillingKey, user_id=user.id) == 0
    assert [e["event"] for e in logs if "billing key" in e["event"]] == [
        "billing key deleted at the provider"
    ]
    with pytest.raises(PaymentProviderError) as gone:  # a charge with it is refused there
        await api.pay_with_billing_key(
            "pay-after-delete",
            billing_key=key,
            order_name="x",
            amount=100,
            currency="KRW",
            customer_id=billing.customer_id(user.id),
        )
    assert gone.value.kind == "billing_key_not_found"


async def test_a_provider_failure_still_deletes_our_copy_and_is_logged(
    db: Database, api: PortOne, fake: FakePortOne, provider: tuple[FakePortOne, str]
) -> None:
    refusing = client_of(provider[1], secret="wrong-secret")  # the provider says 401
    user, _ = await _subscribe(db, api, "pro")
    key = await _key_of(db, user.id)
    with capture_logs() as logs:
        async with db.session() as session:
            await billing.cancel_renewal(session, refusing, user)
    assert await _count(db, BillingKey, user_id=user.id) == 0
    assert not fake.billing_keys[key].deleted
    failures = [e for e in logs if e["event"] == "billing key not deleted at the provider"]
    assert [(e["user"], e["error"]) for e in failures] == [(user.id, "unauthorized")]
    assert key not in json.dumps(logs, default=str)  # the key itself is never logged
    # Deleting again (already deleted at the provider) is quiet.
    async with db.session() as session:
        await db_user_with_key(session, user.id, key)
    await api.delete_billing_key(key)
    with capture_logs() as logs:
        async with db.session() as session:
            await billing.cancel_renewal(session, api, user)
    assert not [e for e in logs if e["event"] == "billing key not deleted at the provider"]


async def db_user_with_key(session: Any, user_id: int, key: str) -> None:
    session.add(BillingKey(user_id=user_id, billing_key=key))
    await session.commit()


async def test_deleting_an_account_deletes_its_key_at_the_provider(
    db: Database, api: PortOne, fake: FakePortOne, provider: tuple[FakePortOne, str]
) -> None:
    user, _ = await _subscribe(db, api, "pro")
    key = await _key_of(db, user.id)
    async with db.session() as session:
        await deletion.delete_account(session, user.id, user.nickname, api)
    assert fake.billing_keys[key].deleted
    assert await _count(db, BillingKey, user_id=user.id) == 0
    # The provider unreachable: the account and our copy of the key are deleted all the same.
    other, _ = await _subscribe(db, api, "basic")
    other_key = await _key_of(db, other.id)
    unreachable = client_of(f"http://127.0.0.1:{free_port()}")
    with capture_logs() as logs:
        async with db.session() as session:
            await deletion.delete_account(session, other.id, other.nickname, unreachable)
    assert (await _stored(db, other.id)).deleted_at is not None
    assert await _count(db, BillingKey, user_id=other.id) == 0
    assert not fake.billing_keys[other_key].deleted
    assert [e.get("error") for e in logs if "billing key" in e["event"]] == ["unreachable"]


async def test_buying_again_after_cancelling_extends_the_plan(db: Database, api: PortOne) -> None:
    user, _ = await _subscribe(db, api, "pro")
    async with db.session() as session:
        await billing.cancel_renewal(session, api, user)
    ends = (await _stored(db, user.id)).plan_ends_at
    assert ends is not None
    with pytest.raises(UserError):  # never a lower plan
        await _start(db, await _stored(db, user.id), "basic")
    payment = await _start(db, await _stored(db, user.id), "pro")
    outcome = await _complete(db, api, user, payment.id, await _key(api, user))
    assert outcome.status == "paid"
    stored = await _stored(db, user.id)
    assert stored.plan == "pro" and stored.plan_auto_renew
    assert stored.plan_ends_at is not None
    assert abs((stored.plan_ends_at - (ends + timedelta(days=DAYS))).total_seconds()) < 5
    with pytest.raises(UserError) as renewing:  # renewal on again: nothing to buy
        await _start(db, stored, "pro")
    assert renewing.value.key == "checkout_current_plan"


async def test_refund(db: Database, api: PortOne, fake: FakePortOne) -> None:
    user, payment = await _subscribe(db, api, "pro")
    async with db.reading() as session:
        key = await session.get(BillingKey, user.id)
        assert key is not None and not fake.billing_keys[key.billing_key].deleted
    async with db.session() as session:
        done = await billing.refund(session, api, payment.id, reason="asked by mail", now=_now())
    assert done == "refunded"
    assert fake.payments[payment.id].status == "CANCELLED"
    assert fake.billing_keys[key.billing_key].deleted  # the card is forgotten there too
    stored = await _stored(db, user.id)
    assert (stored.plan, stored.plan_source, stored.plan_auto_renew) == ("free", "refund", False)
    async with db.reading() as session:
        row = await session.get(Payment, payment.id)
        assert row is not None and row.status == "refunded" and row.refunded_at is not None
        entry = await session.scalar(
            select(AuditEntry).where(
                AuditEntry.subject_user_id == user.id, AuditEntry.action == "refund"
            )
        )
        assert entry is not None and entry.reason == "asked by mail" and entry.actor_label == "cli"
    # Again (a retried command, the cancel webhook): nothing more happens.
    async with db.session() as session:
        again = await billing.refund(session, api, payment.id, reason="again", now=_now())
    assert again == "already_refunded"
    assert await _webhook(db, api, "Transaction.Cancelled", payment.id) == "refunded"
    assert await _count(db, PlanChange, user_id=user.id, source="refund") == 1
    assert await _count(db, AuditEntry, subject_user_id=user.id, action="refund") == 1
    async with db.session() as session:
        with pytest.raises(UserError) as unknown:
            await billing.refund(session, api, "pay-none", reason="x", now=_now())
    assert unknown.value.status == 404


async def test_cancelled_at_the_provider_is_refunded_by_webhook(db: Database, api: PortOne) -> None:
    user, payment = await _subscribe(db, api, "basic")
    await api.cancel_payment(payment.id, reason="cancelled in PortOne's console")
    assert await _webhook(db, api, "Transaction.Cancelled", payment.id) == "refunded"
    assert (await _stored(db, user.id)).plan == "free"
    assert await _webhook(db, api, "Transaction.Cancelled", payment.id) == "refunded"
    assert await _count(db, PlanChange, user_id=user.id, source="refund") == 1


# The pages (web/routes/billing.py) -------------------------------------------------------


def test_pricing_page(client: TestClient) -> None:
    page = client.get("/pricing")
    assert page.status_code == 200
    assert 'id="test-mode"' in page.text  # no PortOne secret, not production: the fake
    assert 'href="/signin?next=/pricing"' in page.text  # signed out: sign in first
    assert "9,900" in page.text and "4,900" in page.text
    token = sign_in(client, "pricer")
    page = client.get("/pricing")
    assert 'id="plan-free"' in page.text and 'id="current-plan"' in page.text
    assert 'action="/checkout/basic"' in page.text and 'action="/checkout/pro"' in page.text
    assert client.post("/checkout/pro", data={}).status_code == 403  # CSRF
    assert client.post("/checkout/free", data={"csrf_token": token}).status_code == 404
    assert client.get("/checkout/complete?payment=pay-unknown").status_code == 404


def test_checkout_page_allows_the_sdk_there_only(tmp_path: Path, sqlite_url: str) -> None:
    settings = settings_for(
        tmp_path,
        DATABASE_URL=sqlite_url.replace("+aiosqlite", ""),
        PORTONE_API_SECRET="real-looking-secret",
        PORTONE_STORE_ID="store-123",
        PORTONE_CHANNEL_KEY="channel-key-123",
        PORTONE_WEBHOOK_SECRET="whsec_c2VjcmV0",
        PORTONE_CSP_SOURCES="https://pg.example",
    )
    with TestClient(create_app(settings)) as site:
        token = sign_in(site, "sdkuser")
        page = site.post("/checkout/pro", data={"csrf_token": token})
        assert page.status_code == 200, page.text
        assert 'src="https://cdn.portone.io/v2/browser-sdk.js"' in page.text
        assert "store-123" in page.text and "channel-key-123" in page.text
        csp = page.headers["content-security-policy"]
        assert "script-src 'self' https://cdn.portone.io" in csp
        assert "frame-ancestors 'none'" in csp
        directives = {
            name: values
            for name, *values in (part.split() for part in csp.split(";") if part.strip())
        }
        for name in ("script-src", "connect-src", "frame-src"):
            # PortOne's hosts (its payment window calls and frames *.iamport.co) and the
            # PG pages of PORTONE_CSP_SOURCES (this test sets one of its own).
            for source in ("https://*.portone.io", "https://*.iamport.co", "https://pg.example"):
                assert source in directives[name], (name, source)
        assert "https://*.inicis.com" not in csp  # the setting replaced the default list
        site_csp = site.get("/pricing").headers["content-security-policy"]
        assert "portone" not in site_csp and "iamport" not in site_csp
        assert "pg.example" not in site_csp
        assert 'id="test-mode"' not in site.get("/pricing").text
        assert site.get("/fake-portone/browser-sdk.js").status_code == 404  # no fake


def test_production_without_portone_closes_checkout(tmp_path: Path, sqlite_url: str) -> None:
    settings = settings_for(
        tmp_path,
        DATABASE_URL=sqlite_url.replace("+aiosqlite", ""),
        ENVIRONMENT="production",
        BASE_URL="https://battle.example",
        SECRET_KEY="Zq8-vR2pL0xN7cT4kW9bY1mH6sD3fJ5gA0eU8iO2rQ7tP4wS",
    )
    with TestClient(create_app(settings), base_url="https://battle.example") as site:
        page = site.get("/pricing")
        assert page.status_code == 200 and 'id="checkout-unavailable"' in page.text
        assert 'action="/checkout/' not in page.text
        assert site.get("/fake-portone/browser-sdk.js").status_code == 404
        payload = json.dumps({"type": "Transaction.Paid", "data": {"paymentId": "p"}})
        hook = site.post(
            "/payments/webhook",
            content=payload,
            headers=signed_headers(FAKE_WEBHOOK_SECRET, payload),
        )
        assert hook.status_code == 503  # nothing to check it against
