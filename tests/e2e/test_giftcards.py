"""A gift card end to end, in the browser against a real server: a player with points
finds the points page from the menu, requests a card (the first exchange waits for an
operator), an operator approves it in the dashboard's queue (confirmed in the dialog), the
issuing pass sends it through the app's built-in fake Giftishow, and the player sees it
issued; then the operator cancels the card (confirmed in the dialog) and the player sees
it cancelled with the points back. Every page is looked at on a laptop and on a phone,
in English and Korean, and never scrolls sideways; screenshots in /tmp/shots/."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize, expect
from sqlalchemy import select

from codebattle.accounts.models import User
from codebattle.config import Settings, load_settings
from codebattle.db.session import Database
from codebattle.integrations.giftishow import provider_for
from codebattle.progress import points
from codebattle.rewards import giftcards
from tests.e2e.actions import sign_in
from tests.support.servers import Server, Site

PHONE: ViewportSize = {"width": 390, "height": 844}
LAPTOP: ViewportSize = {"width": 1280, "height": 800}
SHOTS = Path("/tmp/shots")


@pytest.fixture(scope="module")
def gift_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Site, Server]]:
    site = Site(tmp_path_factory.mktemp("giftcards"))
    site.import_problems("hello-battle")
    try:
        yield site, site.serve()
    finally:
        site.stop()


def _settings(site: Site, server: Server) -> Settings:
    env = site.environment(BASE_URL=server.url)
    return load_settings(**{k: v for k, v in env.items() if k not in ("PATH", "HOME")})


def _in_thread(work: Any) -> Any:
    """Run a coroutine function to completion in a thread of its own (Playwright's sync
    API holds this thread's event loop)."""
    out: dict[str, Any] = {}

    def target() -> None:
        try:
            out["value"] = asyncio.run(work())
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            out["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    thread.join(60)
    if "error" in out:
        raise out["error"]
    return out.get("value")


def _grant(settings: Settings, nickname: str, amount: int) -> None:
    """Points for `nickname`, and a birth year (an unknown age may not exchange points)."""

    async def work() -> None:
        db = Database(settings.database_url)
        try:
            async with db.session() as session:
                user = await session.scalar(select(User).where(User.nickname == nickname))
                assert user is not None
                user.birth_year = 1990
                await points.earn(session, user.id, key=f"e2e:{nickname}", reason="win",
                                  points=amount)  # fmt: skip
                await session.commit()
        finally:
            await db.dispose()

    _in_thread(work)


def _issue(settings: Settings) -> giftcards.IssueReport:
    """The issuing pass, as the server's loop runs it, against the app's fake Giftishow."""

    async def work() -> giftcards.IssueReport:
        db = Database(settings.database_url)
        provider = provider_for(settings)
        assert provider is not None
        try:
            return await giftcards.issue_due(db, provider, settings, datetime.now(UTC))
        finally:
            await provider.aclose()
            await db.dispose()

    report: giftcards.IssueReport = _in_thread(work)
    return report


def _fits(page: Page) -> None:
    wide = page.evaluate("document.scrollingElement.scrollWidth > window.innerWidth + 1")
    assert not wide, page.url


def test_a_player_exchanges_points_for_a_gift_card(
    browser: Browser, gift_site: tuple[Site, Server]
) -> None:
    site, server = gift_site
    settings = _settings(site, server)
    SHOTS.mkdir(parents=True, exist_ok=True)
    errors: list[str] = []
    contexts: list[BrowserContext] = []

    def context(locale: str = "en-US", viewport: ViewportSize = LAPTOP, **extra: Any) -> Page:
        made = browser.new_context(base_url=server.url, locale=locale, viewport=viewport, **extra)
        contexts.append(made)
        page = made.new_page()
        page.on("pageerror", lambda exc: errors.append(f"{page.url}: {exc}"))
        return page

    def views(page: Page, paths: list[str], name: str, **extra: Any) -> None:
        """Each path in en and ko, laptop and phone: fits, and a screenshot."""
        for locale in ("en-US", "ko-KR"):
            for label, viewport in (("laptop", LAPTOP), ("phone", PHONE)):
                other = context(locale, viewport, **extra)
                if not extra:
                    other.context.add_cookies(page.context.cookies())
                for path in paths:
                    other.goto(path)
                    expect(other.locator("h1")).to_be_visible()
                    _fits(other)
                    slug = path.strip("/").replace("/", "-")
                    other.screenshot(
                        path=str(SHOTS / f"{name}-{slug}-{locale[:2]}-{label}.png"),
                        full_page=True,
                    )

    try:
        player = context()
        nickname = sign_in(player, "gina")
        _grant(settings, nickname, 5000)

        # The points page from the menu, then the gift cards from there.
        player.click("#nav-points")
        expect(player.locator("#points-balance-value")).to_have_text("5000")
        expect(player.locator("#points-history")).to_contain_text("Rated win")
        player.click("#points-to-giftcards")
        expect(player.locator("h1")).to_have_text("Gift cards")
        expect(player.locator("#goods-G00000000105")).to_be_disabled()  # over the card limit
        player.get_by_label("CU mobile voucher 3,000 won").check()
        player.get_by_label("Mobile phone number to receive the card").fill("010-1234-5678")
        player.get_by_label("I agree that my mobile phone number is passed").check()
        player.click("#gift-submit")
        expect(player.locator("#gift-done")).to_be_visible()
        exchange = player.locator("#gift-exchanges li").first
        expect(exchange).to_have_attribute("data-state", "pending")
        expect(exchange).to_contain_text("Waiting for approval")
        expect(player.locator("#gift-balance")).to_have_text("2000")
        views(player, ["/points", "/rewards/giftcards"], "player-pending")

        # The operator: the dashboard's count, the queue, approve (confirmed).
        token = site.token("opal")
        site.cli("users", "role", "opal", "operator", "--reason", "test")
        auth: dict[str, Any] = {"extra_http_headers": {"Authorization": f"Bearer {token}"}}
        ops = context(**auth)
        ops.goto("/ops")
        expect(ops.locator("#home-rewards-pending")).to_contain_text("1")
        ops.click("#ops-nav-rewards")
        card = ops.locator("#gift-queue > li").filter(has_text=nickname)
        expect(card).to_have_count(1)
        expect(card).to_contain_text("First exchange")
        expect(card).to_contain_text("19 or older")
        views(ops, ["/ops/rewards"], "ops-queue", **auth)
        card.get_by_role("button", name="Approve").click()
        expect(ops.locator("#ops-confirm-dialog")).to_be_visible()
        ops.click("#ops-confirm-yes")
        expect(ops.locator("#gift-ops-done")).to_be_visible()
        expect(ops.locator("#gift-queue-empty")).to_be_visible()

        # The issuing pass sends it through the fake Giftishow; the player sees it issued.
        report = _issue(settings)
        assert len(report.issued) == 1 and report.failed == [], report
        player.reload()
        expect(exchange).to_have_attribute("data-state", "issued")
        expect(exchange).to_contain_text("Issued")
        expect(player.locator("#gift-exchanges")).not_to_contain_text("5678")  # erased
        views(player, ["/rewards/giftcards", "/points", "/notifications"], "player-issued")

        # The operator cancels the card (not used): the player gets the points back.
        ops.goto("/ops/rewards")
        sent = ops.locator("#gift-issued-list > li").filter(has_text=nickname)
        expect(sent).to_have_count(1)
        views(ops, ["/ops/rewards"], "ops-issued", **auth)
        sent.get_by_label("Reason for cancelling (shown to the player)").fill("sent by mistake")
        sent.get_by_role("button", name="Cancel card").click()
        expect(ops.locator("#ops-confirm-dialog")).to_be_visible()
        ops.click("#ops-confirm-yes")
        expect(ops.locator("#gift-ops-done")).to_contain_text("Cancelled")
        expect(ops.locator("#gift-issued-empty")).to_be_visible()
        player.reload()
        expect(exchange).to_have_attribute("data-state", "cancelled")
        expect(exchange).to_contain_text("Reason: sent by mistake")
        expect(player.locator("#gift-balance")).to_have_text("5000")
        views(player, ["/rewards/giftcards"], "player-cancelled")
        assert errors == []
    finally:
        for made in contexts:
            made.close()
