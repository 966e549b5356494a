"""The settings page's sessions on a phone: a person signed in on a laptop and a phone sees
both, this device marked, and signs out everywhere from the phone with the keyboard; the
laptop is signed out on its next page."""

from __future__ import annotations

from playwright.sync_api import Browser, expect

from tests.e2e.actions import sign_in


def test_sign_out_everywhere_from_a_phone(browser: Browser, server: str) -> None:
    laptop = browser.new_context(base_url=server, locale="en-US").new_page()
    phone_context = browser.new_context(
        base_url=server, locale="en-US", viewport={"width": 390, "height": 844}
    )
    phone = phone_context.new_page()
    try:
        nickname = sign_in(laptop, "roam")
        phone.goto("/")
        phone.click("#signin-link")
        phone.fill("#nickname", nickname)
        phone.click("#signin-form button[type=submit]")
        expect(phone.locator("#who")).to_be_visible()

        phone.goto("/settings")
        sessions = phone.locator("#session-list li")
        expect(sessions).to_have_count(2)
        expect(phone.locator("#sessions h2")).to_have_text("Sessions")
        expect(phone.locator("#this-device")).to_have_count(1)
        expect(phone.locator("li[data-this=yes] #this-device")).to_have_text("This device")
        width = phone.evaluate("document.scrollingElement.scrollWidth")
        assert width <= 390, f"the page is {width}px wide on a 390px phone"

        # Two steps: the first only reveals the button that signs out.
        phone.locator("#sign-out-everywhere-open").focus()
        phone.keyboard.press("Enter")
        button = phone.locator("#sign-out-everywhere-submit")
        expect(button).to_be_visible()
        button.focus()
        phone.keyboard.press("Enter")
        phone.wait_for_url(f"{server}/?notice=signed_out_everywhere")
        expect(phone.locator("#page-notice")).to_have_text(
            "Signed out everywhere: every session has ended, this one included."
        )
        expect(phone.locator("#signin-link")).to_be_visible()

        laptop.goto("/settings")  # the laptop's session has ended too
        expect(laptop.locator("#signin-form")).to_be_visible()
    finally:
        laptop.context.close()
        phone_context.close()
