"""The account pages on a 390px phone: none is wider than the screen (a wide table scrolls
in its own box, which the keyboard can reach), in Korean and in English."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from codebattle.i18n import translate
from tests.e2e.actions import sign_in

PHONE = {"width": 390, "height": 844}
PUBLIC = ["/privacy", "/terms", "/pricing", "/feedback"]


def width_of(page: Page) -> int:
    return int(page.evaluate("document.documentElement.scrollWidth"))


@pytest.mark.parametrize("locale", ["ko-KR", "en-US"])
def test_account_pages_fit_a_phone(browser: Browser, server: str, locale: str) -> None:
    lang = locale[:2]
    context = browser.new_context(base_url=server, locale=locale, viewport=PHONE, is_mobile=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        for path in PUBLIC:
            page.goto(path)
            assert width_of(page) <= 390, f"{path} is {width_of(page)}px wide ({locale})"

        # The privacy table scrolls sideways inside its own region, reachable by keyboard.
        page.goto("/privacy")
        region = page.locator(".table-scroll").first
        expect(region).to_have_attribute("role", "region")
        region.focus()
        expect(region).to_be_focused()
        inner = region.evaluate("box => [box.scrollWidth, box.clientWidth]")
        assert inner[0] > inner[1], "the privacy table is meant to be wider than a phone"
        page.keyboard.press("ArrowRight")
        expect(region).not_to_have_js_property("scrollLeft", 0)

        sign_in(page, "fit")
        page.goto("/settings")
        page.fill("#token-form input[name=name]", "a rather long token name for a phone")
        page.click("#token-form button[type=submit]")
        expect(page.locator("#new-token")).to_be_visible()
        page.goto("/settings")
        expect(page.locator("#tokens")).to_be_visible()
        expect(page.locator("#api-tokens .table-scroll")).to_have_attribute(
            "aria-labelledby", "api-tokens-title"
        )
        assert width_of(page) <= 390, f"/settings is {width_of(page)}px wide ({locale})"
        # Session times are in the site's zone, named.
        expect(page.locator("#session-list time").first).to_contain_text("KST")

        # Signing out everywhere takes two steps: the first only opens the real button.
        submit = page.locator("#sign-out-everywhere-submit")
        expect(submit).to_be_hidden()
        page.locator("#sign-out-everywhere-open").focus()
        page.keyboard.press("Enter")
        expect(submit).to_be_visible()
        expect(submit).to_have_text(translate("sign_out_everywhere_yes", lang))
        assert width_of(page) <= 390
    finally:
        context.close()
    assert not errors, errors
