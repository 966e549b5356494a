"""The avatar shop: cosmetic items bought with points, owned, worn (docs/progress.md).

Nothing sold here changes play: avatars, profile frames, editor themes, name colours. The
catalogue is data (rewards/data/shop.toml; images in web/static/shop/<code>.svg).

A purchase is one transaction: the points leave through the ledger with the key
`shop:<user>:<item>` (one purchase per item and user, so a double click or two tabs pay
once), a limited item's stock is taken by one conditional UPDATE (never oversold), and the
item is recorded as owned. A refused purchase (short of points, sold out, off sale)
happens in a savepoint that is rolled back: it changes nothing."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from codebattle.accounts.models import User
from codebattle.accounts.profiles import SEOUL
from codebattle.errors import UserError
from codebattle.progress import earning, points
from codebattle.progress.models import PointTransaction
from codebattle.rewards.forms import valid_request_key
from codebattle.rewards.models import EquippedItem, ItemStock, OwnedItem

SLOTS = ("avatar", "frame", "theme", "name_color")
CATALOGUE = Path(__file__).parent / "data" / "shop.toml"
CODE = re.compile(r"[a-z][a-z0-9_]{1,47}")
# A theme may set only these variables (static/shop.css reads them on the editor frame).
THEME_VARS = frozenset(
    {
        "--shop-editor-bg",
        "--shop-editor-fg",
        "--shop-editor-gutter-bg",
        "--shop-editor-gutter-fg",
        "--shop-editor-active-line",
        "--shop-editor-selection",
        "--shop-editor-caret",
    }
)
COLOR = re.compile(r"#[0-9a-fA-F]{6}")


@dataclass(frozen=True)
class Look:
    """What a player wears, as pages show it next to their name."""

    avatar: str | None = None  # the item code of the avatar (its SVG: /static/shop/<code>.svg)
    frame: str | None = None  # the item code of the profile frame
    name_color: str | None = None  # a CSS colour from the catalogue
    theme: str | None = None  # the item code of the editor theme


# ---- The catalogue ----------------------------------------------------------------------


@dataclass(frozen=True)
class Item:
    """One thing on sale. `available_until` is the last day on sale (inclusive)."""

    code: str
    slot: str
    price: int
    available_from: date | None = None
    available_until: date | None = None
    limit: int | None = None
    color: str | None = None  # name colours: the CSS colour
    css_vars: tuple[tuple[str, str], ...] = ()  # themes: the editor frame's variables

    @property
    def name_key(self) -> str:
        return f"shop.item.{self.code}"

    @property
    def image(self) -> str | None:
        return f"/static/shop/{self.code}.svg" if self.slot in ("avatar", "frame") else None

    @property
    def seasonal(self) -> bool:
        return self.available_from is not None or self.available_until is not None

    def on_sale(self, day: date) -> bool:
        """Within its season (a non-seasonal item always is); stock is counted apart."""
        if self.available_from is not None and day < self.available_from:
            return False
        return self.available_until is None or day <= self.available_until

    def style(self) -> str:
        """A theme's variables as a CSS declaration list."""
        return "".join(f"{name}:{value};" for name, value in self.css_vars)


