"""Our Giftishow client against the fake provider served by a real uvicorn on loopback:
every call, a wrong auth code, refusal codes (GiftRefused: no card), timeouts, 5xx and bad
JSON (GiftUnavailable: a card may exist), a repeated tr_id that never makes a second card,
a card issued whose answer was lost and then found by status, and no secret or phone
number in any log line."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from structlog.testing import capture_logs

from codebattle.app import create_app
from codebattle.config import Environment, Settings
from codebattle.integrations import fake_giftishow, giftishow
from codebattle.integrations.fake_giftishow import FakeGiftishow
from codebattle.integrations.giftishow import (
    CouponStatus,
    Giftishow,
    GiftRefused,
    GiftUnavailable,
    Issued,
    provider_for,
)
from tests.support.fake_giftishow import client_of, running_fake
from tests.support.site import settings_for

PHONE = "010-1234-5678"
SEND = {"title": "AI 코드배틀", "message": "포인트로 교환한 상품권입니다."}


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[FakeGiftishow, str]]:
    with running_fake() as running:
        yield running


@pytest.fixture
def fake(served: tuple[FakeGiftishow, str]) -> FakeGiftishow:
    served[0].faults.clear()
    return served[0]


@pytest.fixture
async def client(served: tuple[FakeGiftishow, str]) -> AsyncIterator[Giftishow]:
    gift = client_of(served[1], timeout=0.3)
    yield gift
    await gift.aclose()


async def _issue(client: Giftishow, tr_id: str, goods_code: str = "G00000000101") -> Issued:
    return await client.issue(goods_code=goods_code, phone=PHONE, tr_id=tr_id, **SEND)


async def test_goods_lists_the_catalogue_across_pages(
    served: tuple[FakeGiftishow, str],
) -> None:
    client = client_of(served[1])
    try:
        goods = await client.goods()
    finally:
        await client.aclose()
    by_code = {g.code: g for g in goods}
    assert list(by_code) == [f"G0000000010{n}" for n in range(1, 6)]
    assert by_code["G00000000103"].price_won == 4700
    assert by_code["G00000000103"].brand == "스타벅스"
    assert by_code["G00000000105"].price_won == 10000
    assert by_code["G00000000101"].image_url is None


async def test_issue_status_cancel_and_balance(fake: FakeGiftishow, client: Giftishow) -> None:
    before = await client.balance()
    issued = await _issue(client, "t-issue-1", "G00000000102")
    assert issued.tr_id == "t-issue-1" and issued.order_no
    coupon = fake.coupons["t-issue-1"]
    assert coupon.phone == "01012345678"  # digits only on the wire
    assert await client.balance() == before - 5000
    status = await client.status("t-issue-1")
    assert status == CouponStatus("t-issue-1", issued.order_no, "issued", "G00000000102", 5000)
    await client.cancel("t-issue-1")
    status = await client.status("t-issue-1")
    assert status is not None and status.status == "cancelled"
    assert await client.balance() == before
    with pytest.raises(GiftRefused) as refused:
        await client.cancel("t-issue-1")  # already cancelled
    assert refused.value.code == giftishow.NOT_CANCELLABLE


async def test_status_maps_used_and_expired(fake: FakeGiftishow, client: Giftishow) -> None:
    await _issue(client, "t-used-1")
    await _issue(client, "t-expired-1")
    fake.set_status("t-used-1", "02")
    fake.set_status("t-expired-1", "08")
    used, expired = await client.status("t-used-1"), await client.status("t-expired-1")
    assert used is not None and used.status == "used"
    assert expired is not None and expired.status == "expired"


async def test_unknown_tr_id_has_no_status(client: Giftishow) -> None:
    assert await client.status("t-never-sent") is None
    with pytest.raises(GiftRefused) as refused:
        await client.cancel("t-never-sent")
    assert refused.value.code == giftishow.UNKNOWN_TR_ID


async def test_wrong_auth_is_refused(
    fake: FakeGiftishow, served: tuple[FakeGiftishow, str]
) -> None:
    wrong = client_of(served[1], auth_token="not-the-token")
    made = fake.cards_made
    try:
        with pytest.raises(GiftRefused) as refused:
            await wrong.issue(goods_code="G00000000101", phone=PHONE, tr_id="t-auth-1", **SEND)
        assert refused.value.code == giftishow.UNAUTHORIZED
        with pytest.raises(GiftRefused):
            await wrong.balance()
    finally:
        await wrong.aclose()
    assert fake.cards_made == made


async def test_refusals_make_no_card(fake: FakeGiftishow, client: Giftishow) -> None:
    made = fake.cards_made
    with pytest.raises(GiftRefused) as refused:
        await _issue(client, "t-unknown-goods", "G99999999999")
    assert refused.value.code == giftishow.UNKNOWN_GOODS
    with pytest.raises(GiftRefused) as refused:
        await client.issue(goods_code="G00000000101", phone="12", tr_id="t-bad-phone", **SEND)
    assert refused.value.code == giftishow.BAD_REQUEST
    fake.fail_next("refuse", code="E0777")
    with pytest.raises(GiftRefused) as refused:
        await _issue(client, "t-refused-1")
    assert refused.value.code == "E0777"
    assert fake.cards_made == made
    assert await client.status("t-refused-1") is None
    assert (await _issue(client, "t-refused-1")).tr_id == "t-refused-1"  # the same id, later


async def test_business_money_too_low() -> None:
    with running_fake(balance=4000) as (fake, url):
        client = client_of(url)
        try:
            await _issue(client, "t-money-1", "G00000000101")
            with pytest.raises(GiftRefused) as refused:
                await _issue(client, "t-money-2", "G00000000101")
            assert refused.value.code == giftishow.NO_BIZMONEY
            assert await client.balance() == 1000
        finally:
            await client.aclose()
        assert fake.cards_made == 1


def test_tr_id_is_checked_before_sending() -> None:
    client = client_of("http://127.0.0.1:9")
    with pytest.raises(ValueError):
        asyncio.run(_issue(client, "x" * 26))


@pytest.mark.parametrize("kind", ["timeout", "http500", "garbage"])
async def test_no_usable_answer_is_unavailable_and_makes_no_card(
    fake: FakeGiftishow, client: Giftishow, kind: str
) -> None:
    made = fake.cards_made
    fake.fail_next(kind, delay=0.6)
    with pytest.raises(GiftUnavailable):
        await _issue(client, f"t-{kind}-1")
    assert fake.cards_made == made
    assert await client.status(f"t-{kind}-1") is None  # look, then send again: one card
    await _issue(client, f"t-{kind}-1")
    assert fake.cards_made == made + 1


async def test_unreachable_is_unavailable() -> None:
    client = client_of("http://127.0.0.1:9", timeout=0.5)  # nothing listens on port 9
    try:
        with pytest.raises(GiftUnavailable):
            await client.balance()
    finally:
        await client.aclose()


async def test_issued_but_reply_lost_then_status_finds_it(
    fake: FakeGiftishow, client: Giftishow
) -> None:
    made = fake.cards_made
    fake.fail_next("lost", delay=0.6)
    with pytest.raises(GiftUnavailable):
        await _issue(client, "t-lost-1", "G00000000104")
    assert fake.cards_made == made + 1  # the card exists although we heard nothing
    found = await client.status("t-lost-1")
    assert found is not None
    assert (found.status, found.goods_code, found.price_won) == ("issued", "G00000000104", 3900)
    assert found.order_no == fake.coupons["t-lost-1"].order_no


async def test_repeated_tr_id_never_issues_twice(fake: FakeGiftishow, client: Giftishow) -> None:
    first = await _issue(client, "t-twice-1")
    made, balance = fake.cards_made, fake.balance
    again = await _issue(client, "t-twice-1")  # a retry: the card that exists
    assert again == first
    assert (fake.cards_made, fake.balance) == (made, balance)
    assert fake.refused_duplicates >= 1


async def test_secrets_and_phone_numbers_are_never_logged(
    fake: FakeGiftishow, client: Giftishow, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with capture_logs() as logs:
        await _issue(client, "t-log-1")
        fake.fail_next("timeout", delay=0.6)
        with pytest.raises(GiftUnavailable) as unavailable:
            await _issue(client, "t-log-2")
        fake.fail_next("http500", path="/bizmoney")
        with pytest.raises(GiftUnavailable):
            await client.balance()
        fake.fail_next("refuse", code="E0777")
        with pytest.raises(GiftRefused) as refused:
            await _issue(client, "t-log-3")
    text = " ".join([repr(logs), caplog.text, repr(client), str(unavailable.value)])
    text += repr(refused.value)
    assert logs, "the failures were logged"
    for secret in (giftishow.FAKE_AUTH_CODE, giftishow.FAKE_AUTH_TOKEN, "01012345678", PHONE):
        assert secret not in text


def test_provider_for_chooses_real_fake_or_none() -> None:
    fake = provider_for(Settings(BASE_URL="http://127.0.0.1:8000"))
    assert isinstance(fake, Giftishow)
    assert fake.base_url == "http://127.0.0.1:8000/fake-giftishow" and fake.dev
    real = provider_for(
        Settings(
            GIFTISHOW_AUTH_CODE="REALcode",
            GIFTISHOW_AUTH_TOKEN="token",
            GIFTISHOW_USER_ID="ops@example.com",
            GIFTISHOW_CALLBACK_NO="0212345678",
            GIFTISHOW_TIMEOUT_SECONDS=3,
        )
    )
    assert isinstance(real, Giftishow)
    assert real.base_url == "https://bizapi.giftishow.com/bizApi"
    assert (real.dev, real.timeout) == (False, 3)
    assert "REALcode" not in repr(real) and "token" not in repr(real)
    production = Settings.model_construct(
        ENVIRONMENT=Environment.production, GIFTISHOW_AUTH_CODE=None, GIFTISHOW_AUTH_TOKEN=None
    )
    assert provider_for(production) is None
    with pytest.raises(RuntimeError):
        fake_giftishow.create_app(production)


def _bizmoney_form(code: str = giftishow.FAKE_AUTH_CODE) -> dict[str, str]:
    return {
        "api_code": "0301",
        "custom_auth_code": code,
        "custom_auth_token": giftishow.FAKE_AUTH_TOKEN,
        "dev_yn": "Y",
        "user_id": giftishow.FAKE_USER_ID,
    }


def test_the_site_serves_the_fake_outside_production_only(tmp_path: Path, sqlite_url: str) -> None:
    database = sqlite_url.replace("+aiosqlite", "")
    with TestClient(create_app(settings_for(tmp_path, DATABASE_URL=database))) as site:
        reply = site.post("/fake-giftishow/bizmoney", data=_bizmoney_form())  # no CSRF asked
        assert reply.status_code == 200, reply.text
        assert reply.json()["code"] == "0000" and int(reply.json()["result"]["balance"]) > 0
        wrong = site.post("/fake-giftishow/bizmoney", data=_bizmoney_form("nope"))
        assert wrong.json()["code"] == giftishow.UNAUTHORIZED
    production = settings_for(
        tmp_path,
        DATABASE_URL=database,
        ENVIRONMENT="production",
        BASE_URL="https://battle.example",
        SECRET_KEY="Zq8-vR2pL0xN7cT4kW9bY1mH6sD3fJ5gA0eU8iO2rQ7tP4wS",
    )
    with TestClient(create_app(production), base_url="https://battle.example") as site:
        assert site.post("/fake-giftishow/bizmoney", data=_bizmoney_form()).status_code == 404
