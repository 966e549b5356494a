"""Reconciliation of our gift-card exchanges with the provider's cards.

Our `gift_exchanges` and Giftishow's records can drift apart: an answer lost after the
card was made, a card cancelled from Giftishow's console, a price that changed between the
catalogue and the send. `reconcile` reads every exchange that has (or may have) a card at
the provider (states "issued", "issuing", "cancelled"), asks the provider about its tr_id
and sorts what it finds. It changes nothing: an operator (or the exchange logic, for an
"issuing" exchange whose card exists) acts on the report. `codebattle giftcards
reconcile` prints it and exits 1 when anything disagrees.

It also checks our catalogue against the provider's (`check_goods`): every goods code of
rewards/data/giftcards.toml must be on sale there at the won we charge points for; a card
withdrawn or repriced at the provider would otherwise be found only by a refused send.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from codebattle.integrations.giftishow import (
    CouponStatus,
    GiftError,
    GiftProvider,
    GiftRefused,
)
from codebattle.rewards.giftcards import Card, catalogue
from codebattle.rewards.models import GiftExchange

CHECKED_STATES = ("issued", "issuing", "cancelled")
GONE = ("cancelled", "refunded")

# Finding kinds. Those in DISCREPANCIES make the report fail.
MISSING = "missing"  # ours issued (or cancelled), the provider has no card with the tr_id
CANCELLED_THERE = "cancelled_at_provider"  # ours issued, the provider cancelled/refunded it
LIVE_THERE = "live_at_provider"  # ours cancelled (points back), the card is still live
ISSUED_THERE = "issuing_but_issued"  # ours issuing, the card exists: to be completed
PRICE = "price_mismatch"  # the provider's price is not the won we charged points for
GOODS = "goods_mismatch"  # the provider's goods code is not ours
ORDER = "order_mismatch"  # the provider's order number is not the one we recorded
UNREADABLE = "unreadable"  # the provider could not be asked (GiftUnavailable or refused)
NOT_SENT = "issuing_not_sent"  # ours issuing, no card yet: the retry sends it (not a fault)
DISCREPANCIES = (MISSING, CANCELLED_THERE, LIVE_THERE, ISSUED_THERE, PRICE, GOODS, ORDER)

# Kinds of the catalogue's check (each one fails the report).
GOODS_MISSING = "goods_missing_at_provider"  # our card is not on sale at the provider
GOODS_PRICE = "goods_price_mismatch"  # on sale at another price than our `won`
GOODS_UNREADABLE = "goods_unreadable"  # the provider's goods list could not be read


@dataclass(frozen=True)
class GoodsFinding:
    """A card of our catalogue that disagrees with the provider's goods list."""

    code: str
    kind: str
    detail: str = ""

    def line(self) -> str:
        detail = f"  {self.detail}" if self.detail else ""
        return f"{self.kind}: goods {self.code or '-'}{detail}"


@dataclass(frozen=True)
class Finding:
    exchange_id: int
    tr_id: str
    kind: str
    ours: str  # our state
    theirs: str | None  # the provider's status (None: no card)
    detail: str = ""

    def line(self) -> str:
        theirs = self.theirs or "none"
        detail = f"  {self.detail}" if self.detail else ""
        return (
            f"{self.kind}: exchange {self.exchange_id} tr_id {self.tr_id}  "
            f"ours {self.ours}  provider {theirs}{detail}"
        )


@dataclass
class Report:
    """What reconciling found: how many exchanges were checked and matched, and every
    finding (discrepancies, unreadable ones, and notes such as NOT_SENT)."""

    checked: int = 0
    matched: int = 0
    findings: list[Finding] = field(default_factory=list)
    goods: list[GoodsFinding] = field(default_factory=list)  # the catalogue's check

    def of(self, kind: str) -> list[Finding]:
        return [f for f in self.findings if f.kind == kind]

    @property
    def discrepancies(self) -> list[Finding]:
        return [f for f in self.findings if f.kind in DISCREPANCIES]

    @property
    def unreadable(self) -> list[Finding]:
        return self.of(UNREADABLE)

    @property
    def ok(self) -> bool:
        """True when everything checked agrees, the catalogue too (notes like NOT_SENT do
        not count)."""
        return not self.discrepancies and not self.unreadable and not self.goods

    def lines(self) -> list[str]:
        head = (
            f"checked {self.checked}, matched {self.matched}, "
            f"discrepancies {len(self.discrepancies)}, unreadable {len(self.unreadable)}"
        )
        return [head, *(f.line() for f in self.findings), *(g.line() for g in self.goods)]


