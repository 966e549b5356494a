"""Points exchanged for mobile gift cards (issue 15, docs/progress.md): who may, how much,
and how a card is issued exactly once.

Rules, all from the settings and with time injected:
- Only accounts in good standing: onboarded, not banned nor suspended, no warning within
  WARNING_DAYS (a warning is a sanction without an end; a recent one means an operator
  found something, so no money-like value for a while), no open "high" fair-play flag.
- Under 14 only with a guardian's consent recorded (users.guardian_consent_at). An
  unknown age is refused (the user is asked to tell us their birth year): we could not
  tell whether a guardian's consent is needed.
- A card is at most REWARD_MAX_CARD_WON. Per calendar month in PLAN_TIMEZONE a user
  exchanges at most REWARD_MONTHLY_CAP_WON, or REWARD_MINOR_MONTHLY_CAP_WON under 19 (an
  unknown age never reaches the caps: `refusal` refuses it first).
- A user's first exchange (none issued yet) and any card over REWARD_APPROVAL_OVER_WON
  wait for an operator ("pending"); the others go straight to "approved".

One request is one transaction: the month's won taken by a conditional UPDATE on
gift_months (never past the cap, however many requests race), the points held by the
ledger (`gift:<id>`: never below zero), the exchange row (its form's request key unique
per user: a double-clicked form makes one exchange). A refusal rolls all of it back.

Good standing is checked again when an operator approves (409 with the reason) and when
the issuing pass claims the exchange: an account that fell out of it is held back
(rejected, "standing": points and month given back, the player told).

Issuing (`issue_due`, run by `running`): the exchange is marked "issuing" and committed
BEFORE the provider is called, with a try counted and a lease (`next_try_at`) taken from
the moment of the claim and longer than every provider call the try may make, which are
bounded by it. A try after the first looks the card up by its tr_id before sending again,
so a timeout whose card was made, or a crash between "issuing" and the answer, ends
"issued" without a second card. A refusal is final only on a first send and with a code
that says no card was made (giftishow.NO_CARD); any other refusal is looked up by tr_id
like a timeout, and the points go back only once the provider confirms there is no card.
MAX_TRIES tries the provider confirms made nothing end "failed" too. A pass stops after
PASS_BUDGET so the exchanges it listed are claimed while still due.

The periodic sweep (`sweep`): exchanges left pending or approved for STALE_DAYS are
closed (points and month back, phone erased, player told), and the phone numbers of
deleted accounts are erased (accounts sit below rewards, so deletion itself cannot).
An operator may cancel an issued card not yet used (`cancel`): the provider cancels it,
the points and month go back."""

from __future__ import annotations

import asyncio
import math
import re
import secrets
import time
import tomllib
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog
from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from codebattle.accounts import audit, notifications, profiles, sanctions
from codebattle.accounts.models import WARN, Sanction, User
from codebattle.accounts.providers import ADULT, UNDER14
from codebattle.accounts.roles import is_staff
from codebattle.battles import live
from codebattle.config import Settings
from codebattle.db.session import Database
from codebattle.errors import UserError
from codebattle.fairplay.models import Flag
from codebattle.integrations.giftishow import (
    NO_CARD,
    NOT_CANCELLABLE,
    GiftError,
    GiftProvider,
    GiftRefused,
    provider_for,
)
from codebattle.progress import points
from codebattle.progress.models import PointTransaction
from codebattle.rewards.forms import valid_request_key
from codebattle.rewards.models import GiftExchange, GiftMonth

if TYPE_CHECKING:
    from codebattle.services import Services

log = structlog.get_logger(__name__)

PENDING, APPROVED, ISSUING = "pending", "approved", "issuing"
ISSUED, REJECTED, FAILED, CANCELLED = "issued", "rejected", "failed", "cancelled"
DUE = (APPROVED, ISSUING)  # what the issuing pass works on
FINAL = (ISSUED, REJECTED, FAILED, CANCELLED)
FIRST, OVER = "first", "over"  # why an exchange waits for an operator

REASON_HOLD, REASON_REFUND = "giftcard", "giftcard_refund"  # the ledger's reasons
WARNING_DAYS = 30
MAX_TRIES = 5  # sends that the provider confirmed made nothing, before "failed"
STALE_DAYS = 14  # pending or approved this long: closed, the phone number erased
CALLS_PER_TRY = 4  # status, send, the client's lookup of a duplicate, the lookup of a refusal
LEASE_MARGIN = timedelta(seconds=30)  # the claim's lease past its calls' longest time
PASS_BUDGET = timedelta(seconds=60)  # an issuing pass claims nothing after running this long
HELD_STANDING, HELD_STALE, HELD_DELETED = "standing", "stale", "deleted"  # system rejections
PHONE = re.compile(r"^01[016789][0-9]{7,8}$")  # a Korean mobile number, digits only
NOTE_MAX = 1000
MMS_TITLE = "코드배틀 상품권"  # Giftishow: at most 10 characters
MMS_MESSAGE = "AI Code Battle 포인트로 교환하신 모바일 상품권입니다."
LINK = "/rewards/giftcards"


