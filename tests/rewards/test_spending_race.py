"""Purchases and gift-card exchanges fired at once against a balance that covers only a
few, on SQLite and PostgreSQL: the balance never goes below zero, no point is spent twice
(what left the balance is exactly the price of what was bought), the ledger verifies."""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

from codebattle.accounts.models import User
from codebattle.config import Settings
from codebattle.db.session import Database
from codebattle.errors import UserError
from codebattle.progress import points
from codebattle.rewards import giftcards, shop
from codebattle.rewards.models import GiftExchange, OwnedItem
from tests.support.factories import make_user
from tests.support.site import settings_for

NOW = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)
CU3000 = "G00000000101"
AVATARS = ["avatar_cat", "avatar_fox", "avatar_owl", "avatar_penguin", "avatar_turtle",
           "avatar_robot", "avatar_octopus", "avatar_rocket"]  # fmt: skip
_keys = itertools.count(1)


async def _buy(db: Database, user_id: int, item: str) -> int:
    """A purchase in its own session, as a request makes it: the price paid, or 0."""
    async with db.session() as session:
        user = await session.get(User, user_id)
        assert user is not None
        try:
            await shop.buy(session, user, item, NOW, f"race-buy-{next(_keys):04d}")
            await session.commit()
        except UserError:
            await session.rollback()
            return 0
        return shop.item(item).price


async def _exchange(db: Database, settings: Settings, user_id: int) -> int:
    async with db.session() as session:
        user = await session.get(User, user_id)
        assert user is not None
        try:
            made = await giftcards.request(
                session, user, CU3000, "010-1234-5678", True, f"race-gift-{next(_keys):04d}",
                NOW, settings,
            )  # fmt: skip
        except UserError:
            await session.rollback()
            return 0
        return made.points


async def test_purchases_and_exchanges_at_once_never_overdraw(db: Database, tmp_path: Path) -> None:
    settings = settings_for(tmp_path, REWARD_MONTHLY_CAP_WON=30000, POINT_WON=1.0)
    async with db.session() as session:
        user = await make_user(session)
        user.birth_year = 1990
        await points.earn(session, user.id, key="seed", reason="win", points=4000)
        await session.commit()
        uid = user.id
    paid = await asyncio.gather(
        *(_exchange(db, settings, uid) for _ in range(4)),  # 3000 each
        *(_buy(db, uid, item) for item in AVATARS),  # 150 to 300 each
    )
    async with db.reading() as session:
        left = await points.balance(session, uid)
        exchanges = await session.scalar(
            select(func.count()).select_from(GiftExchange).where(GiftExchange.user_id == uid)
        )
        owned = await session.scalar(
            select(func.count()).select_from(OwnedItem).where(OwnedItem.user_id == uid)
        )
    assert left >= 0
    assert 4000 - left == sum(paid)  # every point that left paid for one thing
    assert exchanges == sum(1 for p in paid[:4] if p) <= 1  # 4000 covers one card
    assert owned == sum(1 for p in paid[4:] if p)
    async with db.session() as session:
        assert points.describe(await points.verify(session)) == []
