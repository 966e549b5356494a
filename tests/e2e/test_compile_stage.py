"""The compile step in the live results (issue 18): a C++ submission shows "Compiling…" (in
Korean "컴파일 중…") before its tests, then its tests and verdict; a late "compiling" never
takes the page back; in a duel the opponent's page says "compiling…" on the player's card.

The real server's socket messages pass through the test: once the page was told
"compiling", the rest is held until the test saw the page say so, so the check does not
depend on how long g++ takes."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, Page, WebSocketRoute, expect

from tests.e2e.actions import sign_in, type_code
from tests.e2e.test_battles import JUDGED, TESTS, OpenPage, battle_server, person

__all__ = ["battle_server", "person"]  # the fixtures, imported to be used here

# Its constexpr loop keeps g++ busy for a moment beyond the header; the nonce defeats the
# compile cache (a cached build would be "compiled" at once).
SLOW_CPP = """#include <bits/stdc++.h>
// %NONCE%
constexpr long long heavy() {
    long long s = 0;
    for (long long i = 0; i < 100000; i++)
        for (long long j = 0; j < 10; j++) s += (i ^ j) % 7;
    return s;
}
static_assert(heavy() > 0);
int main() { long long a, b; std::cin >> a >> b; std::cout << a + b << "\\n"; }
"""


class HeldAfterCompiling:
    """Passes the submission socket's messages on, holding those after the first that says
    "compiling" (a status message or a snapshot) until `release()`."""

    def __init__(self) -> None:
        self.page_side: WebSocketRoute | None = None
        self.held: list[str | bytes] | None = None  # None: not holding (yet, or any more)
        self.released = False
        self.seen: list[str] = []

    def __call__(self, ws: WebSocketRoute) -> None:
        server = ws.connect_to_server()
        self.page_side = ws
        ws.on_message(server.send)
        server.on_message(self._from_server)

    def _from_server(self, message: str | bytes) -> None:
        assert self.page_side is not None
        if self.held is not None:
            self.held.append(message)
            return
        self.page_side.send(message)
        parsed = json.loads(message)
        status = parsed.get("status") or (parsed.get("submission") or {}).get("status")
        self.seen.append(f"{parsed['type']}:{status}")
        if status == "compiling" and not self.released:
            self.held = []

    def release(self) -> None:
        assert self.page_side is not None and self.held is not None, self.seen
        held, self.held, self.released = self.held, None, True
        for message in held:
            self.page_side.send(message)


def submit_cpp(page: Page) -> None:
    page.goto("/problems/hello-battle")
    expect(page.locator("#editor .cm-content")).to_be_visible()  # the page's script ran
    page.select_option("#language", "cpp")
    type_code(page, SLOW_CPP.replace("%NONCE%", uuid.uuid4().hex))
    page.click("#submit")


@pytest.fixture
def korean_page(browser: Browser, server: str) -> Iterator[Page]:
    context = browser.new_context(base_url=server, locale="ko-KR")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert not errors, errors


@pytest.mark.parametrize(
    ("which", "compiling", "running"),
    [("page", "Compiling…", "Judging"), ("korean_page", "컴파일 중…", "채점 중")],
)
def test_a_cpp_submission_shows_compiling_then_its_tests(
    request: pytest.FixtureRequest, which: str, compiling: str, running: str
) -> None:
    page: Page = request.getfixturevalue(which)
    sign_in(page, "compiles")
    held = HeldAfterCompiling()
    page.route_web_socket(re.compile(r"/ws/submissions/"), held)
    submit_cpp(page)
    results = page.locator("#results")
    expect(results).to_have_attribute("data-status", "compiling", timeout=60_000)
    expect(page.locator("#status-line")).to_have_text(compiling)
    expect(page.locator("#tests li")).to_have_count(0)
    history = page.locator("#history tbody tr").first.locator("td").last
    expect(history).to_have_text(compiling)  # its row in the history says so too
    held.release()
    expect(page.locator("#verdict")).to_have_attribute("data-verdict", "AC", timeout=60_000)
    tests = page.locator("#tests li.v-AC")
    assert tests.count() > 5
    assert running not in (page.locator("#status-line").text_content() or "")  # now "n of n"
    expect(history).to_contain_text("Accepted" if which == "page" else "맞았습니다")


def test_a_late_compiling_does_not_take_the_page_back(page: Page) -> None:
    """Messages from two API instances may cross: "compiling" after the first test."""
    sent: list[Callable[[str], None]] = []

    def fake(ws: WebSocketRoute) -> None:
        sent.append(ws.send)

    sign_in(page, "late")
    page.route_web_socket(re.compile(r"/ws/submissions/"), fake)
    page.goto("/problems/hello-battle")
    expect(page.locator("#editor .cm-content")).to_be_visible()
    type_code(page, "print(3)\n")
    page.click("#submit")
    expect(page.locator("#results")).to_have_attribute("data-status", "queued")
    for _ in range(100):
        if sent:
            break
        page.wait_for_timeout(50)
    [send] = sent
    page.evaluate(WATCH_STATUS)
    send(json.dumps({"v": 1, "type": "status", "status": "compiling"}))
    expect(page.locator("#status-line")).to_have_text("Compiling…")
    send(json.dumps({"v": 1, "type": "test", "test": passed(0)}))
    expect(page.locator("#status-line")).to_have_text("Judging")
    send(json.dumps({"v": 1, "type": "status", "status": "compiling"}))  # late
    send(json.dumps({"v": 1, "type": "status", "status": "running"}))  # repeated
    send(json.dumps({"v": 1, "type": "test", "test": passed(1)}))  # then all were handled
    expect(page.locator("#test-1")).to_be_visible()
    expect(page.locator("#status-line")).to_have_text("Judging")
    statuses: list[str] = page.evaluate("window.__statuses")
    assert [s for i, s in enumerate(statuses) if i == 0 or statuses[i - 1] != s] == [
        "compiling", "running",
    ]  # fmt: skip


# Every status the results box takes from here on.
WATCH_STATUS = """() => {
  window.__statuses = [];
  const box = document.getElementById("results");
  new MutationObserver(() => window.__statuses.push(box.dataset.status))
    .observe(box, { attributes: true, attributeFilter: ["data-status"] });
}"""


def passed(index: int) -> dict[str, object]:
    return {"index": index, "name": f"t{index}", "verdict": "AC", "time": 0.01,
            "memory": 1 << 20, "sample": False}  # fmt: skip


class HeldAfterJudgingCompiling(HeldAfterCompiling):
    """The match socket's messages, held after the first `judging` one at the "compiling"
    stage until `release()`."""

    def _from_server(self, message: str | bytes) -> None:
        assert self.page_side is not None
        if self.held is not None:
            self.held.append(message)
            return
        self.page_side.send(message)
        parsed = json.loads(message)
        if parsed.get("type") == "judging":
            self.seen.append(f"judging:{parsed.get('stage')}:{parsed.get('tests_done')}")
            if parsed.get("stage") == "compiling" and not self.released:
                self.held = []


def test_the_opponent_sees_a_duel_submission_compiling(person: OpenPage) -> None:
    """In a duel (as against the AI, whose submissions take the same path), a player's card
    on the opponent's page says "compiling…", then counts the tests."""
    alice, bob = person("alice"), person("bob")
    held = HeldAfterJudgingCompiling()
    bob.route_web_socket(re.compile(r"/ws/matches/"), held)
    for page in (alice, bob):
        page.click("#nav-play")
        expect(page.locator("#ranked")).to_be_visible()
    alice.click("#ranked")
    expect(alice.locator("#queue-status")).to_contain_text("Waiting")
    bob.click("#ranked")
    for page in (alice, bob):
        expect(page.locator("#state")).to_have_attribute("data-state", "running", timeout=15_000)
    alice_id = alice.locator("#arena").get_attribute("data-me")
    alice.select_option("#language", "cpp")
    type_code(alice, SLOW_CPP.replace("%NONCE%", uuid.uuid4().hex))
    alice.click("#submit")
    card = bob.locator(f"#player-{alice_id} .activity")
    expect(card).to_have_text("compiling…", timeout=60_000)
    held.release()
    expect(bob.locator(f"#player-{alice_id}")).to_have_attribute(
        "data-passed", TESTS, timeout=JUDGED
    )
    assert held.seen[0] == "judging:compiling:0", held.seen
