"""The pages' sockets connect under the Content-Security-Policy, which allows connections to
this site only (`connect-src 'self'`, no ws:/wss: host: CSP level 3 counts same-origin
ws:// and wss:// as 'self')."""

from __future__ import annotations

from playwright.sync_api import Page, WebSocket, expect

from tests.e2e.actions import sign_in, type_code
from tests.e2e.test_practice import SUM_PY, open_problem


def test_page_sockets_connect_under_the_csp(page: Page) -> None:
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Security Policy" in m.text else None)
    frames: dict[str, int] = {}

    def watch(socket: WebSocket) -> None:
        frames.setdefault(socket.url, 0)

        def count(_payload: object) -> None:
            frames[socket.url] += 1

        socket.on("framereceived", count)

    page.on("websocket", watch)
    sign_in(page)
    csp = page.request.get("/problems").headers["content-security-policy"]
    assert "connect-src 'self';" in csp and "ws:" not in csp
    open_problem(page, "python")
    type_code(page, SUM_PY)
    page.click("#submit")
    expect(page.locator("#verdict")).to_have_attribute("data-verdict", "AC", timeout=60_000)
    live = [url for url, count in frames.items() if "/ws/submissions/" in url and count > 0]
    assert live, frames  # the verdict came over the socket, which the CSP let through
    assert not refused, refused
