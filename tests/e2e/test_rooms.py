"""A host creates a room in the browser, three players join with the invite code, the host
starts it, players solve from the room's problem page, and every page's leaderboard follows."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.e2e.actions import sign_in, type_code
from tests.e2e.test_practice import SUM_PY
from tests.support.servers import Server, Site

WAIT = 60_000


@pytest.fixture(scope="module")
def room_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    site = Site(tmp_path_factory.mktemp("rooms-e2e"))
    site.import_problems("hello-battle")
    yield site.serve()
    site.stop()


def person(browser: Browser, server: Server, prefix: str) -> tuple[BrowserContext, Page, str]:
    context = browser.new_context(base_url=server.url, locale="en-US")
    page = context.new_page()
    return context, page, sign_in(page, prefix)


def test_three_players_and_a_live_leaderboard(browser: Browser, room_server: Server) -> None:
    contexts = []
    try:
        host_context, host, _ = person(browser, room_server, "host")
        contexts.append(host_context)
        host.goto("/rooms")
        host.fill("#room-title", "Friday class")
        host.select_option("#room-problems", ["hello-battle"])
        host.fill("#room-size", "3")
        host.click("#create-room")
        expect(host.locator("#room-title")).to_have_text("Friday class")
        code = host.locator("#room-code").inner_text()
        room_url = host.url

        players = []
        for prefix in ("ann", "ben", "cat"):
            context, page, nickname = person(browser, room_server, prefix)
            contexts.append(context)
            page.goto("/rooms")
            page.fill("#join-code", code)
            page.click("#join-form button[type=submit]")
            expect(page.locator("#room-title")).to_have_text("Friday class")
            players.append((page, nickname))
        expect(host.locator("#leaderboard tbody tr")).to_have_count(3)

        # A fourth is refused: the room holds three.
        context, late, _ = person(browser, room_server, "dan")
        contexts.append(context)
        late.goto("/rooms")
        late.fill("#join-code", code)
        late.click("#join-form button[type=submit]")
        expect(late.locator("#rooms-error")).to_contain_text("full")

        host.click("#room-start")
        expect(host.locator("#room-state")).to_have_attribute("data-state", "running")
        ann, ann_name = players[0]
        expect(ann.locator("#room-state")).to_have_attribute("data-state", "running")
        ann.click("#room-problems a")
        expect(ann.locator("#room-banner")).to_be_visible()
        expect(ann.locator("#editor .cm-content")).to_be_visible()
        ann.select_option("#language", "python")
        type_code(ann, SUM_PY)
        ann.click("#submit")
        expect(ann.locator("#verdict")).to_have_attribute("data-verdict", "AC", timeout=WAIT)

        # Every page's leaderboard puts ann first with one solve, live.
        for page in (host, players[1][0], players[2][0]):
            first = page.locator("#leaderboard tbody tr").first
            expect(first).to_have_attribute("data-solved", "1", timeout=WAIT)
            expect(first).to_contain_text(ann_name)
        host.click("#room-end")
        expect(players[2][0].locator("#room-state")).to_have_attribute("data-state", "ended")
        # A reload rebuilds the same board from the server.
        host.goto(room_url)
        expect(host.locator("#leaderboard tbody tr").first).to_contain_text(ann_name)
    finally:
        for context in contexts:
            context.close()


def test_room_pages_need_sign_in(room_server: Server, tmp_path: Path) -> None:
    import urllib.request

    with urllib.request.urlopen(room_server.url + "/rooms") as reply:  # noqa: S310 - loopback
        assert "/signin" in reply.url
