"""The avatar shop (rewards/shop.py) on SQLite and PostgreSQL: the catalogue as data, buying
(once per item, paid once even when two requests race), owning and wearing, seasonal
windows (time injected), limited stock never oversold under concurrency, and refusals
(short of points, sold out, suspended) that change nothing."""

from __future__ import annotations

import asyncio
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from codebattle import i18n
from codebattle.accounts import sanctions
from codebattle.accounts.models import SUSPEND, User
from codebattle.accounts.profiles import SEOUL
from codebattle.db.session import Database
from codebattle.errors import UserError
from codebattle.progress import points
from codebattle.progress.models import PointTransaction
from codebattle.rewards import shop
from codebattle.rewards.models import ItemStock, OwnedItem
from tests.support.factories import make_user

NOW = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)
STATIC = Path(shop.__file__).parents[1] / "web" / "static" / "shop"
KEY = "req-0000000001"


def _key(n: int) -> str:
    return f"req-{n:010d}"


async def _player(db: Database, points_given: int = 0) -> int:
    async with db.session() as session:
        user = await make_user(session)
        if points_given:
            await points.earn(session, user.id, key=f"test:{user.id}", reason="test",
                              points=points_given, now=NOW)  # fmt: skip
        await session.commit()
        return user.id


async def _buy(db: Database, uid: int, code: str, key: str = KEY, now: datetime = NOW) -> Any:
    async with db.session() as session:
        user = await session.get(User, uid)
        assert user is not None
        bought = await shop.buy(session, user, code, now, key, zone=SEOUL)
        await session.commit()
        return bought


async def _refused(db: Database, uid: int, code: str, key: str = KEY, **kw: Any) -> UserError:
    with pytest.raises(UserError) as refused:
        await _buy(db, uid, code, key, **kw)
    return refused.value


async def _state(db: Database, uid: int) -> tuple[int, set[str], int]:
    """Balance, owned items, and the user's ledger transactions."""
    async with db.reading() as session:
        balance = await points.balance(session, uid)
        owned = set(await shop.owned(session, uid))
        txns = await session.scalar(
            select(func.count())
            .select_from(PointTransaction)
            .where(PointTransaction.user_id == uid)
        )
        return balance, owned, int(txns or 0)


async def _equip(db: Database, uid: int, slot: str, code: str | None) -> None:
    async with db.session() as session:
        user = await session.get(User, uid)
        assert user is not None
        await shop.equip(session, user, slot, code)
        await session.commit()


async def _look(db: Database, uid: int) -> shop.Look:
    async with db.reading() as session:
        return (await shop.looks(session, [uid]))[uid]


async def _verify(db: Database) -> None:
    async with db.reading() as session:
        assert await points.verify(session) == []


# ---- The catalogue ------------------------------------------------------------------------


def test_the_catalogue_has_every_kind_with_names_and_images() -> None:
    items = shop.catalogue()
    by_slot = {slot: [i for i in items.values() if i.slot == slot] for slot in shop.SLOTS}
    assert len(by_slot["avatar"]) >= 8 and len(by_slot["frame"]) >= 3
    assert len(by_slot["name_color"]) >= 3 and len(by_slot["theme"]) >= 2
    assert any(i.seasonal for i in items.values()) and any(i.limit for i in items.values())
    for locale in i18n.LOCALES:
        names = i18n.catalogue(locale)
        assert {i.name_key for i in items.values()} <= set(names), locale
    for found in items.values():
        if found.image is None:
            continue
        svg = STATIC / f"{found.code}.svg"
        text = svg.read_text("utf-8")
        assert svg.stat().st_size < 4096 and "<title>" in text and "<script" not in text
        if found.slot == "avatar":
            assert 'viewBox="0 0 64 64"' in text
    # Every SVG in the folder is an item (no stray files shipped).
    assert {p.stem for p in STATIC.glob("*.svg")} == {
        i.code for i in items.values() if i.image is not None
    }


def _luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_name_colours_read_on_light_and_dark_backgrounds() -> None:
    colours = [i.color for i in shop.catalogue().values() if i.slot == "name_color"]
    assert colours
    for colour in colours:
        assert colour is not None
        assert _contrast(colour, "#ffffff") >= 4.5 and _contrast(colour, "#f7f8fa") >= 4.5
        assert _contrast(colour, "#1d2330") >= 3.0, colour  # a dark background
    assert _contrast("#777777", "#ffffff") < 4.5  # the check can fail


