"""The avatar shop in the browser against a real server: a player with points (granted
through the ledger in the test's setup) opens the shop from the menu, buys an avatar and a
frame after confirming on the page, wears them, and sees them on their profile. The shop
and the profile are looked at on a laptop and on a phone, in English and Korean, and never
scroll sideways; screenshots are saved under /tmp/shots/."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect
from sqlalchemy import select

from codebattle.accounts.models import User
from codebattle.db.session import Database
from codebattle.progress import points
from tests.e2e.actions import sign_in
from tests.support.servers import Server, Site

PHONE: ViewportSize = {"width": 390, "height": 844}
LAPTOP: ViewportSize = {"width": 1280, "height": 800}
SHOTS = Path("/tmp/shots")


@pytest.fixture(scope="module")
def shop_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Site, Server]]:
    site = Site(tmp_path_factory.mktemp("shop"))
    try:
        yield site, site.serve()
    finally:
        site.stop()


def _grant(site: Site, nickname: str, amount: int) -> None:
    """Give the player points through the ledger, as earning would (in a thread: the
    browser's event loop owns this one)."""

    async def go() -> None:
        database = Database(f"sqlite+aiosqlite:///{site.data / 'var' / 'codebattle.db'}")
        try:
            async with database.session() as session:
                user = await session.scalar(select(User).where(User.nickname == nickname))
                assert user is not None
                await points.earn(session, user.id, key=f"e2e:{nickname}", reason="test",
                                  points=amount)  # fmt: skip
                await session.commit()
        finally:
            await database.dispose()

    worker = threading.Thread(target=asyncio.run, args=(go(),))
    worker.start()
    worker.join(60)


def _fits(page: Page) -> None:
    wide = page.evaluate("document.scrollingElement.scrollWidth > window.innerWidth + 1")
    assert not wide, page.url


def _shots(page: Page, name: str) -> None:
    """The page on a laptop and a phone, in the current language."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    for label, size in (("laptop", LAPTOP), ("phone", PHONE)):
        page.set_viewport_size(size)
        _fits(page)
        page.screenshot(path=str(SHOTS / f"{name}-{label}.png"), full_page=True)
    page.set_viewport_size(LAPTOP)


def _buy(page: Page, code: str, name: str, price: int) -> None:
    page.locator(f"#shop-item-{code}").get_by_role("link", name=f"Buy {name}").click()
    confirm = page.locator("#shop-confirm")
    expect(confirm).to_be_visible()
    expect(confirm).to_contain_text(f"Spend {price} points on {name}?")
    page.click("#shop-confirm-yes")
    expect(page.locator("#shop-done")).to_contain_text(f"You bought {name}.")


def test_a_player_buys_an_avatar_wears_it_and_sees_it_on_the_profile(
    browser: Browser, shop_site: tuple[Site, Server]
) -> None:
    site, server = shop_site
    context = browser.new_context(base_url=server.url, locale="en-US", viewport=LAPTOP)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(f"{page.url}: {exc}"))
    try:
        nickname = sign_in(page, "shop")
        _grant(site, nickname, 1000)
        page.click("#nav-shop")
        expect(page.locator("h1")).to_have_text("Avatar shop")
        expect(page.locator("#shop-points")).to_have_text("1000")
        expect(page.locator("#shop-item-avatar_snowman")).to_contain_text("Seasonal")
        _shots(page, "shop-en")

        _buy(page, "avatar_cat", "Cat", 150)
        expect(page.locator("#shop-points")).to_have_text("850")
        page.locator("#shop-item-avatar_cat").get_by_role("button", name="Wear Cat").click()
        expect(page.locator("#shop-done")).to_contain_text("You are wearing Cat.")
        expect(page.locator("#shop-item-avatar_cat")).to_contain_text("Wearing")
        _buy(page, "frame_bronze", "Bronze frame", 300)
        page.get_by_role("button", name="Wear Bronze frame").click()
        expect(page.locator("#shop-points")).to_have_text("550")

        # Not enough points for the gold frame: the reason and where to earn more.
        _buy_short = page.locator("#shop-item-frame_gold")
        expect(_buy_short).to_contain_text("You need 650 more points.")
        _buy_short.get_by_role("link", name="Buy Gold frame").click()
        expect(page.locator("#shop-confirm-short")).to_contain_text("Not enough points")
        expect(page.locator("#shop-confirm-yes")).to_have_count(0)  # nothing to press
        expect(page.locator("#shop-confirm-short a")).to_have_attribute("href", "/points")
        expect(page.locator("#shop-points")).to_have_text("550")

        page.click("#who")
        expect(page.locator("#profile-avatar")).to_be_visible()
        expect(page.locator("#profile-avatar")).to_have_attribute(
            "src", "/static/shop/avatar_cat.svg"
        )
        expect(page.locator("#profile-frame")).to_be_visible()
        expect(page.locator("#profile-look")).to_have_attribute(
            "aria-label", "Avatar and frame: Cat, Bronze frame"
        )
        _shots(page, "profile-en")

        # The same pages in Korean.
        page.locator("button[name=lang][value=ko]").click()
        expect(page.locator("#profile-look")).to_have_attribute(
            "aria-label", "아바타와 테두리: 고양이, 청동 테두리"
        )
        _shots(page, "profile-ko")
        page.click("#nav-shop")
        expect(page.locator("h1")).to_have_text("아바타 상점")
        expect(page.locator("#shop-item-avatar_cat")).to_contain_text("착용 중")
        _shots(page, "shop-ko")
        page.goto("/shop?buy=avatar_fox")
        expect(page.locator("#shop-confirm")).to_contain_text("여우에 150 포인트를 쓸까요?")
        _shots(page, "shop-confirm-ko")
    finally:
        context.close()
    assert not errors, errors