def _date(value: Any, field: str, code: str) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        raise ValueError(f"{code}: {field} is a date, not a time")
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def parse(text: str) -> dict[str, Item]:
    """A catalogue from TOML, checked: a bad catalogue fails at start, not at a purchase."""
    items: dict[str, Item] = {}
    for code, spec in tomllib.loads(text).get("items", {}).items():
        if not CODE.fullmatch(code):
            raise ValueError(f"{code!r}: an item code is lower case letters, digits and _")
        slot = spec.get("slot")
        if slot not in SLOTS:
            raise ValueError(f"{code}: slot is one of {SLOTS}")
        price = spec.get("price")
        if not isinstance(price, int) or isinstance(price, bool) or price <= 0:
            raise ValueError(f"{code}: price is a positive number of points")
        limit = spec.get("limit")
        if limit is not None and (not isinstance(limit, int) or limit <= 0):
            raise ValueError(f"{code}: limit is a positive number")
        color = spec.get("color")
        if (slot == "name_color") != (color is not None) or (
            color is not None and not COLOR.fullmatch(str(color))
        ):
            raise ValueError(f"{code}: a name colour (and only it) has color = '#rrggbb'")
        css = spec.get("vars") or {}
        if (slot == "theme") != bool(css) or not set(css) <= THEME_VARS:
            raise ValueError(f"{code}: a theme (and only it) sets vars among {THEME_VARS}")
        if any(not COLOR.fullmatch(str(v)) for v in css.values()):
            raise ValueError(f"{code}: theme variables are '#rrggbb' colours")
        start = _date(spec.get("available_from"), "available_from", code)
        end = _date(spec.get("available_until"), "available_until", code)
        if start and end and end < start:
            raise ValueError(f"{code}: available_until is before available_from")
        items[code] = Item(
            code=code, slot=slot, price=price, available_from=start, available_until=end,
            limit=limit, color=str(color) if color else None,
            css_vars=tuple(sorted((str(k), str(v)) for k, v in css.items())),
        )  # fmt: skip
    return items


@cache
def catalogue() -> dict[str, Item]:
    """The shop's items, in the catalogue's order (read once)."""
    return parse(CATALOGUE.read_text("utf-8"))


def item(code: str) -> Item:
    found = catalogue().get(code)
    if found is None:
        raise UserError(404, "shop.unknown_item")
    return found


def sale_day(now: datetime, zone: tzinfo = SEOUL) -> date:
    """The day seasons are counted in (the site's time zone)."""
    return now.astimezone(zone).date()


# ---- Reading ------------------------------------------------------------------------------


async def owned(session: AsyncSession, user_id: int) -> dict[str, datetime]:
    """The items a user owns, with when they were bought."""
    rows = await session.execute(
        select(OwnedItem.item, OwnedItem.bought_at).where(OwnedItem.user_id == user_id)
    )
    return {code: at for code, at in rows.all()}


async def equipped(session: AsyncSession, user_id: int) -> dict[str, str]:
    """Slot → the item worn there."""
    rows = await session.execute(
        select(EquippedItem.slot, EquippedItem.item).where(EquippedItem.user_id == user_id)
    )
    return {slot: code for slot, code in rows.all()}


async def sold(session: AsyncSession) -> dict[str, int]:
    """How many of each limited item were sold."""
    rows = await session.execute(select(ItemStock.item, ItemStock.sold))
    return {code: count for code, count in rows.all()}


async def looks(session: AsyncSession, user_ids: list[int]) -> dict[int, Look]:
    """Each user's look (a default Look for those who wear nothing), in one query. An item
    no longer in the catalogue is not shown."""
    worn: dict[int, dict[str, str]] = {uid: {} for uid in user_ids}
    if user_ids:
        rows = await session.execute(
            select(EquippedItem.user_id, EquippedItem.slot, EquippedItem.item).where(
                EquippedItem.user_id.in_(user_ids)
            )
        )
        table = catalogue()
        for uid, slot, code in rows.all():
            if code in table and table[code].slot == slot:
                worn.setdefault(uid, {})[slot] = code
    table = catalogue()
    return {
        uid: Look(
            avatar=slots.get("avatar"),
            frame=slots.get("frame"),
            name_color=table[slots["name_color"]].color if "name_color" in slots else None,
            theme=slots.get("theme"),
        )
        for uid, slots in worn.items()
    }


# ---- Buying -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bought:
    """A purchase: its item, the ledger transaction, and whether this call made it (False:
    the same request again, answered as the first time)."""

    item: Item
    transaction_id: int
    created: bool


class _Taken(Exception):
    """The purchase's key was posted by another request: roll back and answer from it."""

    def __init__(self, transaction: PointTransaction) -> None:
        super().__init__(transaction.key)
        self.transaction = transaction


def _answer(found: Item, transaction: PointTransaction, request_key: str) -> Bought:
    """The item is already bought: the same request asked again gets its answer; any
    other request is told the item is owned (it pays nothing)."""
    if (transaction.params or {}).get("request") == request_key:
        return Bought(found, transaction.id, False)
    raise UserError(409, "shop.owned")


