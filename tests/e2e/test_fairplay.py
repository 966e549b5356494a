"""Fair play end to end, in the browser against a real server (judge, sockets, the fair-play
pass): in a ranked duel Alice types her own solution and submits it; Bob pastes a copy of it
with every name changed (shared outside the game) and submits before her verdict ends the
game. Bob's game is flagged high with its evidence (the matching fragments side by side,
the paste) and the game's rating is held: both players read that the result is under
review. Alice's typed solution is not flagged."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.actions import sign_in
from tests.fairplay.test_examine import ALICE, BOB_COPY
from tests.support.servers import BATTLE_ENV, Server, Site

MATCH_PATH = re.compile(r"/matches/(\d+)$")
JUDGED = 90_000  # ms
# Alice's solution takes a quarter of a second a test, so her verdict (26 tests) comes
# seconds after Bob has submitted too: the copy is judged in the same game.
ALICE_SLOW = ALICE.replace("def main():\n", "def main():\n    time.sleep(0.25)\n", 1).replace(
    "import sys\n", "import sys\nimport time\n", 1
)
HELD = "This result is under review; the rating change is held until an operator decides."


@pytest.fixture(scope="module")
def fair_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Site, Server]]:
    site = Site(tmp_path_factory.mktemp("fairplay"), env=BATTLE_ENV)
    site.import_problems("island-count")
    try:
        yield site, site.serve()
    finally:
        site.stop()


def person(browser: Browser, server: Server, name: str, errors: list[str]) -> Page:
    context = browser.new_context(base_url=server.url, locale="en-US")
    page = context.new_page()
    page.on("pageerror", lambda exc: errors.append(f"{name}: {exc}"))
    sign_in(page, name)
    return page


def typed(page: Page, code: str) -> None:
    """Type `code` as a phone keyboard does (input without named keys: the editor's
    telemetry counts the characters inserted), after clearing the editor's template."""
    editor = page.locator("#editor .cm-content")
    editor.click()
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    page.wait_for_timeout(200)  # the Delete key's own input is behind us
    page.keyboard.insert_text(code)
    expect(editor).to_contain_text("seen = [[False] * cols for _ in range(rows)]")


def paste(page: Page, text: str) -> None:
    """Paste `text` into the editor as the browser does with the clipboard (from outside the
    page: nothing was copied in it)."""
    editor = page.locator("#editor .cm-content")
    editor.click()
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    page.evaluate(
        """(text) => {
            const data = new DataTransfer();
            data.setData("text/plain", text);
            const event = new ClipboardEvent(
                "paste", {clipboardData: data, bubbles: true, cancelable: true});
            document.querySelector("#editor .cm-content").dispatchEvent(event);
        }""",
        text,
    )
    expect(editor).to_contain_text("visited = [[False] * w for _ in range(h)]")


def test_a_pasted_renamed_copy_is_flagged_high_and_a_typed_solution_is_not(
    browser: Browser, fair_site: tuple[Site, Server]
) -> None:
    site, server = fair_site
    errors: list[str] = []
    alice = person(browser, server, "alice", errors)
    bob = person(browser, server, "bob", errors)
    for page in (alice, bob):
        page.click("#nav-play")
    alice.click("#ranked")
    expect(alice.locator("#queue-status")).to_contain_text("Waiting")
    bob.click("#ranked")
    for page in (alice, bob):
        page.wait_for_url(MATCH_PATH)
        expect(page.locator("#state")).to_have_attribute("data-state", "running", timeout=15_000)
    found = MATCH_PATH.search(alice.url)
    assert found is not None
    match_id = found.group(1)

    typed(alice, ALICE_SLOW)
    paste(bob, BOB_COPY)
    alice.click("#submit")
    expect(alice.locator("#results")).to_be_visible()
    bob.click("#submit")
    expect(bob.locator("#results")).to_be_visible()
    for page in (alice, bob):
        expect(page.locator("#state")).to_have_attribute("data-state", "finished", timeout=JUDGED)
        expect(page.locator("#rating-held")).to_have_text(HELD, timeout=30_000)
    expect(alice.locator("#result-title")).to_contain_text(re.compile("won", re.I))

    # The operator's queue: Bob's game, flagged high, with its evidence; nothing of Alice's.
    token = site.token("opal")
    site.cli("users", "role", "opal", "operator", "--reason", "test")
    context = browser.new_context(
        base_url=server.url, locale="en-US", viewport={"width": 1280, "height": 800},
        extra_http_headers={"Authorization": f"Bearer {token}"},
    )  # fmt: skip
    ops = context.new_page()
    ops.goto("/")
    ops.click("#nav-ops")  # operators have the dashboard in their menu, the queue in it
    ops.click("#ops-nav-flags")
    rows = ops.locator("#flags tbody tr")
    expect(rows).to_have_count(1, timeout=15_000)
    expect(rows.first).to_contain_text("bob")
    expect(rows.first).not_to_contain_text("alice")
    expect(rows.first).to_contain_text(re.compile("high", re.I))
    rows.first.get_by_role("link").first.click()
    similarity = ops.locator("#signal-similarity")
    expect(similarity).to_contain_text("alice")
    expect(similarity).to_contain_text("visited = [[False] * w for _ in range(h)]")  # Bob's
    expect(similarity).to_contain_text("seen = [[False] * cols for _ in range(rows)]")  # hers
    expect(ops.locator("#signal-paste")).to_contain_text(re.compile("outside", re.I))
    ops.screenshot(path=str(site.data / "flag.png"), full_page=True)
    flag_url = ops.url
    context.close()
    # On a phone: the two codes one above the other, nothing wider than the screen.
    phone = browser.new_context(
        base_url=server.url, locale="ko-KR", viewport={"width": 390, "height": 844},
        extra_http_headers={"Authorization": f"Bearer {token}"},
    )  # fmt: skip
    small = phone.new_page()
    small.goto(flag_url)
    expect(small.locator("#signal-similarity")).to_be_visible()
    small.screenshot(path=str(site.data / "flag-phone.png"), full_page=True)
    wide = small.evaluate("document.scrollingElement.scrollWidth > window.innerWidth + 1")
    assert not wide
    phone.close()
    assert match_id
    assert not errors, errors
