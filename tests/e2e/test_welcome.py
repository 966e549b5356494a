"""A first-time sign-in in a real browser, in Korean: the person clicks "Kakao로 로그인",
approves at the provider (the project's OAuth provider on loopback, in Kakao's shape, the
person sharing no age) and lands on /welcome; a taken nickname shows the error with the
values kept, a free one signs them in. Screenshots at 1280x800 and 390x844 go to /tmp/shots/
(looked at, not asserted)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Page, expect

from codebattle.i18n import translate
from tests.support.oauth_provider import Provider, running_provider
from tests.support.servers import Site

SHOTS = Path("/tmp/shots")  # noqa: S108 - screenshots for a person to look at
YEAR = datetime.now(ZoneInfo("Asia/Seoul")).year


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    with running_provider() as running:
        yield running


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, provider: Provider) -> Iterator[str]:
    """This module's site (overrides the e2e conftest's): Kakao pointed at the provider."""
    site = Site(tmp_path_factory.mktemp("welcome-site"), env=provider.settings("kakao"))
    site.import_problems("hello-battle")
    site.token("코드왕")  # a nickname that is taken
    try:
        yield site.serve().url
    finally:
        site.stop()


def new_kakao_person(provider: Provider, subject: str) -> None:
    """Who approves next at Kakao: shares a verified email, no age."""
    provider.add_user(
        "kakao",
        subject,
        {"id": int(subject), "connected_at": "2026-01-01T00:00:00Z",
         "kakao_account": {
             "profile": {"nickname": "새 친구", "is_default_image": True},
             "has_email": True, "is_email_valid": True, "is_email_verified": True,
             "email": f"p{subject}@example.com",
         }},
    )  # fmt: skip


def to_welcome(page: Page, provider: Provider, subject: str) -> None:
    new_kakao_person(provider, subject)
    page.goto("/signin?next=/problems")
    page.get_by_role("link", name=translate("sign_in_with_kakao", "ko")).click()
    page.wait_for_url("**/welcome")


def test_first_sign_in_in_korean_taken_then_free_nickname(
    browser: Browser, server: str, provider: Provider
) -> None:
    SHOTS.mkdir(exist_ok=True)
    context = browser.new_context(
        base_url=server, locale="ko-KR", viewport={"width": 1280, "height": 800}
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        to_welcome(page, provider, "4242001")
        expect(page.locator("html")).to_have_attribute("lang", "ko")
        expect(page.get_by_role("heading", level=1)).to_have_text(translate("welcome_title", "ko"))
        expect(page.locator("#terms-summary")).to_contain_text(
            translate("terms_summary_title", "ko")
        )
        page.screenshot(path=str(SHOTS / "welcome-1280x800.png"), full_page=True)

        page.get_by_label(translate("nickname", "ko")).fill("코드왕")
        page.get_by_label(translate("birth_year", "ko")).select_option(str(YEAR - 20))
        page.get_by_label(translate("terms_agree", "ko")).check()
        page.get_by_role("button", name=translate("welcome_submit", "ko")).click()

        expect(page.locator("#welcome-error")).to_have_text(translate("nickname_taken", "ko"))
        expect(page.locator("#nickname")).to_have_value("코드왕")
        expect(page.locator("#birth_year")).to_have_value(str(YEAR - 20))
        expect(page.locator("#agree")).to_be_checked()
        page.screenshot(path=str(SHOTS / "welcome-taken-1280x800.png"), full_page=True)

        page.locator("#nickname").fill("새내기_01")
        page.get_by_role("button", name=translate("welcome_submit", "ko")).click()
        page.wait_for_url("**/problems")
        expect(page.locator("#who")).to_have_text("새내기_01")
        expect(page.locator("#feedback-link")).to_have_text(translate("feedback_link", "ko"))
    finally:
        context.close()
    assert not errors, errors


def test_welcome_on_a_phone(browser: Browser, server: str, provider: Provider) -> None:
    SHOTS.mkdir(exist_ok=True)
    context = browser.new_context(
        base_url=server, locale="ko-KR", viewport={"width": 390, "height": 844}, is_mobile=True
    )
    page = context.new_page()
    try:
        to_welcome(page, provider, "4242002")
        form = page.locator("#welcome-form")
        expect(form).to_be_visible()
        # Half way through signing up: the header says so rather than offering to sign in.
        expect(page.locator("#signing-up")).to_have_text(translate("signing_up", "ko"))
        expect(page.locator("#signin-link")).to_have_count(0)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"/welcome is {width}px wide on a 390px phone"
        box = form.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
        page.screenshot(path=str(SHOTS / "welcome-390x844.png"), full_page=True)
        page.get_by_role("button", name=translate("welcome_submit", "ko")).click()
        # The browser's own required-field checks keep the form from leaving empty.
        expect(page).to_have_url(f"{server}/welcome")
    finally:
        context.close()