async def _take_stock(session: AsyncSession, found: Item) -> None:
    """One of a limited item, by one conditional UPDATE: two buyers racing for the last
    one cannot both pass (the second waits for the first's row lock, then finds none)."""
    assert found.limit is not None
    if await session.get(ItemStock, found.code) is None:
        try:
            async with session.begin_nested():
                session.add(ItemStock(item=found.code, sold=0))
        except IntegrityError:
            pass  # made at this moment by another purchase
    result = await session.execute(
        update(ItemStock)
        .where(ItemStock.item == found.code, ItemStock.sold < found.limit)
        .values(sold=ItemStock.sold + 1)
        .execution_options(synchronize_session=False)
    )
    if not getattr(result, "rowcount", 0):
        raise UserError(409, "shop.sold_out")


async def buy(
    session: AsyncSession,
    user: User,
    code: str,
    now: datetime,
    request_key: str,
    *,
    zone: tzinfo = SEOUL,
) -> Bought:
    """Buy an item for `user`, in the caller's transaction (the caller commits). Refused
    with a UserError, having changed nothing: unknown item (404), not in good standing
    (403), off sale, sold out, already owned, short of points (409). `request_key` is the
    form's: the same request sent twice gets the first answer."""
    found = item(code)
    if not valid_request_key(request_key):
        raise UserError(400, "shop.bad_request")
    if not earning.may_earn_user(user, now):
        raise UserError(403, "shop.not_allowed")
    key = f"shop:{user.id}:{found.code}"
    before = await points.find(session, key)
    if before is not None:
        return _answer(found, before, request_key)
    if not found.on_sale(sale_day(now, zone)):
        raise UserError(409, "shop.off_sale")
    try:
        async with session.begin_nested():
            posted = await points.spend(
                session, user.id, key=key, reason="shop", points=found.price, to=points.SHOP,
                params={"item": found.code, "request": request_key}, now=now,
            )  # fmt: skip
            if not posted.created:
                raise _Taken(posted.transaction)
            if found.limit is not None:
                await _take_stock(session, found)
            session.add(
                OwnedItem(
                    user_id=user.id,
                    item=found.code,
                    bought_at=now,
                    transaction_id=posted.transaction.id,
                )  # fmt: skip
            )
            await session.flush()
    except _Taken as taken:
        return _answer(found, taken.transaction, request_key)
    except UserError as refused:
        if refused.key == "points_insufficient":
            have = await points.balance(session, user.id)
            raise UserError(409, "shop.points_short", price=found.price, balance=have) from None
        raise
    return Bought(found, posted.transaction.id, True)


# ---- Wearing ------------------------------------------------------------------------------


async def equip(session: AsyncSession, user: User, slot: str, code: str | None) -> None:
    """Wear an owned item in its slot, or take off what the slot holds (`code` None), in
    the caller's transaction."""
    if slot not in SLOTS:
        raise UserError(400, "shop.bad_slot")
    if code is None:
        await session.execute(
            delete(EquippedItem).where(EquippedItem.user_id == user.id, EquippedItem.slot == slot)
        )
        return
    found = item(code)
    if found.slot != slot:
        raise UserError(400, "shop.bad_slot")
    if await session.get(OwnedItem, (user.id, found.code)) is None:
        raise UserError(403, "shop.not_owned")
    changed = await session.execute(
        update(EquippedItem)
        .where(EquippedItem.user_id == user.id, EquippedItem.slot == slot)
        .values(item=found.code)
        .execution_options(synchronize_session=False)
    )
    if getattr(changed, "rowcount", 0):
        return
    try:
        async with session.begin_nested():
            session.add(EquippedItem(user_id=user.id, slot=slot, item=found.code))
    except IntegrityError:  # worn at this moment by another request: the last one wins
        await session.execute(
            update(EquippedItem)
            .where(EquippedItem.user_id == user.id, EquippedItem.slot == slot)
            .values(item=found.code)
            .execution_options(synchronize_session=False)
        )
