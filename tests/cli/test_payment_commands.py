"""`codebattle payments list / refund`, as an operator runs them, with the site's provider
being the fake PortOne on a real uvicorn under BASE_URL/fake-portone (test mode): a refund
cancels the payment at the provider, puts the user back on Free with the reason audited,
and running it again changes nothing."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from starlette.applications import Starlette
from starlette.routing import Mount
from typer.testing import CliRunner

from codebattle.accounts import billing
from codebattle.accounts.models import AuditEntry, User
from codebattle.cli import app
from codebattle.db.migrate import upgrade
from codebattle.db.session import Database
from codebattle.integrations.fake_portone import FakePortOne
from tests.support.factories import make_user
from tests.support.fake_portone import client_of, serving


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[FakePortOne, str]]:
    fake = FakePortOne()
    with serving(Starlette(routes=[Mount("/fake-portone", app=fake.app)])) as url:
        monkeypatch.chdir(tmp_path)
        monkeypatch.setenv("DATA_DIR", str(tmp_path / "var"))
        monkeypatch.setenv("BASE_URL", url)
        monkeypatch.setenv("ENVIRONMENT", "development")
        for name in ("DATABASE_URL", "REDIS_URL", "PORTONE_API_SECRET"):
            monkeypatch.delenv(name, raising=False)
        yield fake, url


def _db(tmp_path: Path) -> Database:
    return Database(f"sqlite+aiosqlite:///{tmp_path / 'var' / 'codebattle.db'}")


def _paid_pro(tmp_path: Path, url: str) -> tuple[int, str]:
    async def run() -> tuple[int, str]:
        db = _db(tmp_path)
        client = client_of(url + "/fake-portone")
        try:
            async with db.session() as session:
                user = await make_user(session, "Minji")
                payment = await billing.start_checkout(
                    session, user, "pro", basic=4900, pro=9900, now=datetime.now(UTC)
                )
                key = await client.issue_billing_key(
                    card_number="4242424242424242",
                    expiry_year="30",
                    expiry_month="12",
                    birth_or_business_number="900101",
                    password_two_digits="00",
                    customer_id=billing.customer_id(user.id),
                )
                outcome = await billing.complete_checkout(
                    session, client, user, payment.id, billing_key=key, code=None,
                    message=None, period_days=30, now=datetime.now(UTC),
                )  # fmt: skip
                assert outcome.status == "paid"
                return user.id, payment.id
        finally:
            await db.dispose()

    upgrade(f"sqlite+aiosqlite:///{tmp_path / 'var' / 'codebattle.db'}")
    return asyncio.run(run())


def test_list_and_refund(site: tuple[FakePortOne, str], tmp_path: Path) -> None:
    fake, url = site
    user_id, payment_id = _paid_pro(tmp_path, url)
    runner = CliRunner()
    listed = runner.invoke(app, ["payments", "list", "minji"])
    assert listed.exit_code == 0, listed.output
    assert payment_id in listed.output and "9900 KRW" in listed.output
    assert "checkout  paid" in listed.output

    refunded = runner.invoke(
        app, ["payments", "refund", payment_id, "--reason", "charged by mistake"]
    )
    assert refunded.exit_code == 0, refunded.output
    assert refunded.stdout.strip() == f"{payment_id}: refunded"
    assert fake.payments[payment_id].status == "CANCELLED"
    again = runner.invoke(app, ["payments", "refund", payment_id, "--reason", "again"])
    assert again.exit_code == 0 and "already refunded" in again.output
    assert "refunded" in runner.invoke(app, ["payments", "list"]).output

    async def check() -> tuple[str, int]:
        db = _db(tmp_path)
        try:
            async with db.reading() as session:
                user = await session.get(User, user_id)
                assert user is not None
                audits = await session.scalar(
                    select(func.count())
                    .select_from(AuditEntry)
                    .where(AuditEntry.action == "refund", AuditEntry.reason == "charged by mistake")
                )
                return user.plan, int(audits or 0)
        finally:
            await db.dispose()

    assert asyncio.run(check()) == ("free", 1)

    unknown = runner.invoke(app, ["payments", "refund", "pay-nothing", "--reason", "x"])
    assert unknown.exit_code == 2 and "No such payment." in unknown.output
    nobody = runner.invoke(app, ["payments", "list", "nobody"])
    assert nobody.exit_code == 2
