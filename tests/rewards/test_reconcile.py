"""Reconciliation of our gift exchanges with the provider (rewards/reconcile.py), on SQLite
and PostgreSQL, against the fake Giftishow on loopback: every kind of disagreement is
found, agreeing ones are matched, states without a card are not asked about, a provider
that cannot answer makes the report fail; and `codebattle giftcards reconcile / balance`
as an operator runs them."""

from __future__ import annotations

import asyncio
import itertools
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.routing import Mount
from typer.testing import CliRunner

from codebattle.cli import app
from codebattle.db.migrate import upgrade
from codebattle.db.session import Database
from codebattle.integrations.fake_giftishow import FakeGiftishow
from codebattle.integrations.giftishow import (
    CouponStatus,
    Giftishow,
    GiftUnavailable,
    Goods,
    Issued,
)
from codebattle.rewards import giftcards
from codebattle.rewards import reconcile as rc
from codebattle.rewards.models import GiftExchange
from tests.support.factories import make_user
from tests.support.fake_giftishow import client_of, running_fake, serving

PRICES = {"G00000000101": 3000, "G00000000102": 5000, "G00000000103": 4700}
_numbers = itertools.count(1)


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[FakeGiftishow, str]]:
    with running_fake() as running:
        yield running


def _tr() -> str:
    """A tr_id no other test (nor the other database's run) used at the shared fake."""
    return f"rc-{secrets.token_hex(4)}-{next(_numbers)}"


def _exchange(
    user_id: int,
    tr_id: str,
    state: str,
    goods_code: str = "G00000000101",
    *,
    won: int | None = None,
    order_no: str | None = None,
    created_at: datetime | None = None,
) -> GiftExchange:
    won = PRICES[goods_code] if won is None else won
    return GiftExchange(
        user_id=user_id,
        goods_code=goods_code,
        won=won,
        points=won,
        month="2026-12",
        tr_id=tr_id,
        request_key=f"req-{tr_id}",
        state=state,
        order_no=order_no,
        created_at=created_at or datetime.now(UTC),
    )


async def _send(client: Giftishow, goods_code: str = "G00000000101") -> Issued:
    return await client.issue(
        goods_code=goods_code, phone="01012345678", tr_id=_tr(), title="AI 코드배틀", message="m"
    )


async def test_every_disagreement_is_found(db: Database, served: tuple[FakeGiftishow, str]) -> None:
    fake, url = served
    client = client_of(url)
    try:
        ok = await _send(client)
        used = await _send(client, "G00000000102")
        fake.set_status(used.tr_id, "02")
        expired = await _send(client)
        fake.set_status(expired.tr_id, "08")
        gone = await _send(client)
        await client.cancel(gone.tr_id)
        both_cancelled = await _send(client)
        await client.cancel(both_cancelled.tr_id)
        live = await _send(client)
        issuing_there = await _send(client)
        priced = await _send(client, "G00000000103")
        other_goods = await _send(client, "G00000000102")
        other_order = await _send(client)
    finally:
        await client.aclose()
    missing, not_sent, pending, failed = _tr(), _tr(), _tr(), _tr()
    async with db.session() as session:
        user = await make_user(session)
        session.add_all(
            [
                _exchange(user.id, ok.tr_id, "issued", order_no=ok.order_no),
                _exchange(user.id, used.tr_id, "issued", "G00000000102"),
                _exchange(user.id, expired.tr_id, "issued"),
                _exchange(user.id, gone.tr_id, "issued"),
                _exchange(user.id, both_cancelled.tr_id, "cancelled"),
                _exchange(user.id, live.tr_id, "cancelled"),
                _exchange(user.id, issuing_there.tr_id, "issuing"),
                _exchange(user.id, priced.tr_id, "issued", "G00000000103", won=4500),
                _exchange(user.id, other_goods.tr_id, "issued", "G00000000101", won=5000),
                _exchange(user.id, other_order.tr_id, "issued", order_no="ORDER-NOT-THEIRS"),
                _exchange(user.id, missing, "issued"),
                _exchange(user.id, not_sent, "issuing"),
                _exchange(user.id, pending, "pending"),
                _exchange(user.id, failed, "failed"),
            ]
        )
        await session.commit()
    asked = len(fake.calls)
    async with db.session() as session:
        report = await rc.reconcile(session, client_of(url))
    assert len(fake.calls) - asked == 12  # pending and failed ones have no card to ask about
    assert report.checked == 12
    assert report.matched == 4  # ok, used, expired, both cancelled

    def tr_ids(kind: str) -> set[str]:
        return {f.tr_id for f in report.of(kind)}

    assert tr_ids(rc.MISSING) == {missing}
    assert tr_ids(rc.CANCELLED_THERE) == {gone.tr_id}
    assert tr_ids(rc.LIVE_THERE) == {live.tr_id}
    assert tr_ids(rc.ISSUED_THERE) == {issuing_there.tr_id}
    assert tr_ids(rc.PRICE) == {priced.tr_id}
    assert tr_ids(rc.GOODS) == {other_goods.tr_id}
    assert tr_ids(rc.ORDER) == {other_order.tr_id}
    assert tr_ids(rc.NOT_SENT) == {not_sent}
    assert not report.unreadable and not report.ok
    (priced_finding,) = report.of(rc.PRICE)
    assert "4500" in priced_finding.detail and "4700" in priced_finding.detail
    lines = report.lines()
    assert lines[0].startswith("checked 12, matched 4, discrepancies 7, unreadable 0")
    assert any(missing in line and line.startswith("missing:") for line in lines)


