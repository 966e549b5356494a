"""Gift-card exchanges (rewards/giftcards.py) on SQLite and PostgreSQL, time injected:
caps by age and calendar month in Seoul, under-14 consent, the largest card, who needs an
operator's approval, good standing, one exchange per form, concurrent requests against a
balance and a cap that cover only a few, operators' decisions, and issuing through the
fake Giftishow on loopback: a refusal refunds, a lost answer or a crash ends "issued" with
one card, a timeout is sent again with the same tr_id."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from codebattle.accounts.models import AuditEntry, Notification, Sanction, User
from codebattle.config import Settings
from codebattle.db.session import Database
from codebattle.errors import UserError
from codebattle.fairplay.models import Flag
from codebattle.integrations.giftishow import CouponStatus, GiftUnavailable, Issued
from codebattle.progress import points
from codebattle.rewards import giftcards
from codebattle.rewards.models import GiftExchange, GiftMonth
from tests.support.factories import make_user
from tests.support.fake_giftishow import client_of, running_fake
from tests.support.site import settings_for

NOW = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)  # 12:00 in Seoul
CU3000, GS5000, STARBUCKS, BASKIN, CU10000 = (f"G0000000010{i}" for i in range(1, 6))
PHONE = "010-1234-5678"
_keys = itertools.count(1)


def key() -> str:
    return f"form-{next(_keys):06d}"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return settings_for(
        tmp_path, REWARD_MONTHLY_CAP_WON=10000, REWARD_MINOR_MONTHLY_CAP_WON=6000,
        REWARD_MAX_CARD_WON=5000, REWARD_APPROVAL_OVER_WON=3000, POINT_WON=1.0,
    )  # fmt: skip


async def player(
    db: Database, *, born: int | None = 1990, pts: int = 100000, consent: bool = False
) -> int:
    async with db.session() as session:
        user = await make_user(session)
        user.birth_year = born
        if consent:
            user.guardian_consent_at = NOW
        if pts:
            await points.earn(session, user.id, key=f"seed:{user.id}", reason="win", points=pts)
        await session.commit()
        return user.id


async def ask(
    db: Database, settings: Settings, user_id: int, goods: str = CU3000, *,
    now: datetime = NOW, request_key: str | None = None, phone: str = PHONE,
    consent: bool = True,
) -> GiftExchange:  # fmt: skip
    async with db.session() as session:
        user = await session.get(User, user_id)
        assert user is not None
        return await giftcards.request(
            session, user, goods, phone, consent, request_key or key(), now, settings
        )


async def refused(db: Database, settings: Settings, user_id: int, **kw: Any) -> UserError:
    with pytest.raises(UserError) as caught:
        await ask(db, settings, user_id, **kw)
    return caught.value


async def balance(db: Database, user_id: int) -> int:
    async with db.reading() as session:
        return await points.balance(session, user_id)


async def month_won(db: Database, user_id: int, month: str) -> int:
    async with db.reading() as session:
        return await giftcards.month_won(session, user_id, month)


async def clean_ledger(db: Database) -> None:
    async with db.session() as session:
        assert points.describe(await points.verify(session)) == []


async def mark_issued_before(db: Database, user_id: int) -> None:
    """An exchange issued earlier, so the next ones are no longer the first."""
    async with db.session() as session:
        session.add(GiftExchange(user_id=user_id, goods_code=CU3000, won=0, points=0,
                                 month="2026-01", tr_id=f"old{user_id}", state="issued",
                                 request_key=f"{user_id}:old"))  # fmt: skip
        await session.commit()


# ---- Rules ---------------------------------------------------------------------------------


async def test_monthly_caps_by_age_and_the_month_in_seoul(db: Database, settings: Settings) -> None:
    adult, minor = [await player(db, born=b) for b in (1990, 2010)]
    for _ in range(3):
        await ask(db, settings, adult)  # 9000 of 10000
    error = await refused(db, settings, adult)
    assert (error.status, error.key, error.params["left"]) == (409, "gift.cap_reached", 1000)
    await ask(db, settings, minor)  # 6000
    await ask(db, settings, minor)
    assert (await refused(db, settings, minor)).key == "gift.cap_reached"
    # 23:59 in Seoul on the 31st is still December; 00:00 on the 1st is January.
    last = datetime(2026, 12, 31, 14, 59, tzinfo=UTC)
    assert (await refused(db, settings, adult, now=last)).key == "gift.cap_reached"
    first = datetime(2026, 12, 31, 15, 0, tzinfo=UTC)
    january = await ask(db, settings, adult, now=first)
    assert january.month == "2027-01"
    assert await month_won(db, adult, "2026-12") == 9000
    assert await month_won(db, adult, "2027-01") == 3000
    await clean_ledger(db)


async def test_under_14_needs_a_guardians_consent(db: Database, settings: Settings) -> None:
    child = await player(db, born=2015)
    error = await refused(db, settings, child)
    assert (error.status, error.key) == (403, "gift.refused_guardian")
    consented = await player(db, born=2015, consent=True)
    assert (await ask(db, settings, consented)).state == "pending"


async def test_the_largest_card_and_bad_input(db: Database, settings: Settings) -> None:
    adult = await player(db, pts=4000)
    assert (await refused(db, settings, adult, goods=CU10000)).key == "gift.over_max"
    assert (await refused(db, settings, adult, goods="G999")).key == "gift.goods_unknown"
    for phone in ("", "02-123-4567", "010-12", "０１０１２３４５６７８", "010" + "1" * 40):
        assert (await refused(db, settings, adult, phone=phone)).key == "gift.phone_invalid"
    assert (await refused(db, settings, adult, consent=False)).key == "gift.consent_required"
    assert (await refused(db, settings, adult, request_key="x")).status == 422
    short = await refused(db, settings, adult, goods=GS5000)
    assert (short.status, short.key, short.params) == (
        409,
        "gift.points_short",
        {"need": 5000, "have": 4000},
    )
    # Nothing of the refused requests stayed: no exchange, no won of the month taken.
    assert await month_won(db, adult, "2026-12") == 0
    assert await balance(db, adult) == 4000
    async with db.reading() as session:
        assert await giftcards.of_user(session, adult) == []
    assert giftcards.check_phone("010 9876 5432") == "01098765432"


async def test_who_waits_for_an_operator(db: Database, settings: Settings) -> None:
    user_id = await player(db)
    first = await ask(db, settings, user_id, goods=CU3000)
    assert (first.state, first.approval_reason, first.next_try_at) == ("pending", "first", None)
    await mark_issued_before(db, user_id)
    small = await ask(db, settings, user_id, goods=CU3000)  # 3000: not over 3000
    assert (small.state, small.needs_approval) == ("approved", False)
    big = await ask(db, settings, user_id, goods=BASKIN)  # 3900
    assert (big.state, big.approval_reason) == ("pending", "over")
    assert len(small.tr_id) <= 25 and small.tr_id != big.tr_id
    assert small.points == 3000 and big.points == 3900


async def test_point_value_rounds_up(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, POINT_WON=7.0)
    card = giftcards.catalogue()[STARBUCKS]
    assert giftcards.price(card, settings) == 672  # 4700 / 7 = 671.4


async def test_only_accounts_in_good_standing(db: Database, settings: Settings) -> None:
    warned_long_ago, warned, suspended, flagged, cleared = [await player(db) for _ in range(5)]
    async with db.session() as session:
        for user_id, days in ((warned_long_ago, 40), (warned, 10)):
            session.add(Sanction(user_id=user_id, kind="warn", reason="x",
                                 starts_at=NOW - timedelta(days=days)))  # fmt: skip
        user = await session.get(User, suspended)
        assert user is not None
        user.suspended_until = NOW + timedelta(days=3)
        session.add(Flag(key="risk:f1", source="risk", level="high", score=0.9,
                         user_id=flagged, reasons=[]))  # fmt: skip
        session.add(Flag(key="risk:f2", source="risk", level="high", score=0.9, user_id=cleared,
                         reasons=[], decision="dismiss", status="decided"))  # fmt: skip
        session.add(Flag(key="risk:f3", source="risk", level="review", score=0.5,
                         user_id=cleared, reasons=[]))  # fmt: skip
        await session.commit()
    assert (await refused(db, settings, warned)).key == "gift.refused_warned"
    error = await refused(db, settings, suspended)
    assert (error.status, error.key, error.params) == (403, "gift.refused_suspended",
                                                       {"until": "2026-12-10"})  # fmt: skip
    assert (await refused(db, settings, flagged)).key == "gift.refused_flagged"
    await ask(db, settings, warned_long_ago)
    await ask(db, settings, cleared)
    assert await balance(db, warned) == 100000


async def test_the_same_form_twice_makes_one_exchange(db: Database, settings: Settings) -> None:
    user_id = await player(db)
    one = await ask(db, settings, user_id, request_key="double-click-1")
    two = await ask(db, settings, user_id, request_key="double-click-1")
    assert one.id == two.id
    both = await asyncio.gather(
        *(ask(db, settings, user_id, request_key="double-click-2") for _ in range(5))
    )
    assert len({x.id for x in both}) == 1
    assert await balance(db, user_id) == 100000 - 6000
    # Another user's form with the same key is another exchange.
    other = await player(db)
    assert (await ask(db, settings, other, request_key="double-click-1")).id != one.id
    await clean_ledger(db)


async def _race(db: Database, settings: Settings, user_id: int, n: int) -> list[Any]:
    return await asyncio.gather(
        *(ask(db, settings, user_id, goods=CU3000) for _ in range(n)), return_exceptions=True
    )


async def test_concurrent_requests_never_overdraw_nor_pass_the_cap(
    db: Database, settings: Settings
) -> None:
    # Points for three cards, the cap for more: exactly three pass.
    poor = await player(db, pts=9000)
    roomy = settings.model_copy(update={"REWARD_MONTHLY_CAP_WON": 100000})
    results = await _race(db, roomy, poor, 12)
    made = [r for r in results if isinstance(r, GiftExchange)]
    refusals = {r.key for r in results if isinstance(r, UserError)}
    assert len(made) == 3 and refusals == {"gift.points_short"}, results
    assert await balance(db, poor) == 0
    assert await month_won(db, poor, "2026-12") == 9000
    # The cap for three cards (10000), points for many: exactly three pass.
    rich = await player(db, pts=100000)
    results = await _race(db, settings, rich, 12)
    made = [r for r in results if isinstance(r, GiftExchange)]
    assert len(made) == 3, results
    assert {r.key for r in results if isinstance(r, UserError)} == {"gift.cap_reached"}
    assert await balance(db, rich) == 100000 - 9000
    assert await month_won(db, rich, "2026-12") == 9000
    await clean_ledger(db)


# ---- Operators' decisions ------------------------------------------------------------------


async def _staff(db: Database, role: str = "operator") -> int:
    async with db.session() as session:
        user = await make_user(session)
        user.role, user.birth_year = role, 1990
        await session.commit()
        return user.id


async def _decide(
    db: Database, how: str, actor_id: int, exchange_id: int, note: str = "ok",
    settings: Settings | None = None,
) -> Any:  # fmt: skip
    async with db.session() as session:
        actor = await session.get(User, actor_id)
        assert actor is not None
        if how == "approve":
            assert settings is not None
            return await giftcards.approve(session, actor, exchange_id, note, NOW, settings)
        return await giftcards.reject(session, actor, exchange_id, note, NOW)


async def test_approve_and_reject(db: Database, settings: Settings) -> None:
    user_id, operator = await player(db), await _staff(db)
    one = await ask(db, settings, user_id)
    two = await ask(db, settings, user_id, goods=GS5000)
    with pytest.raises(UserError) as caught:  # a player is not staff
        await _decide(db, "approve", user_id, one.id, settings=settings)
    assert caught.value.status == 404
    approved = await _decide(db, "approve", operator, one.id, settings=settings)
    assert approved.state == "approved" and approved.decided_by == operator
    assert approved.next_try_at == NOW
    with pytest.raises(UserError) as caught:
        await _decide(db, "reject", operator, one.id, "too late")
    assert (caught.value.status, caught.value.key) == (409, "gift.decided_already")
    with pytest.raises(UserError) as caught:
        await _decide(db, "reject", operator, two.id, "  ")
    assert caught.value.status == 422
    rejected = await _decide(db, "reject", operator, two.id, "account too new")
    assert (rejected.state, rejected.phone, rejected.refund_txn_id is not None) == (
        "rejected",
        None,
        True,
    )
    assert await balance(db, user_id) == 100000 - 3000
    assert await month_won(db, user_id, "2026-12") == 3000
    async with db.reading() as session:
        kinds = list(await session.scalars(
            select(Notification.kind).where(Notification.user_id == user_id)
            .order_by(Notification.id)
        ))  # fmt: skip
    assert kinds == ["gift_approved", "gift_rejected"]
    await clean_ledger(db)


async def test_nobody_decides_their_own_exchange(db: Database, settings: Settings) -> None:
    operator = await _staff(db)
    async with db.session() as session:
        await points.earn(session, operator, key="seed-op", reason="win", points=5000)
        await session.commit()
    own = await ask(db, settings, operator)
    with pytest.raises(UserError) as caught:
        await _decide(db, "approve", operator, own.id, settings=settings)
    assert (caught.value.status, caught.value.key) == (403, "own_case")
    with pytest.raises(UserError) as caught:
        await _decide(db, "approve", operator, 999999, settings=settings)
    assert caught.value.status == 404


# ---- Issuing -------------------------------------------------------------------------------


async def _approved(db: Database, settings: Settings) -> tuple[int, GiftExchange]:
    user_id = await player(db)
    await mark_issued_before(db, user_id)
    exchange = await ask(db, settings, user_id)
    assert exchange.state == "approved"
    return user_id, exchange


async def _state(db: Database, exchange_id: int) -> GiftExchange:
    async with db.reading() as session:
        found = await session.get(GiftExchange, exchange_id)
        assert found is not None
        return found


async def test_a_card_is_issued_and_the_phone_erased(db: Database, settings: Settings) -> None:
    user_id, exchange = await _approved(db, settings)
    with running_fake() as (fake, url):
        provider = client_of(url)
        report = await giftcards.issue_due(db, provider, settings, NOW)
        await provider.aclose()
    assert report.issued == [exchange.id] and fake.cards_made == 1
    done = await _state(db, exchange.id)
    assert (done.state, done.phone, done.tries, done.issued_at) == ("issued", None, 1, NOW)
    assert done.order_no == fake.coupons[exchange.tr_id].order_no
    assert fake.coupons[exchange.tr_id].phone == "01012345678"
    # Nothing is due any more: a second pass sends nothing.
    with running_fake() as (fake2, url2):
        provider = client_of(url2)
        assert (await giftcards.issue_due(db, provider, settings, NOW)).issued == []
        await provider.aclose()
    assert fake2.cards_made == 0


async def test_phone_kept_for_some_hours(db: Database, tmp_path: Path) -> None:
    settings = settings_for(tmp_path, REWARD_PHONE_KEEP_HOURS=2.0)
    _, exchange = await _approved(db, settings)
    with running_fake() as (_, url):
        provider = client_of(url)
        await giftcards.issue_due(db, provider, settings, NOW)
        await provider.aclose()
    assert (await _state(db, exchange.id)).phone == "01012345678"
    async with db.session() as session:
        assert await giftcards.erase_phones(session, NOW + timedelta(hours=1)) == 0
        assert await giftcards.erase_phones(session, NOW + timedelta(hours=2)) == 1
    assert (await _state(db, exchange.id)).phone is None


async def test_a_refusal_gives_everything_back(db: Database, settings: Settings) -> None:
    user_id, exchange = await _approved(db, settings)
    with running_fake() as (fake, url):
        fake.fail_next("refuse", code="E0004")
        provider = client_of(url)
        report = await giftcards.issue_due(db, provider, settings, NOW)
        await provider.aclose()
    assert report.failed == [giftcards.Failure(exchange.id, "refused", "E0004")]
    failed = await _state(db, exchange.id)
    assert (failed.state, failed.provider_code, failed.phone) == ("failed", "E0004", None)
    assert fake.cards_made == 0
    assert await balance(db, user_id) == 100000
    assert await month_won(db, user_id, "2026-12") == 0
    await clean_ledger(db)


async def test_a_lost_answer_is_looked_up_not_sent_again(db: Database, settings: Settings) -> None:
    _, exchange = await _approved(db, settings)
    with running_fake() as (fake, url):
        fake.fail_next("lost", delay=0.6)  # the card is made, the answer comes too late
        provider = client_of(url, timeout=0.2)
        first = await giftcards.issue_due(db, provider, settings, NOW)
        assert first.retrying == [exchange.id] and fake.cards_made == 1
        assert (await _state(db, exchange.id)).state == "issuing"
        # Not due before its backoff; then the status lookup finds the card.
        assert (await giftcards.issue_due(db, provider, settings, NOW)).retrying == []
        later = giftcards.retry_at(NOW, 1, settings)
        assert (await _state(db, exchange.id)).next_try_at == later
        second = await giftcards.issue_due(db, provider, settings, later)
        await provider.aclose()
        assert second.issued == [exchange.id]
        assert fake.cards_made == 1 and fake.refused_duplicates == 0
    assert (await _state(db, exchange.id)).state == "issued"


async def test_a_failed_send_is_retried_with_the_same_tr_id(
    db: Database, settings: Settings
) -> None:
    _, exchange = await _approved(db, settings)
    with running_fake() as (fake, url):
        fake.fail_next("http500", times=2)
        provider = client_of(url)
        moment = NOW
        for _ in range(2):
            assert (await giftcards.issue_due(db, provider, settings, moment)).retrying == [
                exchange.id
            ]
            moment += timedelta(hours=1)
        report = await giftcards.issue_due(db, provider, settings, moment)
        await provider.aclose()
    assert report.issued == [exchange.id]
    assert list(fake.coupons) == [exchange.tr_id]  # one card, under our tr_id
    assert (await _state(db, exchange.id)).tries == 3


async def test_a_crash_after_issuing_is_resolved_at_the_next_pass(
    db: Database, settings: Settings
) -> None:
    _, sent = await _approved(db, settings)
    _, unsent = await _approved(db, settings)
    with running_fake() as (fake, url):
        provider = client_of(url)
        # Both marked "issuing" and committed; then the process died: one after the
        # provider made the card, one before it was called.
        for exchange in (sent, unsent):
            assert await giftcards._claim(db, exchange.id, NOW, settings) is not None
        await provider.issue(goods_code=CU3000, phone="01012345678", tr_id=sent.tr_id,
                             title="t", message="m")  # fmt: skip
        later = NOW + timedelta(hours=1)
        report = await giftcards.issue_due(db, provider, settings, later)
        await provider.aclose()
    assert sorted(report.issued) == sorted([sent.id, unsent.id])
    assert sorted(fake.coupons) == sorted([sent.tr_id, unsent.tr_id])
    assert fake.refused_duplicates == 0


@dataclass
class Silent:
    """A provider that never answers a send and knows no card: the give-up path."""

    sends: list[str] = field(default_factory=list)

    async def goods(self) -> list[Any]:
        return []

    async def issue(self, *, goods_code: str, phone: str, tr_id: str, title: str,
                    message: str) -> Issued:  # fmt: skip
        self.sends.append(tr_id)
        raise GiftUnavailable("timeout")

    async def status(self, tr_id: str) -> CouponStatus | None:
        return None

    async def cancel(self, tr_id: str) -> None:
        return None

    async def balance(self) -> int:
        return 0

    async def aclose(self) -> None:
        return None


async def test_gives_up_after_max_tries_and_refunds(db: Database, settings: Settings) -> None:
    user_id, exchange = await _approved(db, settings)
    provider = Silent()
    moment = NOW
    failed: list[giftcards.Failure] = []
    for _ in range(giftcards.MAX_TRIES + 1):
        failed += (await giftcards.issue_due(db, provider, settings, moment)).failed
        moment += timedelta(hours=2)
    assert provider.sends == [exchange.tr_id] * giftcards.MAX_TRIES
    assert failed == [giftcards.Failure(exchange.id, "gave_up", "")]
    assert (await _state(db, exchange.id)).state == "failed"
    assert await balance(db, user_id) == 100000
    async with db.reading() as session:
        row = await session.get(GiftMonth, (user_id, "2026-12"))
        assert row is not None and row.won == 0
    await clean_ledger(db)


# ---- Review fixes: refusals not taken at their word, leases, standing, age, phones, cancel --


async def test_an_unknown_age_is_refused_and_asked_for(db: Database, settings: Settings) -> None:
    unknown = await player(db, born=None)
    error = await refused(db, settings, unknown)
    assert (error.status, error.key) == (403, "gift.refuse.age_unknown")
    assert await balance(db, unknown) == 100000


async def test_an_unknown_refusal_code_is_looked_up_not_refunded(
    db: Database, settings: Settings
) -> None:
    user_id, exchange = await _approved(db, settings)
    with running_fake() as (fake, url):
        fake.fail_next("refuse", code="E0777")  # a code we give no meaning to
        provider = client_of(url)
        first = await giftcards.issue_due(db, provider, settings, NOW)
        assert first.failed == [] and first.retrying == [exchange.id]
        assert (await _state(db, exchange.id)).state == "issuing"
        assert await balance(db, user_id) == 100000 - 3000  # nothing given back blindly
        # The next try looks the tr_id up (no card), then sends again with it.
        second = await giftcards.issue_due(db, provider, settings, NOW + timedelta(hours=1))
        await provider.aclose()
    assert second.issued == [exchange.id]
    assert list(fake.coupons) == [exchange.tr_id]
    await clean_ledger(db)


async def _claimed_with_card(db: Database, settings: Settings, provider: Any) -> GiftExchange:
    """An exchange whose first try made the card, then the process died (still
    "issuing", tries 1)."""
    _, exchange = await _approved(db, settings)
    assert await giftcards._claim(db, exchange.id, NOW, settings) is not None
    await provider.issue(goods_code=CU3000, phone="01012345678", tr_id=exchange.tr_id,
                         title="t", message="m")  # fmt: skip
    return exchange


@pytest.mark.parametrize("code", ["E0777", "E0004"])
async def test_a_refusal_on_a_retry_is_not_trusted_while_a_card_exists(
    db: Database, settings: Settings, code: str
) -> None:
    # The card exists; the provider's lookup lags (no such tr_id yet), and the repeated
    # send is refused under a duplicate code we do not know (or a "no card" code).
    with running_fake() as (fake, url):
        provider = client_of(url)
        exchange = await _claimed_with_card(db, settings, provider)
        fake.fail_next("refuse", path="/coupons", code="E0009")
        fake.fail_next("refuse", path="/send", code=code)
        report = await giftcards.issue_due(db, provider, settings, NOW + timedelta(hours=1))
        await provider.aclose()
    assert report.failed == [] and report.issued == [exchange.id]
    done = await _state(db, exchange.id)
    assert (done.state, done.refund_txn_id) == ("issued", None)
    assert fake.cards_made == 1
    await clean_ledger(db)


async def test_a_known_refusal_on_a_retry_refunds_once_the_lookup_finds_nothing(
    db: Database, settings: Settings
) -> None:
    user_id, exchange = await _approved(db, settings)
    with running_fake() as (fake, url):
        fake.fail_next("http500")
        provider = client_of(url)
        assert (await giftcards.issue_due(db, provider, settings, NOW)).retrying == [exchange.id]
        fake.fail_next("refuse", code="E0004")
        later = NOW + timedelta(hours=1)
        report = await giftcards.issue_due(db, provider, settings, later)
        await provider.aclose()
    assert report.failed == [giftcards.Failure(exchange.id, "refused", "E0004")]
    # Looked up before sending, and again after the refusal.
    assert fake.calls.count("0201") == 2 and fake.cards_made == 0
    assert await balance(db, user_id) == 100000
    await clean_ledger(db)


@dataclass
class Hanging(Silent):
    """A provider whose send never answers (longer than any client timeout)."""

    async def issue(self, *, goods_code: str, phone: str, tr_id: str, title: str,
                    message: str) -> Issued:  # fmt: skip
        self.sends.append(tr_id)
        await asyncio.sleep(3600)
        raise AssertionError("not reached")


async def test_a_claims_lease_starts_when_it_is_claimed_and_a_pass_has_a_budget(
    db: Database, tmp_path: Path
) -> None:
    settings = settings_for(tmp_path, GIFTISHOW_TIMEOUT_SECONDS=0.05)
    exchanges = [(await _approved(db, settings))[1] for _ in range(3)]
    lease = giftcards.lease(settings)
    assert lease >= timedelta(seconds=2 * 0.05) + giftcards.LEASE_MARGIN
    ticks = iter([0.0, 0.0, 45.0, 61.0])  # the pass's start, then before each claim
    provider = Hanging()
    report = await giftcards.issue_due(db, provider, settings, NOW, clock=lambda: next(ticks))
    # The hanging send was cut off within the lease: the try waits for a lookup.
    assert report.retrying == [exchanges[0].id, exchanges[1].id] and report.stopped_early
    first, second, third = [await _state(db, x.id) for x in exchanges]
    assert first.next_try_at == giftcards.retry_at(NOW, 1, settings)
    assert second.next_try_at == giftcards.retry_at(NOW + timedelta(seconds=45), 1, settings)
    assert second.next_try_at is not None
    assert second.next_try_at - timedelta(seconds=45) - NOW >= lease
    assert (third.state, third.tries) == ("approved", 0)  # left for the next pass


async def _suspend(db: Database, user_id: int) -> None:
    async with db.session() as session:
        user = await session.get(User, user_id)
        assert user is not None
        user.suspended_until = NOW + timedelta(days=3)
        await session.commit()


async def test_approving_checks_the_standing_again(db: Database, settings: Settings) -> None:
    user_id, operator = await player(db), await _staff(db)
    exchange = await ask(db, settings, user_id)
    async with db.session() as session:
        session.add(Sanction(user_id=user_id, kind="warn", reason="x", starts_at=NOW))
        await session.commit()
    with pytest.raises(UserError) as caught:
        await _decide(db, "approve", operator, exchange.id, settings=settings)
    assert (caught.value.status, caught.value.key) == (409, "gift.refused_warned")
    assert caught.value.params == {"days": giftcards.WARNING_DAYS}
    assert (await _state(db, exchange.id)).state == "pending"


async def _notes(db: Database, user_id: int) -> list[str]:
    async with db.reading() as session:
        return list(await session.scalars(
            select(Notification.kind).where(Notification.user_id == user_id)
            .order_by(Notification.id)
        ))  # fmt: skip


async def test_the_issuing_claim_holds_back_an_account_out_of_standing(
    db: Database, settings: Settings
) -> None:
    fresh_user, fresh = await _approved(db, settings)
    tried_user, tried = await _approved(db, settings)
    with running_fake() as (fake, url):
        provider = client_of(url)
        # `tried`'s first send got no answer (no card): it waits for a lookup.
        assert await giftcards._claim(db, tried.id, NOW, settings) is not None
        for user_id in (fresh_user, tried_user):
            await _suspend(db, user_id)
        report = await giftcards.issue_due(db, provider, settings, NOW + timedelta(hours=1))
        await provider.aclose()
    assert sorted(report.held) == sorted([fresh.id, tried.id]) and report.issued == []
    assert fake.cards_made == 0 and "0204" not in fake.calls  # nothing sent
    for user_id, exchange in ((fresh_user, fresh), (tried_user, tried)):
        held = await _state(db, exchange.id)
        assert (held.state, held.provider_code, held.phone) == ("rejected", "standing", None)
        assert await balance(db, user_id) == 100000
        assert await month_won(db, user_id, "2026-12") == 0
        assert await _notes(db, user_id) == ["gift_held"]
    await clean_ledger(db)


async def test_the_sweep_closes_stale_exchanges_and_forgets_deleted_phones(
    db: Database, tmp_path: Path
) -> None:
    settings = settings_for(
        tmp_path, REWARD_MONTHLY_CAP_WON=10000, REWARD_MINOR_MONTHLY_CAP_WON=6000,
        REWARD_MAX_CARD_WON=5000, REWARD_APPROVAL_OVER_WON=3000, POINT_WON=1.0,
        REWARD_PHONE_KEEP_HOURS=48.0,
    )  # fmt: skip
    old = NOW - timedelta(days=giftcards.STALE_DAYS, minutes=1)
    waiting_user = await player(db)
    stale = await ask(db, settings, waiting_user, now=old)  # pending since November
    recent = await ask(db, settings, waiting_user, now=NOW - timedelta(days=13))
    gone_user = await player(db)
    await mark_issued_before(db, gone_user)
    gone_pending = await ask(db, settings, gone_user, goods=BASKIN)  # over 3000: pending
    gone_issued = await ask(db, settings, gone_user)
    with running_fake() as (_, url):
        provider = client_of(url)
        assert (await giftcards.issue_due(db, provider, settings, NOW)).issued == [gone_issued.id]
        await provider.aclose()
    assert (await _state(db, gone_issued.id)).phone == "01012345678"  # kept 48 hours
    async with db.session() as session:
        user = await session.get(User, gone_user)
        assert user is not None
        user.deleted_at = NOW
        await session.commit()
    async with db.session() as session:
        closed = await giftcards.sweep(session, NOW)
    assert sorted(closed) == sorted([stale.id, gone_pending.id])
    one = await _state(db, stale.id)
    assert (one.state, one.provider_code, one.phone) == ("rejected", "stale", None)
    assert (await _state(db, recent.id)).phone == "01012345678"  # 13 days: still waits
    assert (await _state(db, gone_pending.id)).provider_code == "deleted"
    assert (await _state(db, gone_issued.id)).phone is None
    assert await balance(db, waiting_user) == 100000 - recent.points
    assert stale.month == recent.month == "2026-11"
    assert await month_won(db, waiting_user, "2026-11") == recent.won
    assert await _notes(db, waiting_user) == ["gift_expired"]
    assert await _notes(db, gone_user) == ["gift_issued"]  # the deleted are not told
    async with db.session() as session:
        assert await giftcards.sweep(session, NOW) == []
    await clean_ledger(db)


async def _cancel(
    db: Database, actor_id: int, exchange_id: int, provider: Any, note: str = "sent by mistake"
) -> GiftExchange:
    async with db.session() as session:
        actor = await session.get(User, actor_id)
        assert actor is not None
        return await giftcards.cancel(session, actor, exchange_id, note, NOW, provider)


async def test_an_operator_cancels_an_unused_card(db: Database, settings: Settings) -> None:
    operator = await _staff(db)
    user_id, unused = await _approved(db, settings)
    _, used = await _approved(db, settings)
    with running_fake() as (fake, url):
        provider = client_of(url)
        report = await giftcards.issue_due(db, provider, settings, NOW)
        assert sorted(report.issued) == sorted([unused.id, used.id])
        fake.set_status(used.tr_id, "02")  # the player already used it
        for who, exchange_id, note, status in (
            (user_id, unused.id, "x", 404),  # a player is not staff
            (operator, unused.id, " ", 422),  # a reason is required
            (operator, used.id, "x", 409),  # used: cannot be cancelled
        ):
            with pytest.raises(UserError) as caught:
                await _cancel(db, who, exchange_id, provider, note)
            assert caught.value.status == status
        assert caught.value.key == "gift.cancel_used"
        balance_before = fake.balance
        done = await _cancel(db, operator, unused.id, provider)
        with pytest.raises(UserError) as caught:
            await _cancel(db, operator, unused.id, provider)
        await provider.aclose()
    assert (caught.value.status, caught.value.key) == (409, "gift.cancel_not_issued")
    assert (done.state, done.decided_by, done.refund_txn_id is not None) == (
        "cancelled", operator, True,
    )  # fmt: skip
    assert fake.coupons[unused.tr_id].pin_status == "07" and fake.balance == balance_before + 3000
    assert (await _state(db, used.id)).state == "issued"
    assert await balance(db, user_id) == 100000
    assert await month_won(db, user_id, "2026-12") == 0
    assert (await _notes(db, user_id))[-1] == "gift_cancelled"
    async with db.reading() as session:
        actions = list(await session.scalars(
            select(AuditEntry.action).where(AuditEntry.target == f"gift:{unused.id}")
        ))  # fmt: skip
    assert "gift_cancel" in actions
    await clean_ledger(db)
