"""The day's games in the browser, in Korean: a Free player with FREE_MATCH_LIMIT=1 sees one
game left, plays one against the AI (and gives it up), and back in the lobby sees none left,
the message naming what Basic and Pro give with the link to the plans, and the game buttons
disabled (practice and rooms stay open). Screenshots at 1280x800 and 390x844 in /tmp/shots/."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Dialog, Page, expect

from tests.e2e.actions import sign_in
from tests.support.servers import BATTLE_ENV, Server, Site

SHOTS = Path("/tmp/shots")
MATCH_PATH = re.compile(r"/matches/\d+$")


@pytest.fixture(scope="module")
def limited_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    site = Site(tmp_path_factory.mktemp("limits"), env={**BATTLE_ENV, "FREE_MATCH_LIMIT": "1"})
    site.import_problems("hello-battle")
    try:
        yield site.serve()
    finally:
        site.stop()


@pytest.fixture
def korean(browser: Browser, limited_server: Server) -> Iterator[Page]:
    context = browser.new_context(
        base_url=limited_server.url, locale="ko-KR", viewport={"width": 1280, "height": 800}
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert not errors, errors


def _shoot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width, height in ((1280, 800), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=str(SHOTS / f"{name}-{width}x{height}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 800})


def test_the_last_game_of_the_day_in_korean(korean: Page) -> None:
    page = korean
    sign_in(page, "plan")
    page.goto("/play")
    expect(page.locator("#plan-name")).to_have_text("무료")
    expect(page.locator("#games-left")).to_have_text("오늘 남은 게임: 1판 중 1판")
    expect(page.locator("#games-out")).to_be_hidden()
    expect(page.locator("#play-ai")).to_be_enabled()

    page.select_option("#ai-level", "easy")
    page.click("#play-ai")
    page.wait_for_url(MATCH_PATH)
    expect(page.locator("#state")).to_have_attribute("data-state", re.compile("countdown|running"))

    def accept(dialog: Dialog) -> None:
        dialog.accept()

    page.once("dialog", accept)
    expect(page.locator("#state")).to_have_attribute("data-state", "running", timeout=15_000)
    page.click("#give-up")
    expect(page.locator("#state")).to_have_attribute("data-state", "finished")

    page.goto("/play")
    expect(page.locator("#games-left")).to_have_text("오늘 남은 게임: 1판 중 0판")
    out = page.locator("#games-out")
    expect(out).to_be_visible()
    expect(out).to_contain_text("오늘의 게임 1판을 모두 했습니다")
    expect(out).to_contain_text("Basic은 하루 30판, Pro는 하루 제한이 없습니다")
    expect(page.locator("#pricing-link")).to_have_attribute("href", "/pricing")
    expect(page.locator("#pricing-link")).to_have_text("요금제 보기")
    for button in ("#ranked", "#play-ai"):
        expect(page.locator(button)).to_be_disabled()
        expect(page.locator(button)).to_have_attribute("aria-describedby", "games-out")
    expect(page.locator("#practice-link")).to_be_visible()  # practice is unlimited
    expect(page.locator("#rooms-link")).to_be_visible()
    _shoot(page, "plan-limit-lobby")

    # Whatever the page shows, the server decides: a button enabled by hand is refused and
    # the page says why.
    stale = page.context.new_page()
    stale.goto("/play")
    stale.evaluate("() => { document.getElementById('play-ai').disabled = false; }")
    with stale.expect_response(lambda r: r.url.endswith("/api/matches/ai")) as refused:
        stale.click("#play-ai")
    assert refused.value.status == 429
    expect(stale.locator("#games-out")).to_be_visible()
    expect(stale.locator("#play-ai")).to_be_disabled()
    expect(stale.locator("#lobby-error")).to_be_hidden()