def test_themes_keep_code_readable() -> None:
    for found in shop.catalogue().values():
        if found.slot == "theme":
            css = dict(found.css_vars)
            assert _contrast(css["--shop-editor-fg"], css["--shop-editor-bg"]) >= 7
            assert _contrast(css["--shop-editor-gutter-fg"], css["--shop-editor-gutter-bg"]) >= 4.5
            assert re.fullmatch(r"(--shop-editor-[a-z-]+:#[0-9a-f]{6};)+", found.style())


@pytest.mark.parametrize(
    "bad",
    [
        '[items.Bad]\nslot = "avatar"\nprice = 1',
        '[items.hat]\nslot = "hat"\nprice = 1',
        '[items.cat]\nslot = "avatar"\nprice = 0',
        '[items.cat]\nslot = "avatar"\nprice = 1\nlimit = 0',
        '[items.red]\nslot = "name_color"\nprice = 1',
        '[items.red]\nslot = "name_color"\nprice = 1\ncolor = "red; background: url(x)"',
        '[items.dark]\nslot = "theme"\nprice = 1\n[items.dark.vars]\n"--evil" = "#000000"',
        '[items.cat]\nslot = "avatar"\nprice = 1\navailable_from = 2027-01-02\n'
        "available_until = 2027-01-01",
    ],
)
def test_a_bad_catalogue_is_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        shop.parse(bad)


# ---- Buying, owning, wearing --------------------------------------------------------------


async def test_buy_own_and_wear(db: Database) -> None:
    uid = await _player(db, 2000)
    cat, ocean, paper = shop.item("avatar_cat"), shop.item("name_ocean"), shop.item("theme_paper")
    bought = await _buy(db, uid, cat.code)
    assert bought.created and bought.item == cat
    await _buy(db, uid, ocean.code, _key(2))
    await _buy(db, uid, paper.code, _key(3))
    balance, owned, _ = await _state(db, uid)
    assert balance == 2000 - cat.price - ocean.price - paper.price
    assert owned == {cat.code, ocean.code, paper.code}
    assert await _look(db, uid) == shop.Look()
    await _equip(db, uid, "avatar", cat.code)
    await _equip(db, uid, "name_color", ocean.code)
    await _equip(db, uid, "theme", paper.code)
    assert await _look(db, uid) == shop.Look(
        avatar=cat.code, name_color=ocean.color, theme=paper.code
    )
    await _buy(db, uid, "avatar_fox", _key(4))
    await _equip(db, uid, "avatar", "avatar_fox")  # wearing another replaces it
    assert (await _look(db, uid)).avatar == "avatar_fox"
    await _equip(db, uid, "avatar", None)
    await _equip(db, uid, "avatar", None)  # taking off twice is fine
    assert await _look(db, uid) == shop.Look(name_color=ocean.color, theme=paper.code)
    async with db.reading() as session:
        line = (await points.history(session, uid, limit=1))[0]
    assert line.reason == "shop" and line.amount == -shop.item("avatar_fox").price
    assert line.params["item"] == "avatar_fox"
    await _verify(db)


async def test_only_owned_items_are_worn_in_their_slot(db: Database) -> None:
    uid = await _player(db, 500)
    with pytest.raises(UserError) as refused:
        await _equip(db, uid, "avatar", "avatar_cat")
    assert refused.value.status == 403 and refused.value.key == "shop.not_owned"
    await _buy(db, uid, "avatar_cat")
    for slot, code, key in [
        ("frame", "avatar_cat", "shop.bad_slot"),
        ("hat", "avatar_cat", "shop.bad_slot"),
        ("avatar", "avatar_nope", "shop.unknown_item"),
    ]:
        with pytest.raises(UserError) as refused:
            await _equip(db, uid, slot, code)
        assert refused.value.key == key and refused.value.status in (400, 404)
    assert await _look(db, uid) == shop.Look()


async def test_buying_again_pays_nothing(db: Database) -> None:
    uid = await _player(db, 1000)
    first = await _buy(db, uid, "avatar_owl", _key(1))
    again = await _buy(db, uid, "avatar_owl", _key(1))  # the same form sent twice
    assert again.created is False and again.transaction_id == first.transaction_id
    refused = await _refused(db, uid, "avatar_owl", _key(2))  # a new attempt
    assert (refused.status, refused.key) == (409, "shop.owned")
    balance, owned, txns = await _state(db, uid)
    assert balance == 1000 - shop.item("avatar_owl").price and owned == {"avatar_owl"}
    assert txns == 2  # the grant and one purchase