@dataclass(frozen=True)
class _Ours:
    id: int
    tr_id: str
    state: str
    goods_code: str
    won: int
    order_no: str | None


async def check_goods(
    provider: GiftProvider, ours: Iterable[Card] | None = None
) -> list[GoodsFinding]:
    """Each card of our catalogue (or `ours`) that the provider does not sell, or sells
    at another price than its `won`; one GOODS_UNREADABLE when its list cannot be read."""
    try:
        theirs = {g.code: g for g in await provider.goods()}
    except GiftError as exc:
        code = exc.code if isinstance(exc, GiftRefused) else "unavailable"
        return [GoodsFinding("", GOODS_UNREADABLE, code)]
    found: list[GoodsFinding] = []
    for card in catalogue().values() if ours is None else ours:
        on_sale = theirs.get(card.code)
        if on_sale is None:
            found.append(GoodsFinding(card.code, GOODS_MISSING))
        elif on_sale.price_won != card.won:
            detail = f"ours {card.won} won provider {on_sale.price_won} won"
            found.append(GoodsFinding(card.code, GOODS_PRICE, detail))
    return found


async def reconcile(
    session: AsyncSession,
    provider: GiftProvider,
    *,
    since: datetime | None = None,
    goods: bool = False,
) -> Report:
    """Compare our exchanges (created at or after `since`, if given) with the provider's
    cards, one `status(tr_id)` each, and (with `goods`, as the command does) our catalogue
    with the provider's goods. Reads only; the rows are read first (a caller that wants no
    transaction open across the provider's calls ends it itself)."""
    query = select(GiftExchange).where(GiftExchange.state.in_(CHECKED_STATES))
    if since is not None:
        query = query.where(GiftExchange.created_at >= since)
    rows = [
        _Ours(e.id, e.tr_id, e.state, e.goods_code, e.won, e.order_no)
        for e in await session.scalars(query.order_by(GiftExchange.id))
    ]
    report = Report()
    if goods:
        report.goods = await check_goods(provider)
    for ours in rows:
        report.checked += 1
        try:
            theirs = await provider.status(ours.tr_id)
        except GiftError as exc:
            code = exc.code if isinstance(exc, GiftRefused) else "unavailable"
            report.findings.append(Finding(ours.id, ours.tr_id, UNREADABLE, ours.state, None, code))
            continue
        found = _compare(ours, theirs)
        if found:
            report.findings.extend(found)
        else:
            report.matched += 1
    return report


def _compare(ours: _Ours, theirs: CouponStatus | None) -> list[Finding]:
    """What disagrees between one exchange and the provider's card (empty: they match)."""

    def finding(kind: str, detail: str = "") -> Finding:
        return Finding(
            ours.id, ours.tr_id, kind, ours.state, theirs.status if theirs else None, detail
        )

    if theirs is None:
        return [finding(NOT_SENT if ours.state == "issuing" else MISSING)]
    found: list[Finding] = []
    if ours.state == "issuing":
        found.append(finding(ISSUED_THERE, f"order {theirs.order_no}"))
    elif ours.state == "issued" and theirs.status in GONE:
        found.append(finding(CANCELLED_THERE))
    elif ours.state == "cancelled" and theirs.status not in GONE:
        found.append(finding(LIVE_THERE))
    if theirs.goods_code != ours.goods_code:
        found.append(finding(GOODS, f"ours {ours.goods_code} provider {theirs.goods_code}"))
    if theirs.price_won != ours.won:
        found.append(finding(PRICE, f"ours {ours.won} won provider {theirs.price_won} won"))
    if ours.order_no and theirs.order_no != ours.order_no:
        found.append(finding(ORDER, f"ours {ours.order_no} provider {theirs.order_no}"))
    return found


__all__ = ["DISCREPANCIES", "Finding", "GoodsFinding", "Report", "check_goods", "reconcile"]
