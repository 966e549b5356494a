"""Operators end to end, in the browser against a real server: after a ranked game Alice
reports Bob; an operator finds the flag from the dashboard and warns Bob (confirmed in a
dialog); Bob reads the warning in his notifications and appeals it from there; the operator
finds the appeal in the queue with its time left, answers it and grants it, which overturns
the warning; Bob reads the answer and the outcome on his appeal page. Pages are looked at on a
laptop and on a phone, in English and Korean, and never scroll sideways."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Dialog, Page, ViewportSize, expect

from tests.e2e.actions import sign_in
from tests.support.servers import BATTLE_ENV, Server, Site

MATCH_PATH = re.compile(r"/matches/(\d+)$")
APPEAL_PATH = re.compile(r"/appeals/(\d+)$")
PHONE: ViewportSize = {"width": 390, "height": 844}
LAPTOP: ViewportSize = {"width": 1280, "height": 800}


@pytest.fixture(scope="module")
def ops_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Site, Server]]:
    site = Site(tmp_path_factory.mktemp("operators"), env=BATTLE_ENV)
    site.import_problems("hello-battle")
    try:
        yield site, site.serve()
    finally:
        site.stop()


def _fits(page: Page) -> None:
    wide = page.evaluate("document.scrollingElement.scrollWidth > window.innerWidth + 1")
    assert not wide, page.url


def _confirm(page: Page) -> None:
    """Say yes in the operators' confirm dialog."""
    expect(page.locator("#ops-confirm-dialog")).to_be_visible()
    page.click("#ops-confirm-yes")