async def test_refusals_change_nothing(db: Database) -> None:
    uid = await _player(db, 100)
    before = await _state(db, uid)
    short = await _refused(db, uid, "avatar_rocket")
    assert (short.status, short.key) == (409, "shop.points_short")
    assert short.params == {"price": shop.item("avatar_rocket").price, "balance": 100}
    short = await _refused(db, uid, "avatar_dragon")  # limited: no stock taken either
    assert short.key == "shop.points_short"
    assert (await _refused(db, uid, "avatar_nope")).status == 404
    assert (await _refused(db, uid, "avatar_cat", "short")).key == "shop.bad_request"
    assert await _state(db, uid) == before
    async with db.reading() as session:
        assert await session.scalar(select(func.count()).select_from(ItemStock)) in (0, None)
    await _verify(db)


async def test_a_suspended_player_cannot_buy(db: Database) -> None:
    uid = await _player(db, 1000)
    async with db.session() as session:
        user = await session.get(User, uid)
        assert user is not None
        await sanctions.impose(session, user, SUSPEND, "Fair play.", None, days=3,
                               flag_id=None, now=NOW)  # fmt: skip
        await session.commit()
    before = await _state(db, uid)
    refused = await _refused(db, uid, "avatar_cat")
    assert (refused.status, refused.key) == (403, "shop.not_allowed")
    assert await _state(db, uid) == before
    await _buy(db, uid, "avatar_cat", now=NOW + timedelta(days=4))  # after it ends


async def test_a_seasonal_item_sells_in_its_season_only(db: Database) -> None:
    snowman = shop.item("avatar_snowman")
    assert snowman.available_from is not None and snowman.available_until is not None
    uid = await _player(db, 1000)
    # Seasons count in the site's time zone: the first day starts at midnight in Seoul.
    start = datetime.combine(snowman.available_from, datetime.min.time(), SEOUL)
    end = datetime.combine(snowman.available_until, datetime.max.time(), SEOUL)
    refused = await _refused(db, uid, snowman.code, now=start - timedelta(minutes=1))
    assert (refused.status, refused.key) == (409, "shop.off_sale")
    refused = await _refused(db, uid, snowman.code, now=end + timedelta(seconds=1))
    assert refused.key == "shop.off_sale"
    assert (await _state(db, uid))[1] == set()
    assert (await _buy(db, uid, snowman.code, now=start)).created
    other = await _player(db, 1000)
    assert (await _buy(db, other, snowman.code, now=end - timedelta(seconds=1))).created
    # Owners keep and wear it after the season.
    await _equip(db, uid, "avatar", snowman.code)
    assert (await _look(db, uid)).avatar == snowman.code


# ---- Concurrency --------------------------------------------------------------------------


async def test_a_limited_item_is_never_oversold(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Many players race for the last three; exactly three get one and pay, the others
    are told it is sold out and keep their points."""
    dragon = replace(shop.item("avatar_dragon"), limit=3)
    table = {**shop.catalogue(), dragon.code: dragon}
    monkeypatch.setattr(shop, "catalogue", lambda: table)
    players = [await _player(db, dragon.price) for _ in range(10)]

    async def attempt(uid: int) -> str:
        try:
            await _buy(db, uid, dragon.code, _key(uid))
        except UserError as refused:
            return refused.key
        return "bought"

    outcomes = await asyncio.gather(*(attempt(uid) for uid in players))
    assert sorted(outcomes).count("bought") == 3
    assert set(outcomes) == {"bought", "shop.sold_out"}
    async with db.reading() as session:
        assert await session.get(ItemStock, dragon.code) is not None
        sold = await session.scalar(select(ItemStock.sold).where(ItemStock.item == dragon.code))
        owners = await session.scalar(
            select(func.count()).select_from(OwnedItem).where(OwnedItem.item == dragon.code)
        )
    assert sold == 3 and owners == 3
    for uid, outcome in zip(players, outcomes, strict=True):
        balance = (await _state(db, uid))[0]
        assert balance == (0 if outcome == "bought" else dragon.price)
    await _verify(db)


async def test_one_player_buying_twice_at_once_pays_once(db: Database) -> None:
    uid = await _player(db, 1000)

    async def attempt(n: int) -> str:
        try:
            bought = await _buy(db, uid, "avatar_robot", _key(n))
        except UserError as refused:
            return refused.key
        return "bought" if bought.created else "again"

    outcomes = await asyncio.gather(*(attempt(n) for n in range(6)))
    assert outcomes.count("bought") == 1
    assert set(outcomes) <= {"bought", "shop.owned"}
    balance, owned, txns = await _state(db, uid)
    assert balance == 1000 - shop.item("avatar_robot").price
    assert owned == {"avatar_robot"} and txns == 2
    await _verify(db)