# ---- The goods ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Card:
    """A card on offer (rewards/data/giftcards.toml). Its name: `gift.goods.<code>`."""

    code: str
    brand: str
    won: int

    @property
    def name_key(self) -> str:
        return f"gift.goods.{self.code}"


@cache
def catalogue() -> dict[str, Card]:
    data = tomllib.loads((Path(__file__).parent / "data" / "giftcards.toml").read_text())
    return {
        spec["code"]: Card(str(spec["code"]), str(spec.get("brand", "")), int(spec["won"]))
        for spec in data["goods"]
    }


def price(card: Card, settings: Settings) -> int:
    """A card's price in points: its won at POINT_WON each, rounded up."""
    return math.ceil(card.won / settings.POINT_WON)


# ---- Who may, and how much ---------------------------------------------------------------


def month_of(now: datetime, settings: Settings) -> str:
    """The calendar month `now` falls in, in PLAN_TIMEZONE ("2026-12")."""
    return now.astimezone(settings.plan_zone).strftime("%Y-%m")


def is_minor(user: User, now: datetime, settings: Settings) -> bool:
    """Under 19 for the caps. An unknown age is refused before any cap is read
    (`refusal`); were one asked about here, it would get the lower cap."""
    return profiles.age_band_of(user, now, settings.plan_zone) != ADULT


def monthly_cap(user: User, now: datetime, settings: Settings) -> int:
    if is_minor(user, now, settings):
        return settings.REWARD_MINOR_MONTHLY_CAP_WON
    return settings.REWARD_MONTHLY_CAP_WON


async def month_won(session: AsyncSession, user_id: int, month: str) -> int:
    won = await session.scalar(
        select(GiftMonth.won).where(GiftMonth.user_id == user_id, GiftMonth.month == month)
    )
    return int(won or 0)


async def cap_left(session: AsyncSession, user: User, now: datetime, settings: Settings) -> int:
    """Won the user may still exchange this month."""
    used = await month_won(session, user.id, month_of(now, settings))
    return max(0, monthly_cap(user, now, settings) - used)


async def _warned(session: AsyncSession, user_ids: Collection[int], now: datetime) -> set[int]:
    """Which of these users had a warning within WARNING_DAYS (not lifted): one query."""
    rows = await session.scalars(
        select(Sanction.user_id).where(
            Sanction.user_id.in_(user_ids),
            Sanction.kind == WARN,
            Sanction.lifted_at.is_(None),
            Sanction.starts_at > now - timedelta(days=WARNING_DAYS),
            Sanction.starts_at <= now,
        )
    )
    return set(rows)


async def _flagged(session: AsyncSession, user_ids: Collection[int]) -> set[int]:
    """Which of these users have a "high" fair-play flag still undecided: one query."""
    rows = await session.scalars(
        select(Flag.user_id).where(
            Flag.user_id.in_(user_ids), Flag.level == "high", Flag.decision.is_(None)
        )
    )
    return set(rows)


def _judge(
    user: User, now: datetime, settings: Settings, *, warned: bool, flagged: bool
) -> UserError | None:
    """The refusal for this user given what was read of their warnings and flags."""
    if user.is_ai or user.deleted_at is not None or user.onboarded_at is None:
        return UserError(403, "gift.refused_account")
    if sanctions.banned(user):
        return UserError(403, "gift.refused_banned")
    if sanctions.suspended(user, now):
        assert user.suspended_until is not None
        until = sanctions.local_date(user.suspended_until, settings.plan_zone)
        return UserError(403, "gift.refused_suspended", until=until)
    if warned:
        return UserError(403, "gift.refused_warned", days=WARNING_DAYS)
    if flagged:
        return UserError(403, "gift.refused_flagged")
    band = profiles.age_band_of(user, now, settings.plan_zone)
    if band is None:
        # An unknown age may be under 14, where a guardian's consent is needed: refused
        # until the user tells us their birth year.
        return UserError(403, "gift.refuse.age_unknown")
    if band == UNDER14 and user.guardian_consent_at is None:
        return UserError(403, "gift.refused_guardian")
    return None


async def refusal(
    session: AsyncSession, user: User, now: datetime, settings: Settings
) -> UserError | None:
    """Why this user may not exchange points now (the error to raise or show), or None."""
    warned = user.id in await _warned(session, [user.id], now)
    flagged = user.id in await _flagged(session, [user.id])
    return _judge(user, now, settings, warned=warned, flagged=flagged)


def open_for_exchanges(settings: Settings) -> bool:
    """Exchanges are open when a provider issues the cards (Giftishow, or the fake)."""
    return settings.GIFTISHOW_AUTH_CODE is not None or settings.fake_giftcards


def check_phone(value: object) -> str:
    """A Korean mobile number (010, 011, 016-019), its digits only: "010-1234-5678" and
    "010 1234 5678" are "01012345678"."""
    text = value if isinstance(value, str) else ""
    digits = "".join(ch for ch in text if ch.isascii() and ch.isdigit())
    if len(text) > 40 or not PHONE.match(digits):
        raise UserError(422, "gift.phone_invalid")
    return digits


def masked(phone: str | None) -> str:
    """A phone number as pages show it: "010-****-5678"."""
    if not phone:
        return ""
    return f"{phone[:3]}-****-{phone[-4:]}"


