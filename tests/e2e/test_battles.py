"""Battles in the browser: two people duel in a ranked match (and ask for a rematch, then
watch the replay), a spectator watches one without seeing code, and a player loses to the
fast offline AI. A real server with a one-second countdown."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, Dialog, Page, expect

from tests.e2e.actions import sign_in, type_code
from tests.support.servers import BATTLE_ENV, ROOT, Server, Site

SOLUTION = (ROOT / "problems/hello-battle/submissions/accepted/sum.py").read_text()
SOLUTION_MARK = "sys.stdin.buffer.read().split()"  # a line of the solution, not of any template
TESTS = "22"  # hello-battle: 2 samples and 20 secret tests
JUDGED = 60_000  # ms to wait for the judge
MATCH_PATH = re.compile(r"/matches/\d+$")


@pytest.fixture(scope="module")
def battle_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    site = Site(tmp_path_factory.mktemp("battles"), env=BATTLE_ENV)
    site.import_problems("hello-battle")
    try:
        yield site.serve()
    finally:
        site.stop()


OpenPage = Callable[[str], Page]


@pytest.fixture
def person(browser: Browser, battle_server: Server) -> Iterator[OpenPage]:
    """Opens a browser context per person, signed in with a fresh nickname."""
    contexts = []
    errors: list[str] = []

    def open_page(name: str) -> Page:
        context = browser.new_context(base_url=battle_server.url, locale="en-US")
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(f"{name}: {exc}"))
        sign_in(page, name)
        return page

    yield open_page
    for context in contexts:
        context.close()
    assert not errors, errors


def my_id(page: Page) -> str:
    me = page.locator("#arena").get_attribute("data-me")
    assert me is not None
    expect(page.locator(f"#player-{me}")).to_have_class(re.compile(r"\bme\b"))
    return me


def ranked_pair(person: OpenPage) -> tuple[Page, Page]:
    """Two people click "Ranked match" in the lobby and land in the same running game."""
    alice, bob = person("alice"), person("bob")
    for page in (alice, bob):
        page.click("#nav-play")
        expect(page.locator("#ranked")).to_be_visible()
    alice.click("#ranked")
    expect(alice.locator("#queue-status")).to_contain_text("Waiting")
    expect(alice.locator("#queue-ai")).to_be_hidden()  # offered after a minute alone
    bob.click("#ranked")
    for page in (alice, bob):
        page.wait_for_url(MATCH_PATH)
    assert alice.url == bob.url
    for page in (alice, bob):
        expect(page.locator("#state")).to_have_attribute("data-state", "running", timeout=15_000)
        expect(page.locator("#timer")).to_have_text(re.compile(r"^[45]:\d\d$"))
    return alice, bob


def test_ranked_duel_rematch_and_replay(person: OpenPage) -> None:
    alice, bob = ranked_pair(person)
    alice_id, bob_id = my_id(alice), my_id(bob)
    assert alice_id != bob_id
    match_path = MATCH_PATH.search(alice.url)
    assert match_path is not None

    # The statement, as on the practice page: Markdown from the server, math by KaTeX.
    expect(alice.locator("#statement h2").first).to_have_text("Input")
    assert alice.locator("#statement .katex").count() > 0
    for page in (alice, bob):  # nothing of the end before the end
        expect(page.locator("#result")).to_be_hidden()
        expect(page.locator("#rematch")).to_be_hidden()
        expect(page.locator("#replay-link")).to_be_hidden()
    type_code(bob, "print(0)\n")
    bob.click("#submit")
    expect(bob.locator("#verdict")).to_have_attribute("data-verdict", "WA", timeout=JUDGED)
    # The opponent sees the result of bob's attempt, not the attempt.
    expect(alice.locator("#feed")).to_contain_text("Wrong answer")
    expect(alice.locator(f"#player-{bob_id}")).to_have_attribute(
        "data-passed", re.compile(r"^(?!0$|22$)\d+$")
    )

    type_code(alice, SOLUTION)
    alice.locator("#editor .cm-content").press("Control+Enter")
    for page in (alice, bob):
        expect(page.locator("#result")).to_have_attribute("data-winner", alice_id, timeout=JUDGED)
        expect(page.locator("#state")).to_have_attribute("data-state", "finished")
        expect(page.locator("#replay-link")).to_be_visible()
    expect(bob.locator(f"#player-{alice_id}")).to_have_attribute("data-passed", TESTS)
    expect(alice.locator("#result-title")).to_have_text("You won!")
    expect(bob.locator("#result-title")).to_have_text("You lost.")
    # The reason is worded for its reader: the winner's own, the other player's by name.
    expect(alice.locator("#result-reason")).to_have_text("You passed every test.")
    bob_reads = re.compile(r"^alice\w* passed every test\.$")
    expect(bob.locator("#result-reason")).to_have_text(bob_reads)
    # A ranked game is rated: both players' changes are shown, and no "unrated" note.
    expect(bob.locator("#rating-changes li")).to_have_count(2)
    expect(bob.locator(f"#rating-changes li[data-user='{alice_id}']")).to_contain_text("(+")
    expect(bob.locator("#unrated")).to_have_count(0)
    expect(alice.locator("#submit")).to_be_disabled()

    # Rematch: alice asks, bob sees it and accepts; both move to the new game.
    alice.click("#rematch")
    expect(bob.locator("#rematch-status")).to_contain_text("wants a rematch")
    bob.click("#rematch")
    for page in (alice, bob):
        page.wait_for_url(
            lambda url: MATCH_PATH.search(url) is not None and url != match_path.string
        )
        expect(page.locator("#state")).to_have_attribute("data-state", "running", timeout=15_000)
    assert alice.url == bob.url

    # The replay of the first game: alice's final code at the end, none at the start.
    alice.goto(match_path.group(0) + "/replay")
    code = alice.locator(f"#code-{alice_id}")
    expect(code).to_contain_text(SOLUTION_MARK)
    expect(alice.locator(f"#code-{bob_id}")).to_contain_text("print(0)")
    expect(alice.locator("#replay-submissions")).to_contain_text("Accepted")
    expect(alice.locator("#replay-submissions")).to_contain_text("Wrong answer")
    expect(alice.locator("#replay-events")).to_contain_text("Game over")
    alice.locator("#scrubber").evaluate(
        "el => { el.value = 0; el.dispatchEvent(new Event('input')); }"
    )
    expect(code).to_have_text("(no code yet)")
    expect(alice.locator("#replay-events")).not_to_contain_text("Game over")


def test_spectator_sees_progress_and_chat_but_no_code(person: OpenPage) -> None:
    alice, bob = ranked_pair(person)
    alice_id, bob_id = my_id(alice), my_id(bob)
    path = MATCH_PATH.search(alice.url)
    assert path is not None

    carol = person("carol")
    carol.click("#nav-play")
    game = carol.locator(f"#live-games a[href='{path.group(0)}']")
    # Each name is followed by its tier ("Newbie"), named for all to read.
    expect(game).to_contain_text(re.compile(r"alice\w+ \w+ vs bob\w+|bob\w+ \w+ vs alice\w+"))
    game.click()
    expect(carol.locator("#state")).to_have_attribute("data-state", "running")
    for user in (alice_id, bob_id):
        expect(carol.locator(f"#player-{user}")).to_be_visible()
        expect(carol.locator(f"#player-{user}")).not_to_have_class(re.compile(r"\bme\b"))
    expect(carol.locator("#timer")).to_have_text(re.compile(r"^[45]:\d\d$"))
    for control in ("#editor", "#language", "#submit", "#run-samples", "#give-up", "#rematch"):
        expect(carol.locator(control)).to_have_count(0)
    expect(carol.locator("#spectating")).to_be_visible()

    # Alice types: the spectator sees her typing, never her code.
    type_code(alice, SOLUTION)
    expect(carol.locator(f"#player-{alice_id}")).to_have_attribute(
        "data-chars", re.compile(r"^[1-9]\d*$"), timeout=10_000
    )
    html = carol.content()
    assert SOLUTION_MARK not in html
    assert "print(a + b)" not in html

    # Chat: the spectator writes to the spectators' channel; players don't get it.
    carol.fill("#chat-input", "go go go")
    carol.click("#chat-send")
    expect(carol.locator("#chat-log li.chat-spectators")).to_contain_text("go go go")
    expect(carol.locator("#chat-input")).to_have_value("")
    alice.fill("#chat-input", "good luck bob")
    alice.press("#chat-input", "Enter")
    expect(alice.locator("#chat-log")).to_contain_text("good luck bob")
    expect(bob.locator("#chat-log")).to_contain_text("good luck bob")
    players_line = carol.locator("#chat-log li.chat-players")
    expect(players_line).to_contain_text("good luck bob")
    expect(players_line).to_contain_text("players")
    expect(alice.locator("#chat-log")).not_to_contain_text("go go go")
    assert SOLUTION_MARK not in carol.content()

    # In a game, the lobby (another tab) shows it and shows the API's refusals.
    lobby = alice.context.new_page()
    lobby.goto("/play")
    expect(
        lobby.locator(f"#history tbody tr[data-outcome='playing'] a[href='{path.group(0)}']")
    ).to_be_visible()
    expect(lobby.locator("#current-game")).to_have_attribute("href", path.group(0))
    lobby.click("#play-ai")
    expect(lobby.locator("#lobby-error")).to_have_text(
        "You are already in a game; finish it first."
    )
    with lobby.expect_response(
        lambda r: r.url.endswith("/api/queue") and r.request.method == "POST"
    ) as queued:
        lobby.click("#ranked")
    assert queued.value.status == 409
    expect(lobby.locator("#lobby-error")).to_be_visible()
    expect(lobby.locator("#queue")).to_be_hidden()

    # Bob gives up: each reader is told it in their own words.
    asked: list[str] = []

    def accept(dialog: Dialog) -> None:
        asked.append(dialog.message)
        dialog.accept()

    bob.once("dialog", accept)
    bob.click("#give-up")
    for page in (alice, bob, carol):
        expect(page.locator("#state")).to_have_attribute("data-state", "finished")
    assert asked == ["Give up this game? You will lose it."]
    expect(bob.locator("#result-reason")).to_have_text("You gave up.")
    for page in (alice, carol):
        expect(page.locator("#result-reason")).to_have_text(re.compile(r"^bob\w* gave up\.$"))


def test_the_fast_ai_wins_an_unrated_game(person: OpenPage) -> None:
    dave = person("dave")
    dave.click("#nav-play")
    # Queue, then leave: the waiting time counts up from the server's answers.
    dave.click("#ranked")
    expect(dave.locator("#queue-status")).to_contain_text(re.compile(r"Waiting [1-9]\d* s"))
    dave.click("#leave-queue")
    expect(dave.locator("#queue")).to_be_hidden()
    expect(dave.locator("#ranked")).to_be_visible()
    dave.select_option("#ai-level", "hard")
    dave.click("#play-ai")
    dave.wait_for_url(MATCH_PATH)
    my_id(dave)
    ai = dave.locator(".player[data-ai='true']")
    expect(ai).to_contain_text("AI (hard)")
    ai_id = ai.get_attribute("data-user")
    assert ai_id
    expect(dave.locator("#result")).to_have_attribute("data-winner", ai_id, timeout=90_000)
    expect(dave.locator("#result-title")).to_have_text("You lost.")
    expect(ai).to_have_attribute("data-passed", TESTS)
    expect(dave.locator("#result")).to_contain_text("Unrated game")
    expect(dave.locator("#rating-changes li")).to_have_count(0)
    # Back in the lobby the game is in the history, lost, with its replay.
    dave.click("#nav-play")
    row = dave.locator("#history tbody tr").first
    expect(row).to_have_attribute("data-outcome", "lost")
    expect(row.locator("a")).to_have_attribute("href", re.compile(r"/matches/\d+/replay$"))
