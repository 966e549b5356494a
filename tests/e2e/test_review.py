"""The AI code review in the browser: a Pro player opens it from an accepted submission,
asks for it, sees "preparing…", and the page shows the offline review by itself (no key
here); on a phone's width the page fits. Screenshots in /tmp/shots/."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.actions import sign_in
from tests.support.servers import Site

SHOTS = Path("/tmp/shots")
CODE = (
    "import sys\n\n\ndef main():\n    unused_total = 0\n"
    "    a, b = map(int, sys.stdin.read().split())\n    print(a + b)\n\n\nmain()\n"
)


@pytest.fixture(scope="module")
def review_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    site = Site(tmp_path_factory.mktemp("reviews"))
    site.import_problems("hello-battle")
    try:
        yield site
    finally:
        site.stop()


@pytest.fixture(scope="module")
def server(review_site: Site) -> str:
    """This module's server (the `page` fixture browses it)."""
    return review_site.serve().url


def test_a_pro_player_reads_the_review(page: Page, review_site: Site) -> None:
    nickname = sign_in(page, "reviewer")
    review_site.cli("plans", "grant", nickname, "pro", "--days", "7", "--reason", "test")
    csrf = page.locator('meta[name="csrf-token"]').get_attribute("content")
    assert csrf
    made = page.request.post(
        "/api/submissions",
        data={"problem": "hello-battle", "language": "python", "code": CODE},
        headers={"X-CSRF-Token": csrf},
    )
    assert made.status == 201, made.text()
    submission = made.json()["id"]
    deadline = time.monotonic() + 60
    while page.request.get(f"/api/submissions/{submission}").json()["status"] != "done":
        assert time.monotonic() < deadline
        time.sleep(0.3)
    page.goto(f"/submissions/{submission}")
    page.click("#review-link")
    expect(page.locator("#review-plan")).to_contain_text("Your plan: Pro")
    page.click("#review-request")
    expect(page.locator("#review-correctness")).to_be_visible(timeout=60_000)
    expect(page.locator("#review-style")).to_contain_text("F841")
    expect(page.locator("#review-timing")).to_be_visible()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 390, "height": 844})
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, width
    page.screenshot(path=str(SHOTS / "review-390x844.png"), full_page=True)