class _Down:
    """A provider that never answers."""

    async def goods(self) -> list[Goods]:
        raise GiftUnavailable("down")

    async def issue(
        self, *, goods_code: str, phone: str, tr_id: str, title: str, message: str
    ) -> Issued:
        raise GiftUnavailable("down")

    async def status(self, tr_id: str) -> CouponStatus | None:
        raise GiftUnavailable("down")

    async def cancel(self, tr_id: str) -> None:
        raise GiftUnavailable("down")

    async def balance(self) -> int:
        raise GiftUnavailable("down")

    async def aclose(self) -> None:
        return None


async def test_a_provider_that_cannot_answer_fails_the_report(db: Database) -> None:
    async with db.session() as session:
        user = await make_user(session)
        session.add(_exchange(user.id, _tr(), "issued"))
        await session.commit()
    async with db.session() as session:
        report = await rc.reconcile(session, _Down())
    assert (report.checked, report.matched) == (1, 0)
    assert [f.detail for f in report.unreadable] == ["unavailable"]
    assert not report.ok


async def test_since_leaves_older_exchanges_out(
    db: Database, served: tuple[FakeGiftishow, str]
) -> None:
    now = datetime.now(UTC)
    async with db.session() as session:
        user = await make_user(session)
        session.add(_exchange(user.id, _tr(), "issued", created_at=now - timedelta(days=40)))
        await session.commit()
    async with db.session() as session:
        client = client_of(served[1])
        everything = await rc.reconcile(session, client)
        recent = await rc.reconcile(session, client, since=now - timedelta(days=30))
        await client.aclose()
    assert (everything.checked, len(everything.of(rc.MISSING))) == (1, 1)
    assert (recent.checked, recent.ok) == (0, True)


# The command line ------------------------------------------------------------------------


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[FakeGiftishow, str]]:
    fake = FakeGiftishow(balance=50_000)
    with serving(Starlette(routes=[Mount("/fake-giftishow", app=fake.app)])) as url:
        monkeypatch.chdir(tmp_path)
        monkeypatch.setenv("DATA_DIR", str(tmp_path / "var"))
        monkeypatch.setenv("BASE_URL", url)
        monkeypatch.setenv("ENVIRONMENT", "development")
        for name in ("DATABASE_URL", "REDIS_URL", "GIFTISHOW_AUTH_CODE"):
            monkeypatch.delenv(name, raising=False)
        yield fake, url


def test_commands(site: tuple[FakeGiftishow, str], tmp_path: Path) -> None:
    fake, url = site
    database = f"sqlite+aiosqlite:///{tmp_path / 'var' / 'codebattle.db'}"
    upgrade(database)

    async def exchange() -> str:
        client, db = client_of(url + "/fake-giftishow"), Database(database)
        try:
            issued = await _send(client, "G00000000102")
            async with db.session() as session:
                user = await make_user(session)
                session.add(_exchange(user.id, issued.tr_id, "issued", "G00000000102"))
                await session.commit()
            return issued.tr_id
        finally:
            await client.aclose()
            await db.dispose()

    tr_id = asyncio.run(exchange())
    runner = CliRunner()
    balance = runner.invoke(app, ["giftcards", "balance"])
    assert balance.exit_code == 0, balance.output
    assert balance.stdout.strip() == "45,000 won"
    agreed = runner.invoke(app, ["giftcards", "reconcile"])
    assert agreed.exit_code == 0, agreed.output
    assert agreed.stdout.startswith("checked 1, matched 1, discrepancies 0")
    fake.set_status(tr_id, "07")  # cancelled from the provider's console
    drifted = runner.invoke(app, ["giftcards", "reconcile", "--days", "7"])
    assert drifted.exit_code == 1
    assert f"cancelled_at_provider: exchange 1 tr_id {tr_id}" in drifted.stdout


class _Selling(_Down):
    """A provider whose goods list is `selling` (nothing else answers)."""

    def __init__(self, selling: list[Goods]) -> None:
        self.selling = selling

    async def goods(self) -> list[Goods]:
        return self.selling


async def test_the_catalogue_is_checked_against_the_providers_goods(
    db: Database, served: tuple[FakeGiftishow, str]
) -> None:
    client = client_of(served[1])
    try:
        assert await rc.check_goods(client) == []  # the fake sells our catalogue as it is
    finally:
        await client.aclose()
    ours = list(giftcards.catalogue().values())
    selling = [
        Goods(c.code, c.code, c.brand, 5500 if c.code == "G00000000102" else c.won, None)
        for c in ours
        if c.code != "G00000000104"
    ]
    found = await rc.check_goods(_Selling(selling))
    assert {(f.code, f.kind) for f in found} == {
        ("G00000000104", rc.GOODS_MISSING),
        ("G00000000102", rc.GOODS_PRICE),
    }
    (priced,) = [f for f in found if f.kind == rc.GOODS_PRICE]
    assert "5000" in priced.detail and "5500" in priced.detail
    assert await rc.check_goods(_Down()) == [
        rc.GoodsFinding("", rc.GOODS_UNREADABLE, "unavailable")
    ]
    async with db.session() as session:
        report = await rc.reconcile(session, _Selling(selling), goods=True)
        quiet = await rc.reconcile(session, _Selling(selling))
    assert not report.ok and report.checked == 0
    assert any(
        line.startswith("goods_missing_at_provider: goods G00000000104") for line in report.lines()
    )
    assert quiet.ok and quiet.goods == []
