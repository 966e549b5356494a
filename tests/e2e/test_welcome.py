"""A first-time sign-in in a real browser, in Korean: back from the provider the person lands
on /welcome, tries a taken nickname (the error, the values kept), then a free one, agrees to
the terms and is signed in. Screenshots at 1280x800 and 390x844 go to /tmp/shots/ (looked at,
not asserted).

The server runs in this process (uvicorn in a thread) so that the test-only route of
tests/support/welcome can start the pending sign-in as a provider's callback does; the
OAuth round trip itself is the sign-in tests' (tests/web/test_oauth_signin.py)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, expect

from codebattle.app import create_app
from codebattle.db.migrate import upgrade
from codebattle.db.session import Database
from codebattle.i18n import translate
from codebattle.judge.engine import Judge
from codebattle.services import Services
from tests.support.factories import make_user
from tests.support.servers import free_port
from tests.support.site import import_problems, runner_factory, settings_for
from tests.support.welcome import PENDING_ROUTE, add_pending_route, profile

SHOTS = Path("/tmp/shots")  # noqa: S108 - screenshots for a person to look at
YEAR = datetime.now(ZoneInfo("Asia/Seoul")).year


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, judge: Judge, judge_root: Path
) -> Iterator[str]:
    """This module's site (overrides the e2e conftest's): the app with the pending route."""
    data = tmp_path_factory.mktemp("welcome-site")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    database = f"sqlite+aiosqlite:///{data / 'var' / 'codebattle.db'}"
    (data / "var").mkdir()
    settings = settings_for(
        data,
        DATABASE_URL=database.replace("+aiosqlite", ""),
        BASE_URL=url,
        ENVIRONMENT="development",
    )

    async def taken() -> None:
        db = Database(database)
        try:
            async with db.session() as session:
                await make_user(session, "코드왕")
                await session.commit()
        finally:
            await db.dispose()

    def prepare() -> None:
        upgrade(database)
        import_problems(settings, "hello-battle")
        asyncio.run(taken())

    with ThreadPoolExecutor(1) as pool:  # Playwright's event loop runs in this thread
        pool.submit(prepare).result()

    services = Services.from_settings(settings, runner_factory(judge, settings, judge_root))
    app = add_pending_route(create_app(settings, services))
    uv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None))
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not uv.started:
        assert time.monotonic() < deadline and thread.is_alive(), "server did not start"
        time.sleep(0.05)
    try:
        yield url
    finally:
        uv.should_exit = True
        thread.join(20)


def begin(page: Page, subject: str) -> None:
    """Back from Kakao as a new person (no age given): the pending sign-in is started."""
    data = profile(subject=subject, display_name="새 친구", email="new@example.com")
    reply = page.context.request.post(
        PENDING_ROUTE, data={"via": "kakao", "profile": data, "next": "/problems"}
    )
    assert reply.status == 204, reply.text()


def test_first_sign_in_in_korean_taken_then_free_nickname(browser: Browser, server: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    context = browser.new_context(
        base_url=server, locale="ko-KR", viewport={"width": 1280, "height": 800}
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        begin(page, "kakao-e2e-1")
        page.goto("/welcome")
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


def test_welcome_on_a_phone(browser: Browser, server: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    context = browser.new_context(
        base_url=server, locale="ko-KR", viewport={"width": 390, "height": 844}, is_mobile=True
    )
    page = context.new_page()
    try:
        begin(page, "kakao-e2e-2")
        page.goto("/welcome")
        form = page.locator("#welcome-form")
        expect(form).to_be_visible()
        box = form.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
        page.screenshot(path=str(SHOTS / "welcome-390x844.png"), full_page=True)
        page.get_by_role("button", name=translate("welcome_submit", "ko")).click()
        # The browser's own required-field checks keep the form from leaving empty.
        expect(page).to_have_url(f"{server}/welcome")
    finally:
        context.close()
