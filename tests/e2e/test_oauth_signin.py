"""Sign-in with Kakao in a real browser, in Korean: /signin → "Kakao로 로그인" → the Kakao-
shaped provider on loopback (tests/support/oauth_provider.py, it approves at once) → back on
our callback → the first sign-in's /welcome page → signed in. Signed out, the same Kakao
account then lands signed in straight away. The server is `codebattle serve` pointed at the
provider by its settings."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, expect

from tests.support.oauth_provider import Provider, running_provider
from tests.support.servers import Site


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    with running_provider() as running:
        yield running


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, provider: Provider) -> Iterator[str]:
    """This module's site (overrides the e2e conftest's): Kakao sign-in offered, at the
    loopback provider."""
    site = Site(tmp_path_factory.mktemp("oauth-site"), env=provider.settings("kakao"))
    site.import_problems("hello-battle")
    try:
        yield site.serve().url
    finally:
        site.stop()


def test_kakao_sign_in_in_korean(browser: Browser, server: str, provider: Provider) -> None:
    subject = str(uuid.uuid4().int % 10**9)
    provider.add_user(
        "kakao",
        subject,
        {"id": int(subject), "connected_at": "2026-12-01T00:00:00Z",
         "kakao_account": {
             "profile": {"nickname": "카카오친구", "is_default_image": True},
             "has_email": True, "is_email_valid": True, "is_email_verified": True,
             "email": f"k{subject}@kakao.example", "has_age_range": True, "age_range": "30~39",
             "has_birthyear": True, "birthyear": "1994",
         }},
    )  # fmt: skip
    context = browser.new_context(
        base_url=server, locale="ko-KR", viewport={"width": 390, "height": 844}
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        page.goto("/signin")
        kakao = page.get_by_role("link", name="Kakao로 로그인")
        expect(kakao).to_be_visible()
        box = kakao.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390  # on a phone
        expect(page.get_by_role("link", name="네이버로 로그인")).to_have_count(0)  # not set up
        kakao.click()
        # Through the provider and back: a first sign-in asks for a nickname and the terms
        # (the birth year came from Kakao, so it is not asked).
        expect(page).to_have_url(re.compile(r"/welcome$"))
        expect(page.locator("#birth_year")).to_have_count(0)
        nickname = "카카오" + uuid.uuid4().hex[:6]
        page.fill("#nickname", nickname)
        page.check("#agree")
        page.click("#welcome-form button[type=submit]")
        expect(page.locator("#who")).to_have_text(nickname)
        # Sign-in methods on the settings page: Kakao linked, and the only way in.
        page.goto("/settings")
        expect(page.locator("#identity-kakao")).to_have_attribute("data-linked", "yes")
        expect(page.locator("#unlink-kakao")).to_be_disabled()
        # Signed out, Kakao signs in again without any question.
        page.click("header form[action='/signout'] button")
        expect(page.locator("#signin-link")).to_be_visible()
        page.goto("/signin?next=/rooms")
        page.get_by_role("link", name="Kakao로 로그인").click()
        expect(page).to_have_url(re.compile(r"/rooms$"))
        expect(page.locator("#who")).to_have_text(nickname)
    finally:
        context.close()
    assert not errors, errors
