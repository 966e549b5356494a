"""What the plan pages say and send (web/routes/billing.py, app.py, account_data.py): the
charge of buying a resumable plan again said before it is made (Korean and English), never
a cached /pricing or checkout page, a refused checkout naming plans as the site does with
the way to settings, a lost session at /checkout/complete coming back with the payment's
id, and the payments in the data export (never the billing key)."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import unquote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from codebattle.accounts import billing
from codebattle.accounts.models import BillingKey, Payment, User
from codebattle.app import create_app
from codebattle.config import Settings
from codebattle.db.session import Database
from tests.support.factories import make_user
from tests.support.site import settings_for, sign_in

ENDS = datetime(2027, 1, 6, 3, 0, tzinfo=UTC)  # 12:00 KST; plus 30 days: 2027-02-05


@pytest.fixture
def app_settings(tmp_path: Path, sqlite_url: str) -> Settings:
    return settings_for(tmp_path, DATABASE_URL=sqlite_url.replace("+aiosqlite", ""))


@pytest.fixture
def site(app_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(app_settings)) as client:
        yield client


def _db(settings: Settings, work: Callable[[AsyncSession], Awaitable[object]]) -> object:
    async def run() -> object:
        db = Database(settings.database_url)
        try:
            async with db.session() as session:
                result = await work(session)
                await session.commit()
                return result
        finally:
            await db.dispose()

    return asyncio.run(run())


def _set_plan(settings: Settings, nickname: str, plan: str, *, renew: bool) -> None:
    async def work(session: AsyncSession) -> None:
        await session.execute(
            update(User)
            .where(User.nickname == nickname)
            .values(plan=plan, plan_ends_at=ENDS, plan_auto_renew=renew, plan_source="checkout")
        )

    _db(settings, work)


def test_buying_a_cancelled_plan_again_says_the_charge_and_the_new_end(
    site: TestClient, app_settings: Settings
) -> None:
    token = sign_in(site, "resumer")
    _set_plan(app_settings, "resumer", "pro", renew=False)
    site.cookies.set("lang", "ko")
    pricing = site.get("/pricing")
    assert pricing.headers["cache-control"] == "no-store"
    said = "지금 ₩9,900가 결제되고 이용 기간이 2027-02-05까지 연장됩니다."
    assert said in pricing.text and 'aria-describedby="resume-charge"' in pricing.text
    checkout = site.post("/checkout/pro", data={"csrf_token": token})
    assert checkout.status_code == 200, checkout.text
    assert said in checkout.text and checkout.headers["cache-control"] == "no-store"
    site.cookies.set("lang", "en")
    said = "You will be charged ₩9,900 now and your plan will run until 2027-02-05."
    assert said in site.get("/pricing").text
    assert said in site.post("/checkout/pro", data={"csrf_token": token}).text
    # A plan bought for the first time says nothing of the kind.
    assert 'id="resume-charge"' not in site.post("/checkout/basic", data={"csrf_token": token}).text
    _set_plan(app_settings, "resumer", "free", renew=False)
    page = site.get("/pricing").text
    assert 'id="resume-charge"' not in page and "You will be charged" not in page


def test_a_refused_checkout_names_the_plans_and_leads_to_settings(
    site: TestClient, app_settings: Settings
) -> None:
    token = sign_in(site, "subscribed")
    _set_plan(app_settings, "subscribed", "pro", renew=True)
    site.cookies.set("lang", "ko")
    page = site.post("/checkout/pro", data={"csrf_token": token})
    assert page.status_code == 409 and page.headers["cache-control"] == "no-store"
    refusal = re.search(r'<p class="error" id="checkout-refusal"[^>]*>([^<]*)</p>', page.text)
    assert refusal is not None and refusal.group(1) == "이미 Pro 요금제를 이용 중입니다."
    assert 'href="/settings#plan"' in page.text
    site.cookies.set("lang", "en")
    page = site.post("/checkout/basic", data={"csrf_token": token})
    assert page.status_code == 409
    refusal = re.search(r'<p class="error" id="checkout-refusal"[^>]*>([^<]*)</p>', page.text)
    assert refusal is not None
    assert refusal.group(1).startswith("You are on Pro: switching to Basic waits")
    assert 'href="/settings#plan"' in page.text


def test_a_lost_session_at_checkout_comes_back_with_the_payment(
    site: TestClient, app_settings: Settings
) -> None:
    token = sign_in(site, "lostsession")
    site.post("/checkout/pro", data={"csrf_token": token})

    async def payment_of(session: AsyncSession) -> str:
        user_id = await session.scalar(select(User.id).where(User.nickname == "lostsession"))
        return str(await session.scalar(select(Payment.id).where(Payment.user_id == user_id)))

    payment = _db(app_settings, payment_of)
    site.cookies.clear()  # the session is gone (expired, another browser tab signed out)
    target = f"/checkout/complete?payment={payment}&code=X&message=a%20b"
    away = site.get(target, follow_redirects=False)
    assert away.status_code == 303
    location = away.headers["location"]
    assert location.startswith("/signin?next=/checkout/complete%3Fpayment%3D")
    assert unquote(location.removeprefix("/signin?next=")) == target
    form = site.get(location).text.split('id="signin-form"')[1]
    next_field = re.search(r'name="next" value="([^"]+)"', form)
    assert next_field is not None
    back = next_field.group(1).replace("&amp;", "&")
    assert back == target  # the query as it was, still encoded
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert csrf is not None
    signed = site.post(
        "/signin",
        data={"nickname": "lostsession", "csrf_token": csrf.group(1), "next": back},
        follow_redirects=False,
    )
    assert signed.status_code == 303 and signed.headers["location"] == back
    result = site.get(back)
    assert result.status_code == 200 and 'id="checkout-result"' in result.text
    # Off-site targets are still refused, however they are written.
    for evil in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        page = site.get("/signin", params={"next": evil}).text.split('id="signin-form"')[1]
        assert re.search(r'name="next" value="/problems"', page), evil


def test_the_export_has_the_payments_and_never_the_billing_key(
    site: TestClient, app_settings: Settings
) -> None:
    sign_in(site, "exporter")
    paid = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)

    async def work(session: AsyncSession) -> None:
        user_id = await session.scalar(select(User.id).where(User.nickname == "exporter"))
        session.add_all(
            [
                Payment(id="pay-first", user_id=user_id, plan="basic", amount=4900,
                        currency="KRW", kind="checkout", status="refunded", created_at=paid,
                        period_start=paid, period_end=paid + timedelta(days=30), paid_at=paid,
                        refunded_at=paid + timedelta(days=2)),
                Payment(id="pay-second", user_id=user_id, plan="pro", amount=9900,
                        currency="KRW", kind="renewal", status="paid",
                        created_at=paid + timedelta(days=3), paid_at=paid + timedelta(days=3)),
                BillingKey(user_id=user_id, billing_key="billing-key-secret-123"),
            ]
        )  # fmt: skip

    _db(app_settings, work)
    reply = site.get("/settings/export")
    assert reply.status_code == 200
    assert "billing-key-secret-123" not in reply.text
    payments = json.loads(reply.text)["payments"]
    assert [p["id"] for p in payments] == ["pay-first", "pay-second"]
    assert payments[0] == {
        "id": "pay-first", "plan": "basic", "amount": 4900, "currency": "KRW",
        "kind": "checkout", "status": "refunded", "failure": None,
        "period_start": paid.isoformat(), "period_end": (paid + timedelta(days=30)).isoformat(),
        "created_at": paid.isoformat(), "paid_at": paid.isoformat(),
        "refunded_at": (paid + timedelta(days=2)).isoformat(),
    }  # fmt: skip
    assert (payments[1]["plan"], payments[1]["kind"], payments[1]["status"]) == (
        "pro", "renewal", "paid",
    )  # fmt: skip


async def test_payments_export_on_both_databases(db: Database) -> None:
    async with db.session() as session:
        user, other = await make_user(session), await make_user(session)
        session.add_all(
            [
                Payment(id="pay-a", user_id=user.id, plan="pro", amount=9900, kind="checkout",
                        status="paid", created_at=datetime(2026, 12, 1, tzinfo=UTC)),
                Payment(id="pay-b", user_id=other.id, plan="pro", amount=9900, kind="checkout",
                        status="paid", created_at=datetime(2026, 12, 1, tzinfo=UTC)),
            ]
        )  # fmt: skip
        await session.commit()
        user_id = user.id
    async with db.reading() as session:
        exported = await billing.payments_export(session, user_id)
    assert [(p["id"], p["amount"], p["created_at"]) for p in exported] == [
        ("pay-a", 9900, "2026-12-01T00:00:00+00:00")
    ]
