"""The replay page of a game whose code spans many pages: it fetches them all, so the
scrubber's end shows the final code and every submission's code is filled in."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.actions import sign_in
from tests.support.clients import Api, Socket
from tests.support.servers import BATTLE_ENV, ROOT, Server, Site

SOLUTION = (ROOT / "problems/hello-battle/submissions/accepted/sum.py").read_text()
SOLUTION_MARK = "sys.stdin.buffer.read().split()"


@dataclass
class Game:
    server: Server
    match_id: int
    player: int
    submission: int
    drafts: list[str]


async def play(site: Site, server: Server) -> Game:
    """A ranked game: one player types four drafts (a socket each, so each is stored at
    once), then submits the solution and wins."""
    alice, bob = Api(server, site.token("pagedalice")), Api(server, site.token("pagedbob"))
    await alice.call("POST", "/api/queue")
    match_id = (await bob.call("POST", "/api/queue")).json()["match"]
    drafts = [f"# draft {n}\n" + "x = 1\n" * 100 for n in range(4)]
    for draft in drafts:
        socket = await Socket.open(server, alice.token, match_id)
        await socket.event("started")
        await socket.send({"type": "code", "language": "python", "code": draft})
        await socket.send({"type": "ping"})
        await socket.next("pong")
        await socket.close()
    socket = await Socket.open(server, alice.token, match_id)
    # The scrubber moves in tenths of a second: the last draft must last longer than one
    # step to be seen at all (on a fast machine the solution followed it within a step).
    await asyncio.sleep(0.3)
    submission = await alice.submit(match_id, SOLUTION)
    await socket.event("finished")
    await socket.close()
    return Game(server, match_id, socket.welcome["me"], submission, drafts)


@pytest.fixture(scope="module")
def game(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Game]:
    # A page holds about one draft; the game's code takes five pages.
    env = {**BATTLE_ENV, "REPLAY_PAGE_BYTES": "700"}
    site = Site(tmp_path_factory.mktemp("replay-pages"), env=env)
    site.import_problems("hello-battle")
    try:
        server = site.serve()
        # Played in a thread of its own: Playwright's sync API holds this thread's loop.
        with ThreadPoolExecutor(1) as pool:
            yield pool.submit(asyncio.run, play(site, server)).result()
    finally:
        site.stop()


def test_the_replay_page_reads_every_page_of_code(browser: Browser, game: Game) -> None:
    context = browser.new_context(base_url=game.server.url, locale="en-US")
    errors: list[str] = []
    page = context.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(page, "viewer")
    page.goto(f"/matches/{game.match_id}/replay")
    code = page.locator(f"#code-{game.player}")
    expect(page.locator("#replay-loading")).to_be_hidden()
    expect(code).to_contain_text(SOLUTION_MARK)  # the last page's code, at the end
    expect(page.locator(f"#submission-code-{game.submission}")).to_contain_text(SOLUTION_MARK)
    # Halfway through the drafts, a draft from a later page than the first.
    page.locator("#scrubber").evaluate(
        "el => { el.value = 0; el.dispatchEvent(new Event('input')); }"
    )
    expect(code).to_have_text("(no code yet)")
    steps = int(page.locator("#scrubber").get_attribute("max") or 0)
    for value in range(steps + 1):
        page.locator("#scrubber").evaluate(
            f"el => {{ el.value = {value}; el.dispatchEvent(new Event('input')); }}"
        )
        if "draft 3" in code.inner_text():
            break
    expect(code).to_have_text(re.compile(r"^# draft 3\n"))
    context.close()
    assert not errors, errors