# ---- Requesting --------------------------------------------------------------------------


def _card(goods_code: object, settings: Settings) -> Card:
    card = catalogue().get(goods_code) if isinstance(goods_code, str) else None
    if card is None:
        raise UserError(422, "gift.goods_unknown")
    if card.won > settings.REWARD_MAX_CARD_WON:
        raise UserError(422, "gift.over_max", limit=settings.REWARD_MAX_CARD_WON)
    return card


async def _by_request_key(session: AsyncSession, stored_key: str) -> GiftExchange | None:
    return await session.scalar(
        select(GiftExchange)
        .where(GiftExchange.request_key == stored_key)
        .execution_options(populate_existing=True)
    )


async def _take_month(session: AsyncSession, user_id: int, month: str, won: int, cap: int) -> bool:
    """Take `won` of the month's cap: one conditional UPDATE (the row made first, in a
    savepoint, when missing). False when it would pass the cap."""
    if await session.get(GiftMonth, (user_id, month)) is None:
        try:
            async with session.begin_nested():
                session.add(GiftMonth(user_id=user_id, month=month, won=0))
        except IntegrityError:
            pass  # made at this moment by another request
    result = await session.execute(
        update(GiftMonth)
        .where(GiftMonth.user_id == user_id, GiftMonth.month == month)
        .where(GiftMonth.won + won <= cap)
        .values(won=GiftMonth.won + won)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


async def _give_month_back(session: AsyncSession, exchange: GiftExchange) -> None:
    await session.execute(
        update(GiftMonth)
        .where(GiftMonth.user_id == exchange.user_id, GiftMonth.month == exchange.month)
        .where(GiftMonth.won >= exchange.won)
        .values(won=GiftMonth.won - exchange.won)
        .execution_options(synchronize_session=False)
    )


async def _needs_approval(session: AsyncSession, user_id: int, won: int, settings: Settings) -> str:
    """Why an operator must approve ("first": nothing issued to this user yet; "over":
    above REWARD_APPROVAL_OVER_WON), or "" when no one needs to."""
    issued = await session.scalar(
        select(func.count())
        .select_from(GiftExchange)
        .where(GiftExchange.user_id == user_id, GiftExchange.state == ISSUED)
    )
    if not issued:
        return FIRST
    if won > settings.REWARD_APPROVAL_OVER_WON:
        return OVER
    return ""


async def request(
    session: AsyncSession,
    user: User,
    goods_code: object,
    phone: object,
    consent: bool,
    request_key: object,
    now: datetime,
    settings: Settings,
) -> GiftExchange:
    """Exchange points for a card, in one transaction (committed here). The same
    `request_key` again returns the first exchange and changes nothing. Raises UserError
    (4xx) for every refusal, having changed nothing."""
    if not open_for_exchanges(settings):
        raise UserError(409, "gift.closed")
    if not isinstance(request_key, str) or not valid_request_key(request_key):
        raise UserError(422, "gift.request_key_invalid")
    stored_key = f"{user.id}:{request_key}"
    existing = await _by_request_key(session, stored_key)
    if existing is not None:
        return existing
    card = _card(goods_code, settings)
    number = check_phone(phone)
    if not consent:
        raise UserError(422, "gift.consent_required")
    refused = await refusal(session, user, now, settings)
    if refused is not None:
        raise refused
    month, cost = month_of(now, settings), price(card, settings)
    why = await _needs_approval(session, user.id, card.won, settings)
    try:
        async with session.begin_nested():
            exchange = GiftExchange(
                user_id=user.id, goods_code=card.code, won=card.won, points=cost, month=month,
                tr_id="t" + secrets.token_hex(12), request_key=stored_key,
                state=PENDING if why else APPROVED, needs_approval=bool(why),
                approval_reason=why, phone=number, phone_consent_at=now,
                next_try_at=None if why else now, created_at=now,
            )  # fmt: skip
            session.add(exchange)
            await session.flush()
            # Our idempotency key at the provider: unique, at most 25 characters.
            exchange.tr_id = f"cb{exchange.id:010d}{secrets.token_hex(4)}"
            cap = monthly_cap(user, now, settings)
            if not await _take_month(session, user.id, month, card.won, cap):
                left = max(0, cap - await month_won(session, user.id, month))
                raise UserError(409, "gift.cap_reached", left=left, cap=cap)
            try:
                held = await points.spend(
                    session, user.id, key=f"gift:{exchange.id}", reason=REASON_HOLD,
                    points=cost, to=points.GIFTCARDS, now=now,
                    params={"exchange": exchange.id, "goods": card.code},
                )  # fmt: skip
            except UserError as exc:
                if exc.key != "points_insufficient":
                    raise
                have = await points.balance(session, user.id)
                raise UserError(409, "gift.points_short", need=cost, have=have) from None
            exchange.hold_txn_id = held.transaction.id
            audit.record(
                session, user.id, user.nickname, "gift_request", user.id, None,
                exchange.state, why, target=f"gift:{exchange.id}",
            )  # fmt: skip
            await session.flush()
    except IntegrityError:
        # The same form sent twice at once: the other request made the exchange (the
        # savepoint is rolled back: nothing of this one stays).
        again = await _by_request_key(session, stored_key)
        if again is None:
            raise
        return again
    await session.commit()
    return exchange


async def of_user(session: AsyncSession, user_id: int, limit: int = 50) -> list[GiftExchange]:
    """The user's exchanges, newest first."""
    return list(
        await session.scalars(
            select(GiftExchange)
            .where(GiftExchange.user_id == user_id)
            .order_by(GiftExchange.id.desc())
            .limit(limit)
        )
    )


# ---- Operators' decisions -----------------------------------------------------------------


async def _decidable(session: AsyncSession, operator: User, exchange_id: int) -> GiftExchange:
    if not is_staff(operator):
        raise UserError(404, "not_found")
    exchange = await session.get(GiftExchange, exchange_id)
    if exchange is None:
        raise UserError(404, "gift.unknown")
    if exchange.user_id == operator.id:
        raise UserError(403, "own_case")
    return exchange


async def _decide(
    session: AsyncSession,
    operator: User,
    exchange: GiftExchange,
    state: str,
    note: str,
    now: datetime,
) -> None:
    """Move a pending exchange to `state`, once: one conditional UPDATE (409 when another
    operator decided it first)."""
    values: dict[str, Any] = {
        "state": state, "decided_by": operator.id, "decided_at": now,
        "decision_note": note[:NOTE_MAX],
    }  # fmt: skip
    if state == APPROVED:
        values["next_try_at"] = now
    result = await session.execute(
        update(GiftExchange)
        .where(GiftExchange.id == exchange.id, GiftExchange.state == PENDING)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if not getattr(result, "rowcount", 0):
        raise UserError(409, "gift.decided_already")
    await session.refresh(exchange)
    audit.record(
        session, operator.id, operator.nickname, "gift_" + ("approve" if state == APPROVED
        else "reject"), exchange.user_id, PENDING, state, note, target=f"gift:{exchange.id}",
    )  # fmt: skip


async def approve(
    session: AsyncSession,
    operator: User,
    exchange_id: int,
    note: str,
    now: datetime,
    settings: Settings,
) -> GiftExchange:
    """An operator approves a pending exchange: the issuing pass sends it. Committed.
    The account must still be in good standing (it may have fallen out of it since the
    request): else 409 with the reason, which the operator reads."""
    exchange = await _decidable(session, operator, exchange_id)
    if exchange.state == PENDING:
        user = await session.get(User, exchange.user_id)
        assert user is not None
        refused = await refusal(session, user, now, settings)
        if refused is not None:
            raise UserError(409, refused.key, **refused.params)
    await _decide(session, operator, exchange, APPROVED, note, now)
    notifications.notify(
        session, exchange.user_id, "gift_approved", {"id": exchange.id},
        link=f"{LINK}#exchange-{exchange.id}",
    )  # fmt: skip
    await session.commit()
    return exchange


async def reject(
    session: AsyncSession, operator: User, exchange_id: int, note: str, now: datetime
) -> GiftExchange:
    """An operator refuses a pending exchange (`note`, the reason, is shown to the
    user): the points and the month's won go back, the phone number is erased. Committed."""
    if not note.strip():
        raise UserError(422, "ops.reason_required")
    exchange = await _decidable(session, operator, exchange_id)
    await _decide(session, operator, exchange, REJECTED, note, now)
    await _refund(session, exchange, now, by=f"reject:{operator.id}")
    notifications.notify(
        session, exchange.user_id, "gift_rejected", {"id": exchange.id, "reason": note},
        link=f"{LINK}#exchange-{exchange.id}",
    )  # fmt: skip
    await session.commit()
    return exchange


async def _refund(session: AsyncSession, exchange: GiftExchange, now: datetime, by: str) -> None:
    """Give back what an exchange took: its points (the hold reversed, once) and the
    month's won; erase the phone number. In the caller's transaction."""
    if exchange.hold_txn_id is not None:
        hold = await session.get(PointTransaction, exchange.hold_txn_id)
        if hold is not None:
            posted = await points.reverse(
                session, hold, reason=REASON_REFUND, now=now,
                params={"exchange": exchange.id, "by": by},
            )  # fmt: skip
            exchange.refund_txn_id = posted.transaction.id
    await _give_month_back(session, exchange)
    exchange.phone = None
    exchange.phone_erase_at = None
    await session.flush()


async def cancel(
    session: AsyncSession,
    operator: User,
    exchange_id: int,
    note: str,
    now: datetime,
    provider: GiftProvider,
) -> GiftExchange:
    """An operator cancels an issued card that was not used (`note`, the reason, is shown
    to the player): the provider cancels it (its business money comes back), then the
    exchange is "cancelled" and its points and month's won go back. Committed.

    The provider is asked first, with no transaction open across its calls: a used,
    expired or refunded card is refused (409). A card the provider already shows
    cancelled (an earlier cancel whose answer was lost, or its console) is marked here
    without calling cancel again."""
    if not note.strip():
        raise UserError(422, "ops.reason_required")
    exchange = await _decidable(session, operator, exchange_id)
    if exchange.state != ISSUED:
        raise UserError(409, "gift.cancel_not_issued")
    tr_id = exchange.tr_id
    await session.commit()  # nothing stays open while the provider answers
    try:
        found = await provider.status(tr_id)
        if found is None:
            raise UserError(409, "gift.cancel_missing")
        if found.status == "used":
            raise UserError(409, "gift.cancel_used")
        if found.status not in (ISSUED, CANCELLED):
            raise UserError(409, "gift.cancel_not_live", state=found.status)
        if found.status == ISSUED:
            await provider.cancel(tr_id)
    except GiftRefused as exc:
        if exc.code == NOT_CANCELLABLE:  # used (or expired) between the lookup and now
            raise UserError(409, "gift.cancel_used") from None
        raise UserError(502, "gift.provider_refused", code=exc.code) from None
    except GiftError:
        raise UserError(503, "gift.provider_unavailable") from None
    result = await session.execute(
        update(GiftExchange)
        .where(GiftExchange.id == exchange_id, GiftExchange.state == ISSUED)
        .values(
            state=CANCELLED, decided_by=operator.id, decided_at=now, decision_note=note[:NOTE_MAX]
        )  # fmt: skip
        .execution_options(synchronize_session=False)
    )
    if not getattr(result, "rowcount", 0):
        raise UserError(409, "gift.decided_already")
    await session.refresh(exchange)
    await _refund(session, exchange, now, by=f"cancel:{operator.id}")
    audit.record(
        session, operator.id, operator.nickname, "gift_cancel", exchange.user_id, ISSUED,
        CANCELLED, note, target=f"gift:{exchange.id}",
    )  # fmt: skip
    notifications.notify(
        session, exchange.user_id, "gift_cancelled", {"id": exchange.id, "reason": note},
        link=f"{LINK}#exchange-{exchange.id}",
    )  # fmt: skip
    await session.commit()
    return exchange


@dataclass(frozen=True)
class Sent:
    """An issued card as the operators' page lists it (to cancel one not yet used)."""

    exchange: GiftExchange
    nickname: str


async def recently_issued(session: AsyncSession, limit: int = 50) -> list[Sent]:
    """Issued exchanges, newest first."""
    rows = (
        await session.execute(
            select(GiftExchange, User.nickname)
            .join(User, User.id == GiftExchange.user_id)
            .where(GiftExchange.state == ISSUED)
            .order_by(GiftExchange.issued_at.desc(), GiftExchange.id.desc())
            .limit(limit)
        )
    ).all()
    return [Sent(exchange, nickname) for exchange, nickname in rows]


# ---- The operators' queue ----------------------------------------------------------------


@dataclass(frozen=True)
class Waiting:
    """A pending exchange as the approval queue shows it."""

    exchange: GiftExchange
    nickname: str
    age_band: str | None
    month_won: int  # won of this month (PLAN_TIMEZONE) the user has exchanged or pending
    standing: str | None  # the refusal's key if the account is no longer in good standing
    first: bool
    standing_params: dict[str, Any] = field(default_factory=dict)  # the refusal's words


async def waiting(
    session: AsyncSession, settings: Settings, now: datetime, limit: int = 100
) -> list[Waiting]:
    """Pending exchanges, oldest first, with what an operator decides on."""
    rows = (
        await session.execute(
            select(GiftExchange, User)
            .join(User, User.id == GiftExchange.user_id)
            .where(GiftExchange.state == PENDING)
            .order_by(GiftExchange.created_at, GiftExchange.id)
            .limit(limit)
        )
    ).all()
    # Three queries for the whole queue (not three per row): warnings, flags, months.
    user_ids = {user.id for _, user in rows}
    warned = await _warned(session, user_ids, now) if user_ids else set()
    flagged = await _flagged(session, user_ids) if user_ids else set()
    months = {
        (uid, month): int(won)
        for uid, month, won in (
            await session.execute(
                select(GiftMonth.user_id, GiftMonth.month, GiftMonth.won).where(
                    GiftMonth.user_id.in_(user_ids)
                )
            )
        ).all()
    } if user_ids else {}  # fmt: skip
    found: list[Waiting] = []
    for exchange, user in rows:
        refused = _judge(user, now, settings, warned=user.id in warned, flagged=user.id in flagged)
        found.append(
            Waiting(
                exchange=exchange,
                nickname=user.nickname,
                age_band=profiles.age_band_of(user, now, settings.plan_zone),
                month_won=months.get((user.id, exchange.month), 0),
                standing=refused.key if refused else None,
                first=exchange.approval_reason == FIRST,
                standing_params=dict(refused.params) if refused else {},
            )  # fmt: skip
        )
    return found


async def pending_count(session: AsyncSession) -> int:
    count = await session.scalar(
        select(func.count()).select_from(GiftExchange).where(GiftExchange.state == PENDING)
    )
    return int(count or 0)


# ---- Issuing -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Failure:
    """An exchange that ended "failed" (points given back): `why` is "refused" (the
    provider said no: its code) or "gave_up" (MAX_TRIES without a card)."""

    exchange_id: int
    why: str
    code: str


@dataclass
class IssueReport:
    """What one issuing pass did. `failed` is what an operator should hear about; `held`
    the exchanges held back because their account fell out of good standing."""

    issued: list[int] = field(default_factory=list)
    failed: list[Failure] = field(default_factory=list)
    retrying: list[int] = field(default_factory=list)
    held: list[int] = field(default_factory=list)
    stopped_early: bool = False  # PASS_BUDGET ran out: the rest waits for the next pass


def backoff(tries: int) -> timedelta:
    """How long to wait before try `tries + 1`: 1, 2, 4, ... minutes, at most an hour."""
    return timedelta(seconds=min(3600, 60 * 2 ** max(0, tries - 1)))


def call_budget(settings: Settings) -> float:
    """Seconds the provider's calls of one try may take in all (they are cut off then)."""
    return CALLS_PER_TRY * settings.GIFTISHOW_TIMEOUT_SECONDS


def lease(settings: Settings) -> timedelta:
    """How long a claimed try keeps its exchange from other passes: longer than its calls
    may take (`call_budget`), so no other pass takes it while a call is under way."""
    return timedelta(seconds=call_budget(settings)) + LEASE_MARGIN


def retry_at(claimed_at: datetime, tries: int, settings: Settings) -> datetime:
    """When try `tries + 1` may be claimed, for a try claimed at `claimed_at`: after its
    lease and after the backoff."""
    return claimed_at + max(backoff(tries), lease(settings))


async def due(session: AsyncSession, now: datetime, limit: int = 50) -> list[int]:
    rows = await session.scalars(
        select(GiftExchange.id)
        .where(GiftExchange.state.in_(DUE))
        .where(or_(GiftExchange.next_try_at.is_(None), GiftExchange.next_try_at <= now))
        .order_by(GiftExchange.id)
        .limit(limit)
    )
    return list(rows)


@dataclass(frozen=True)
class _Claim:
    tr_id: str
    goods_code: str
    phone: str | None
    tried: int  # tries before this one
    standing: str | None  # the refusal's key when the account is no longer in good standing


async def _claim(
    db: Database, exchange_id: int, now: datetime, settings: Settings
) -> _Claim | None:
    """Mark the exchange "issuing" with one more try and a lease from `now` (the moment
    of the claim), committed before the provider is called; None when it is not due or
    another pass took it. The account's standing is read again here."""
    async with db.session() as session:
        exchange = await session.get(GiftExchange, exchange_id)
        if exchange is None or exchange.state not in DUE:
            return None
        tried = exchange.tries
        result = await session.execute(
            update(GiftExchange)
            .where(GiftExchange.id == exchange_id, GiftExchange.state.in_(DUE))
            .where(GiftExchange.tries == tried)
            .where(or_(GiftExchange.next_try_at.is_(None), GiftExchange.next_try_at <= now))
            .values(
                state=ISSUING, tries=tried + 1, next_try_at=retry_at(now, tried + 1, settings)
            )  # fmt: skip
            .execution_options(synchronize_session=False)
        )
        if not getattr(result, "rowcount", 0):
            return None
        user = await session.get(User, exchange.user_id)
        refused = None if user is None else await refusal(session, user, now, settings)
        standing = "gift.refused_account" if user is None else (refused.key if refused else None)
        claim = _Claim(exchange.tr_id, exchange.goods_code, exchange.phone, tried, standing)
        await session.commit()
    return claim


@dataclass(frozen=True)
class _Outcome:
    """What the provider's calls of one try came to: "issued" (`order_no`), "failed"
    (`why`, `code`: no card, confirmed), "held" (the account fell out of good standing
    and no card exists) or "retry" (unknown yet: the lease's end is the next try)."""

    kind: str
    order_no: str = ""
    why: str = ""
    code: str = ""
    message: str = ""


RETRY = _Outcome("retry")


async def _attempt(provider: GiftProvider, claim: _Claim) -> _Outcome:
    """The provider's side of one try. Gives points back ("failed", "held") only when no
    card can exist: a first send refused with a NO_CARD code, or the provider's own
    lookup of the tr_id finding nothing. Raises GiftError when it cannot tell."""
    if claim.tried:
        # Sent before (a timeout, a refusal not taken at its word, or a crash after
        # "issuing"): does the card exist?
        found = await provider.status(claim.tr_id)
        if found is not None:
            return _Outcome("issued", order_no=found.order_no)
        if claim.standing is not None:
            return _Outcome("held", code=claim.standing)
        if claim.tried >= MAX_TRIES:
            return _Outcome("failed", why="gave_up", code="gave_up")
    elif claim.standing is not None:
        return _Outcome("held", code=claim.standing)
    if not claim.phone:
        return _Outcome("failed", why="refused", code="no_phone")
    try:
        issued = await provider.issue(
            goods_code=claim.goods_code, phone=claim.phone, tr_id=claim.tr_id,
            title=MMS_TITLE, message=MMS_MESSAGE,
        )  # fmt: skip
    except GiftRefused as exc:
        if not claim.tried and exc.code in NO_CARD:
            return _Outcome("failed", why="refused", code=exc.code, message=exc.message)
        # A retried send, or a code we do not know (a duplicate tr_id said otherwise):
        # a card may exist. Only the provider's lookup can tell.
        log.warning("gift card send refused; looking it up", code=exc.code,
                    retried=bool(claim.tried))  # fmt: skip
        found = await provider.status(claim.tr_id)
        if found is not None:
            return _Outcome("issued", order_no=found.order_no)
        if exc.code in NO_CARD:
            return _Outcome("failed", why="refused", code=exc.code, message=exc.message)
        return RETRY
    return _Outcome("issued", order_no=issued.order_no)


async def _mark_issued(
    db: Database, exchange_id: int, order_no: str, now: datetime, settings: Settings
) -> bool:
    keep = timedelta(hours=settings.REWARD_PHONE_KEEP_HOURS)
    async with db.session() as session:
        values: dict[str, Any] = {
            "state": ISSUED, "order_no": order_no[:64], "issued_at": now,
            "next_try_at": None, "provider_code": None, "provider_message": None,
        }  # fmt: skip
        if keep:
            values["phone_erase_at"] = now + keep
        else:
            values["phone"] = None
        result = await session.execute(
            update(GiftExchange)
            .where(GiftExchange.id == exchange_id, GiftExchange.state == ISSUING)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if not getattr(result, "rowcount", 0):
            return False
        exchange = await session.get(GiftExchange, exchange_id)
        assert exchange is not None
        audit.record(session, None, "system", "gift_issued", exchange.user_id, ISSUING, ISSUED,
                     "", target=f"gift:{exchange_id}")  # fmt: skip
        notifications.notify(
            session, exchange.user_id, "gift_issued", {"id": exchange_id},
            link=f"{LINK}#exchange-{exchange_id}",
        )  # fmt: skip
        await session.commit()
    return True


async def _mark_failed(
    db: Database, exchange_id: int, code: str, message: str, now: datetime
) -> bool:
    """The provider made no card: "failed", points and month given back, user told."""
    async with db.session() as session:
        result = await session.execute(
            update(GiftExchange)
            .where(GiftExchange.id == exchange_id, GiftExchange.state == ISSUING)
            .values(
                state=FAILED,
                next_try_at=None,
                provider_code=code[:16],
                provider_message=message[:200] or None,
            )  # fmt: skip
            .execution_options(synchronize_session=False)
        )
        if not getattr(result, "rowcount", 0):
            return False
        exchange = await session.get(GiftExchange, exchange_id)
        assert exchange is not None
        await session.refresh(exchange)
        await _refund(session, exchange, now, by=f"provider:{code}")
        audit.record(session, None, "system", "gift_failed", exchange.user_id, ISSUING, FAILED,
                     code, target=f"gift:{exchange_id}")  # fmt: skip
        notifications.notify(
            session, exchange.user_id, "gift_failed", {"id": exchange_id},
            link=f"{LINK}#exchange-{exchange_id}",
        )  # fmt: skip
        await session.commit()
    return True


async def _close(
    session: AsyncSession,
    exchange_id: int,
    states: tuple[str, ...],
    why: str,
    detail: str,
    now: datetime,
) -> bool:
    """The system rejects an exchange that is in one of `states` (`why`: HELD_STANDING,
    HELD_STALE or HELD_DELETED, kept in provider_code, which the player's page says in
    words): points and month given back, phone erased, the player told. In the caller's
    transaction; False when the exchange moved on meanwhile."""
    result = await session.execute(
        update(GiftExchange)
        .where(GiftExchange.id == exchange_id, GiftExchange.state.in_(states))
        .values(state=REJECTED, next_try_at=None, decided_at=now, provider_code=why)
        .execution_options(synchronize_session=False)
    )
    if not getattr(result, "rowcount", 0):
        return False
    exchange = await session.get(GiftExchange, exchange_id, populate_existing=True)
    assert exchange is not None
    await _refund(session, exchange, now, by=f"system:{why}")
    audit.record(session, None, "system", "gift_reject", exchange.user_id, None, REJECTED,
                 f"{why} {detail}".strip(), target=f"gift:{exchange_id}")  # fmt: skip
    if why != HELD_DELETED:
        kind = "gift_held" if why == HELD_STANDING else "gift_expired"
        notifications.notify(
            session, exchange.user_id, kind, {"id": exchange_id, "days": STALE_DAYS},
            link=f"{LINK}#exchange-{exchange_id}",
        )  # fmt: skip
    return True


async def _finish(
    db: Database,
    settings: Settings,
    exchange_id: int,
    outcome: _Outcome,
    now: datetime,
    report: IssueReport,
) -> None:
    """Record one try's outcome (each a conditional UPDATE from "issuing")."""
    if outcome.kind == "issued":
        if await _mark_issued(db, exchange_id, outcome.order_no, now, settings):
            report.issued.append(exchange_id)
    elif outcome.kind == "failed":
        if await _mark_failed(db, exchange_id, outcome.code, outcome.message, now):
            code = "" if outcome.why == "gave_up" else outcome.code
            report.failed.append(Failure(exchange_id, outcome.why, code))
    elif outcome.kind == "held":
        async with db.session() as session:
            if await _close(session, exchange_id, (ISSUING,), HELD_STANDING, outcome.code, now):
                report.held.append(exchange_id)
            await session.commit()
    else:
        report.retrying.append(exchange_id)


async def issue_one(
    db: Database,
    provider: GiftProvider,
    settings: Settings,
    exchange_id: int,
    now: datetime,
    report: IssueReport,
) -> None:
    """One try at one exchange claimed at `now` (see the module's docstring for the
    rule). The provider's calls are cut off at `call_budget`, within the claim's lease."""
    claim = await _claim(db, exchange_id, now, settings)
    if claim is None:
        return
    try:
        async with asyncio.timeout(call_budget(settings)):
            outcome = await _attempt(provider, claim)
    except (GiftError, TimeoutError) as exc:
        log.warning("gift card unanswered; will look it up", exchange=exchange_id,
                    error=type(exc).__name__)  # fmt: skip
        outcome = RETRY
    await _finish(db, settings, exchange_id, outcome, now, report)


async def issue_due(
    db: Database,
    provider: GiftProvider,
    settings: Settings,
    now: datetime,
    clock: Callable[[], float] = time.monotonic,
) -> IssueReport:
    """One pass over the approved (and interrupted) exchanges due at `now`. Each is
    claimed at the moment it is reached (`now` plus the time the pass has run, read from
    `clock`), and the pass stops after PASS_BUDGET: the rest stays due for the next."""
    report = IssueReport()
    async with db.reading() as session:
        ids = await due(session, now)
    started = clock()
    for exchange_id in ids:
        # Whole seconds: the lease's margin covers the rest, and time stays injectable.
        ran = timedelta(seconds=int(max(0.0, clock() - started)))
        if ran > PASS_BUDGET:
            report.stopped_early = True
            break
        await issue_one(db, provider, settings, exchange_id, now + ran, report)
    return report


# ---- Keeping no more than needed -----------------------------------------------------------


async def erase_phones(session: AsyncSession, now: datetime) -> int:
    """Erase the phone numbers kept past their time (REWARD_PHONE_KEEP_HOURS after the
    card was sent), and every phone number of a deleted account; how many. Committed."""
    deleted = select(User.id).where(User.deleted_at.is_not(None))
    result = await session.execute(
        update(GiftExchange)
        .where(GiftExchange.phone.is_not(None))
        .where(
            or_(
                GiftExchange.user_id.in_(deleted),
                GiftExchange.state.in_(FINAL)
                & or_(GiftExchange.phone_erase_at.is_(None), GiftExchange.phone_erase_at <= now),
            )
        )
        .values(phone=None, phone_erase_at=None)
        .execution_options(synchronize_session=False)
    )
    await session.commit()
    return int(getattr(result, "rowcount", 0) or 0)


async def sweep(session: AsyncSession, now: datetime) -> list[int]:
    """Close the exchanges nobody will send: pending or approved for STALE_DAYS (an
    operator never decided, or the provider stayed closed), and those of deleted
    accounts; points and month back, phone erased, the player told. Then erase the phone
    numbers past their time. Returns the exchanges closed. Committed."""
    deleted = select(User.id).where(User.deleted_at.is_not(None))
    rows = (
        await session.execute(
            select(GiftExchange.id, GiftExchange.user_id.in_(deleted))
            .where(GiftExchange.state.in_((PENDING, APPROVED)))
            .where(
                or_(
                    GiftExchange.created_at <= now - timedelta(days=STALE_DAYS),
                    GiftExchange.user_id.in_(deleted),
                )
            )
            .order_by(GiftExchange.id)
        )
    ).all()
    closed: list[int] = []
    for exchange_id, gone in rows:
        why = HELD_DELETED if gone else HELD_STALE
        if await _close(session, exchange_id, (PENDING, APPROVED), why, "", now):
            closed.append(exchange_id)
    await session.commit()
    await erase_phones(session, now)
    return closed


SWEEP_SECONDS = 300.0  # stale exchanges and expired phone numbers: no hurry


async def running(
    services: Services,
    on_failed: Callable[[list[Failure]], Awaitable[None]] | None = None,
    interval: float = 10.0,
    sweep_interval: float = SWEEP_SECONDS,
) -> None:
    """The issuing loop every `interval` seconds (every instance may run it: each try is
    claimed by a conditional UPDATE) and the sweep every `sweep_interval`, each under
    `live.every` (an outage is logged once, not a traceback a pass). `on_failed` hears
    of exchanges that failed (ops alerts). Without a provider (production without
    Giftishow's credentials: exchanges closed) only the sweep runs. The provider's client
    is closed however the loops end."""
    provider = provider_for(services.settings)

    async def issue_pass() -> None:
        assert provider is not None
        report = await issue_due(services.db, provider, services.settings, datetime.now(UTC))
        if report.failed and on_failed is not None:
            await on_failed(report.failed)

    async def sweep_pass() -> None:
        async with services.db.session() as session:
            await sweep(session, datetime.now(UTC))

    try:
        async with asyncio.TaskGroup() as loops:
            loops.create_task(live.every(sweep_interval, sweep_pass, "gift card sweep"))
            if provider is not None:
                loops.create_task(live.every(interval, issue_pass, "gift card issuing"))
    finally:
        if provider is not None:
            await provider.aclose()