def test_an_operator_decides_a_flag_and_answers_the_appeal(
    browser: Browser, ops_site: tuple[Site, Server]
) -> None:
    site, server = ops_site
    errors: list[str] = []
    contexts: list[BrowserContext] = []

    def context(locale: str = "en-US", viewport: ViewportSize = LAPTOP, **extra: Any) -> Page:
        made = browser.new_context(base_url=server.url, locale=locale, viewport=viewport, **extra)
        contexts.append(made)
        page = made.new_page()
        page.on("pageerror", lambda exc: errors.append(f"{page.url}: {exc}"))
        return page

    alice, bob = context(), context()
    sign_in(alice, "alice")
    bob_name = sign_in(bob, "bob")
    for page in (alice, bob):
        page.click("#nav-play")
    alice.click("#ranked")
    expect(alice.locator("#queue-status")).to_contain_text("Waiting")
    bob.click("#ranked")
    for page in (alice, bob):
        page.wait_for_url(MATCH_PATH)
        expect(page.locator("#state")).to_have_attribute("data-state", "running", timeout=15_000)

    def accept(dialog: Dialog) -> None:
        dialog.accept()

    bob.once("dialog", accept)
    bob.click("#give-up")
    expect(alice.locator("#state")).to_have_attribute("data-state", "finished")
    alice.click("#report-open")
    alice.locator("#report-dialog").get_by_label("Copied code from someone else").check()
    alice.fill("#report-text", "He pasted the whole solution at once.")
    alice.click("#report-send")
    expect(alice.locator("#report-done")).to_be_visible()

    # The operator: from the menu to the dashboard, the flag queue, the flag; warns Bob.
    token = site.token("opal")
    site.cli("users", "role", "opal", "operator", "--reason", "test")
    auth: dict[str, Any] = {"extra_http_headers": {"Authorization": f"Bearer {token}"}}
    ops = context(**auth)
    ops.goto("/")
    ops.click("#nav-ops")
    expect(ops.locator("h1")).to_be_visible()
    _fits(ops)
    ops.click("#ops-nav-flags")
    row = ops.locator("#flags tbody tr").filter(has_text=bob_name)
    expect(row).to_have_count(1, timeout=15_000)
    row.get_by_role("link").first.click()
    expect(ops.locator("#signal-reports")).to_contain_text("He pasted the whole solution")
    ops.check("#decision-warn")
    ops.fill("#decision-reason", "A report and the telemetry show a paste of a full solution.")
    ops.click("#decision-submit")
    _confirm(ops)
    expect(ops.locator("#decision-made")).to_contain_text(re.compile("warn", re.I))
    ops.screenshot(path=str(site.data / "flag-decided.png"), full_page=True)

    # Bob: the unread badge, the warning with its reason, and the way to appeal it.
    bob.goto("/")
    expect(bob.locator("#unread-badge")).to_have_text("1")
    bob.click("#nav-notifications")
    note = bob.locator("#notifications li").first
    expect(note).to_contain_text("A report and the telemetry show a paste")
    note.get_by_role("link", name="How to appeal").click()
    bob.fill("#appeal-text", "I typed it myself; I had solved this problem in practice before.")
    bob.click("#appeal-file")
    expect(bob.locator("#ops-confirm-dialog")).to_be_visible()
    bob.click("#ops-confirm-yes")
    bob.wait_for_url(APPEAL_PATH)
    found = APPEAL_PATH.search(bob.url)
    assert found is not None
    appeal_id = found.group(1)
    expect(bob.locator("#appeal-thread")).to_contain_text("I typed it myself")

    # The operator: the appeal in the queue with its time left; answers it, then grants it.
    ops.click("#ops-nav-appeals")
    appeal_row = ops.locator(f"#appeal-{appeal_id}")
    expect(appeal_row).to_contain_text(re.compile("left", re.I))
    expect(appeal_row).to_have_attribute("data-urgency", "ok")
    _fits(ops)
    appeal_row.get_by_role("link").first.click()
    ops.fill("#ops-reply-text", "Thank you; we are looking at your practice history.")
    ops.click("#ops-reply")
    expect(ops.locator("#ops-confirm-dialog")).to_be_visible()
    ops.click("#ops-confirm-yes")
    expect(ops.locator("#appeal-thread")).to_contain_text("looking at your practice history")
    ops.check("input[name=outcome][value=granted]")
    ops.fill(
        "#ops-decide-text", "Your practice history shows the same solution: warning withdrawn."
    )
    ops.click("#ops-decide")
    expect(ops.locator("#ops-confirm-dialog")).to_be_visible()
    ops.click("#ops-confirm-yes")
    expect(ops.locator("#appeal-outcome")).to_contain_text(re.compile("granted", re.I))
    ops.screenshot(path=str(site.data / "appeal-decided.png"), full_page=True)

    # The flag now reads overturned; Bob reads the answer and the outcome.
    ops.goto(f"/ops/appeals/{appeal_id}")
    ops.click("#target-flag")
    expect(ops.locator("#flag-status")).to_contain_text(re.compile("overturned", re.I))
    bob.goto(f"/appeals/{appeal_id}")
    expect(bob.locator("#appeal-thread")).to_contain_text("warning withdrawn")
    expect(bob.locator("#appeal-thread")).to_contain_text("Operator")
    expect(bob.locator("#appeal-thread")).not_to_contain_text("opal")
    expect(bob.locator("#appeal-outcome")).to_contain_text(re.compile("granted", re.I))

    # The same pages on a phone, in Korean: nothing wider than the screen.
    phone_ops = context("ko-KR", PHONE, **auth)
    for path in ("/ops", "/ops/flags", "/ops/appeals", f"/ops/appeals/{appeal_id}", "/ops/audit"):
        phone_ops.goto(path)
        expect(phone_ops.locator("h1")).to_be_visible()
        _fits(phone_ops)
    phone_ops.screenshot(path=str(site.data / "ops-appeal-phone.png"), full_page=True)
    # The audit log has the decision and the appeal's life.
    phone_ops.goto("/ops/audit")
    expect(phone_ops.locator('a[href="/ops/audit?action=flag_decision"]').first).to_be_visible()
    bob.set_viewport_size(PHONE)
    bob.goto(f"/appeals/{appeal_id}")
    _fits(bob)
    bob.screenshot(path=str(site.data / "appeal-phone.png"), full_page=True)

    for made in contexts:
        made.close()
    assert not errors, errors
