"""A page whose socket is refused stops reconnecting and says why (Chromium, real server).

Before, a refusal reached the browser as 1006 and the arena and the room page retried
forever behind a "reconnecting" notice. Now the server closes with 4401 / 4403 / 4404 and
the page shows the reason in an alert and opens no further socket.
"""

from __future__ import annotations

import re

from playwright.sync_api import Page, WebSocketRoute, expect

from tests.e2e.actions import sign_in, type_code

# Records every socket the page opens, so the test can count them and drop one.
RECORD_SOCKETS = """
const Native = window.WebSocket;
window.__sockets = [];
window.WebSocket = class extends Native {
  constructor(...args) { super(...args); window.__sockets.push(this); }
};
"""


def api_post(page: Page, path: str, body: dict[str, object]) -> dict[str, object]:
    csrf = page.locator('meta[name="csrf-token"]').get_attribute("content") or ""
    reply = page.request.post(path, data=body, headers={"X-CSRF-Token": csrf})
    assert reply.status == 201, reply.text()
    result: dict[str, object] = reply.json()
    return result


def sockets(page: Page) -> int:
    count: int = page.evaluate("window.__sockets.length")
    return count


def signed_out_mid_page(page: Page, reconnecting: str) -> None:
    """The session ends while the page is open; its socket drops and it tries once more."""
    expect(page.locator(reconnecting)).to_be_hidden()
    # Polled from here: wait_for_function evaluates its predicate with eval() in the page,
    # which the page's CSP refuses now and then.
    for _ in range(200):
        if page.evaluate("() => !!window.__sockets[0] && window.__sockets[0].readyState === 1"):
            break
        page.wait_for_timeout(50)
    else:
        raise AssertionError("the page's socket never opened")
    page.context.clear_cookies()
    page.evaluate("window.__sockets[0].close()")  # as a network drop would
    alert = page.locator("#socket-refused")
    expect(alert).to_be_visible(timeout=10_000)
    expect(alert).to_have_attribute("role", "alert")
    expect(alert).to_contain_text("not signed in")
    expect(page.locator(reconnecting)).to_be_hidden()
    page.wait_for_timeout(3_000)  # longer than any reconnect delay it would have waited
    assert sockets(page) == 2


def test_arena_stops_reconnecting_when_its_socket_is_refused(page: Page) -> None:
    page.add_init_script(RECORD_SOCKETS)
    sign_in(page, "arena")
    match = api_post(page, "/api/matches/ai", {"level": "easy"})
    page.goto(f"/matches/{match['id']}")
    expect(page.locator("#state")).not_to_have_attribute("data-state", "waiting")
    signed_out_mid_page(page, "#connection")


def test_room_page_stops_reconnecting_when_its_socket_is_refused(page: Page) -> None:
    page.add_init_script(RECORD_SOCKETS)
    sign_in(page, "room")
    room = api_post(
        page, "/api/rooms",
        {"title": "refused", "problems": ["hello-battle"], "duration_minutes": 30,
         "size_limit": 4, "public": False},
    )  # fmt: skip
    page.goto(f"/rooms/{room['id']}")
    signed_out_mid_page(page, "#room-reconnecting")


def test_submission_results_stop_polling_when_their_socket_is_refused(page: Page) -> None:
    """The results' socket is refused (as the server does for a session that ended): the
    page says why instead of polling the API, which would refuse it too, forever."""
    sign_in(page, "judged")
    page.route_web_socket(re.compile(r"/ws/submissions/"), lambda ws: refuse(ws, 4401))
    polls: list[str] = []
    page.on("request", lambda r: polls.append(r.url) if "/api/submissions/" in r.url else None)
    page.goto("/problems/hello-battle")
    expect(page.locator("#editor .cm-content")).to_be_visible()
    type_code(page, "print(3)\n")
    page.click("#submit")
    expect(page.locator("#socket-refused")).to_contain_text("not signed in")
    page.wait_for_timeout(2_500)  # the polling fallback asks every second
    assert polls == []


def refuse(ws: WebSocketRoute, code: int) -> None:
    ws.close(code=code, reason="refused")


def test_submission_results_stop_polling_when_the_session_ended(page: Page) -> None:
    """The results' socket drops (not refused) and the page polls; the session has ended
    meanwhile (signed out elsewhere, or its store lost it): the API refuses the polls (401)
    and the page says why and stops, instead of showing "judging" forever."""
    sign_in(page, "polled")
    page.route_web_socket(re.compile(r"/ws/submissions/"), lambda ws: ws.close(code=1011))
    polls: list[int] = []
    page.on(
        "response",
        lambda r: polls.append(r.status) if "/api/submissions/" in r.url else None,
    )
    page.goto("/problems/hello-battle")
    expect(page.locator("#editor .cm-content")).to_be_visible()
    type_code(page, "print(3)\n")
    with page.expect_response(lambda r: r.url.endswith("/api/submissions")):
        page.click("#submit")
    page.context.clear_cookies()  # the session is gone
    expect(page.locator("#socket-refused")).to_contain_text("not signed in", timeout=10_000)
    asked = len(polls)
    page.wait_for_timeout(2_500)  # the polling asks every second
    assert len(polls) == asked and 401 in polls


def test_test_results_are_listed_in_test_order_whatever_order_they_arrive(page: Page) -> None:
    """A job judged again (its worker or queue lost) sends its tests again, interleaved with
    the first run's: the page lists each test once, in test order."""
    import json

    def judge(ws: WebSocketRoute) -> None:
        def test(index: int) -> str:
            result = {"index": index, "name": f"t{index}", "verdict": "AC", "time": 0.01,
                      "memory": 1 << 20, "sample": False}  # fmt: skip
            return json.dumps({"v": 1, "type": "test", "test": result})

        for index in (0, 2, 1, 0, 3, 2):
            ws.send(test(index))

    sign_in(page, "ordered")
    page.route_web_socket(re.compile(r"/ws/submissions/"), judge)
    page.goto("/problems/hello-battle")
    expect(page.locator("#editor .cm-content")).to_be_visible()
    type_code(page, "print(3)\n")
    page.click("#submit")
    rows = page.locator("li.test")
    expect(rows).to_have_count(4)
    assert [rows.nth(i).get_attribute("id") for i in range(4)] == [f"test-{i}" for i in range(4)]
