"""Reports in the browser: after a ranked game, a player reports the opponent through the
dialog (a reason is required; the words are optional; once sent, "reported", also after a
reload), an operator reads the report on the flag page (laptop and phone widths, no page
scrolling sideways), and a `rating_held` entry in the match's log shows both players that
the result is under review."""

from __future__ import annotations

import json
import re
import sqlite3
import time
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, Dialog, Page, expect

from tests.e2e.actions import sign_in
from tests.support.servers import BATTLE_ENV, Server, Site

MATCH_PATH = re.compile(r"/matches/(\d+)$")
OpenPage = Callable[[str], Page]


@pytest.fixture(scope="module")
def report_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Site, Server]]:
    site = Site(tmp_path_factory.mktemp("reports"), env=BATTLE_ENV)
    site.import_problems("hello-battle")
    try:
        yield site, site.serve()
    finally:
        site.stop()


@pytest.fixture
def person(browser: Browser, report_site: tuple[Site, Server]) -> Iterator[OpenPage]:
    contexts = []
    errors: list[str] = []

    def open_page(name: str) -> Page:
        context = browser.new_context(base_url=report_site[1].url, locale="en-US")
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(f"{name}: {exc}"))
        sign_in(page, name)
        return page

    yield open_page
    for context in contexts:
        context.close()
    assert not errors, errors


def _hold(site: Site, match_id: int) -> None:
    """Append a `rating_held` entry to the match's log, as the fair-play pass does."""
    with sqlite3.connect(site.data / "var" / "codebattle.db", timeout=30) as db:
        db.execute("BEGIN IMMEDIATE")
        db.execute("UPDATE matches SET seq = seq + 1 WHERE id = ?", (match_id,))
        (seq,) = db.execute("SELECT seq FROM matches WHERE id = ?", (match_id,)).fetchone()
        db.execute(
            "INSERT INTO match_events (match_id, seq, type, at, data) VALUES (?, ?, ?, ?, ?)",
            (match_id, seq, "rating_held", time.time(), json.dumps({})),
        )


def test_report_after_a_game_and_the_review_note(
    person: OpenPage, browser: Browser, report_site: tuple[Site, Server]
) -> None:
    site, server = report_site
    alice, bob = person("alice"), person("bob")
    for page in (alice, bob):
        page.click("#nav-play")
    alice.click("#ranked")
    expect(alice.locator("#queue-status")).to_contain_text("Waiting")
    bob.click("#ranked")
    for page in (alice, bob):
        page.wait_for_url(MATCH_PATH)
        expect(page.locator("#state")).to_have_attribute("data-state", "running", timeout=15_000)
        expect(page.locator("#report-open")).to_be_hidden()  # not during the game
    found = MATCH_PATH.search(alice.url)
    assert found is not None
    match_id = int(found.group(1))

    def accept(dialog: Dialog) -> None:
        dialog.accept()

    bob.once("dialog", accept)
    bob.click("#give-up")
    for page in (alice, bob):
        expect(page.locator("#state")).to_have_attribute("data-state", "finished")
        expect(page.locator("#report-open")).to_be_visible()
        expect(page.locator("#rating-held")).to_be_hidden()

    alice.click("#report-open")
    dialog = alice.locator("#report-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("heading")).to_have_text(re.compile(r"^Report bob"))
    alice.click("#report-send")  # no reason chosen
    expect(alice.locator("#report-error")).to_have_text("Choose a reason first.")
    dialog.get_by_label("Copied code from someone else").check()
    alice.fill("#report-text", "The same code as the reference, names changed.")
    alice.click("#report-send")
    expect(dialog).to_be_hidden()
    expect(alice.locator("#report-done")).to_have_text(re.compile(r"^Reported\."))
    expect(alice.locator("#report-open")).to_be_hidden()
    alice.reload()
    expect(alice.locator("#report-done")).to_be_visible()
    expect(alice.locator("#report-open")).to_be_hidden()

    # Under review: from the log on reconnecting (a reload), for both players. (The server's
    # fair-play pass rates the game first; this test appends the hold after it.)
    expect(alice.locator("#feed")).to_contain_text("Ratings updated", timeout=15_000)
    _hold(site, match_id)
    for page in (alice, bob):
        page.reload()
        expect(page.locator("#rating-held")).to_have_text(
            "This result is under review; the rating change is held until an operator decides."
        )
        expect(page.locator("#feed")).to_contain_text("under review")

    # The operator reads it, on a laptop and on a phone.
    token = _operator_token(site)
    for width, height in ((1280, 800), (390, 844)):
        context = browser.new_context(
            base_url=server.url, locale="en-US", viewport={"width": width, "height": height},
            extra_http_headers={"Authorization": f"Bearer {token}"},
        )  # fmt: skip
        page = context.new_page()
        page.goto("/ops/flags")
        row = page.locator("#flags tbody tr").first
        expect(row).to_contain_text("Player report")
        row.get_by_role("link").first.click()
        expect(page.locator("#signal-reports")).to_contain_text(
            "The same code as the reference, names changed."
        )
        wide = page.evaluate("document.scrollingElement.scrollWidth > window.innerWidth + 1")
        assert not wide, width
        context.close()


def _operator_token(site: Site) -> str:
    """An operator signs in with an API token (nickname sign-in is for players)."""
    token = site.token("opal")  # creates the user
    site.cli("users", "role", "opal", "operator", "--reason", "test")
    return token
