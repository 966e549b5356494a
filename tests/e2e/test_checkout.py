"""A checkout in the browser, in Korean, against the built-in fake PortOne that the server
serves (no PortOne secret, development): a Free user opens /pricing, starts Pro, pays in
the payment window, lands on the success page, and /settings shows Pro. Screenshots at
1280x800 and 390x844 go to /tmp/shots/."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.actions import sign_in

SHOTS = Path("/tmp/shots")


@pytest.fixture(params=[(1280, 800), (390, 844)], ids=["desktop", "phone"])
def korean_page(
    request: pytest.FixtureRequest, browser: Browser, server: str
) -> Iterator[tuple[Page, str]]:
    width, height = request.param
    context = browser.new_context(
        base_url=server, locale="ko-KR", viewport={"width": width, "height": height}
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Security Policy" in m.text else None)
    yield page, f"{width}x{height}"
    context.close()
    assert not errors, errors
    assert not refused, refused


def shot(page: Page, name: str, size: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"checkout-{name}-{size}.png"), full_page=True)


def test_free_user_buys_pro(korean_page: tuple[Page, str]) -> None:
    page, size = korean_page
    sign_in(page, "buyer")
    page.goto("/pricing")
    expect(page.locator("h1")).to_have_text("요금제")
    expect(page.locator("#plan-free #current-plan")).to_be_visible()
    expect(page.locator("#start-basic")).to_have_text("Basic 시작하기")
    expect(page.locator("#plan-pro .price")).to_contain_text("9,900")
    shot(page, "pricing", size)

    page.click("#start-pro")
    # The checkout page opens the (fake) payment window through the browser SDK.
    expect(page).to_have_url(re.compile(r"/fake-portone/window\?"))
    expect(page.locator("#fake-pay")).to_have_text("결제하기")
    expect(page.locator("main")).to_contain_text("9,900")
    shot(page, "window", size)

    page.click("#fake-pay")
    expect(page).to_have_url(re.compile(r"/checkout/complete\?payment=pay-"))
    expect(page.locator("#checkout-success")).to_have_text("Pro 요금제가 시작되었습니다")
    shot(page, "success", size)

    page.goto("/settings")
    expect(page.locator("#plan-name")).to_have_text("Pro")
    expect(page.locator("#plan-renewal")).to_contain_text("자동으로 갱신")
    shot(page, "settings", size)

    # Back on the pricing page Pro is marked as the plan; cancelling renewal keeps it.
    page.goto("/pricing")
    expect(page.locator("#plan-pro #current-plan")).to_be_visible()
    page.goto("/settings")
    page.click("#plan-cancel")
    expect(page.locator("#plan-cancelled")).to_be_visible()
    expect(page.locator("#plan-name")).to_have_text("Pro")
    expect(page.locator("#plan-renewal")).to_contain_text("무료")


def test_closing_the_window_changes_nothing(korean_page: tuple[Page, str]) -> None:
    page, size = korean_page
    sign_in(page, "closer")
    page.goto("/pricing")
    page.click("#start-basic")
    expect(page.locator("#fake-cancel")).to_be_visible()
    page.click("#fake-cancel")
    expect(page.locator("#checkout-failed")).to_have_text("결제가 완료되지 않았습니다")
    expect(page.locator("#checkout-failure")).to_contain_text("취소")
    shot(page, "failed", size)
    page.click("#checkout-retry")
    expect(page).to_have_url(re.compile(r"/pricing$"))
    expect(page.locator("#plan-free #current-plan")).to_be_visible()
