"""The editor telemetry's HTTP sender (static/telemetry.js) in a preview, in Chromium on a
routed origin (no server: each answer is the test's): a preview page (its banner) sends
nothing and the tracker stops, with nothing in the console; a page whose POST a preview
refuses (403, X-Preview: 1) stops after that one request, with no retry; an ordinary
server error is still retried."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Route

ORIGIN = "http://preview.test"
TELEMETRY_JS = (
    Path(__file__).resolve().parents[2] / "src/codebattle/web/static/telemetry.js"
).read_text()
BANNER = '<p class="preview-banner" id="preview-banner" role="status">Preview</p>'
PAGE = """<!doctype html><html><head><meta name="csrf-token" content="t"></head><body>{banner}
<div id="editor" contenteditable="true"></div><script src="/static/telemetry.js"></script>
</body></html>"""


@pytest.fixture
def site(browser: Browser) -> Iterator[tuple[Page, list[str], list[str]]]:
    """A page of the routed origin; the telemetry POSTs it made and its console errors."""
    context = browser.new_context(base_url=ORIGIN)
    page = context.new_page()
    posts: list[str] = []
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on(
        "request",
        lambda r: posts.append(r.method) if r.url.endswith("/api/telemetry") else None,
    )
    yield page, posts, errors
    context.close()


def serve(page: Page, banner: str, status: int, headers: dict[str, str]) -> None:
    def answer(route: Route) -> None:
        path = route.request.url.removeprefix(ORIGIN)
        if path == "/static/telemetry.js":
            route.fulfill(body=TELEMETRY_JS, content_type="text/javascript")
        elif path == "/api/telemetry":
            route.fulfill(status=status, headers=headers, json={"error": {"code": "x"}})
        else:
            route.fulfill(body=PAGE.format(banner=banner), content_type="text/html")

    page.route(f"{ORIGIN}/**", answer)
    page.goto("/problems/hello-battle")


FIRST_BATCH = """() => {
  window.tracker = CodeBattleTelemetry.start({
    editor: document.getElementById("editor"),
    send: CodeBattleTelemetry.http({problem: "hello-battle"}),
  });
  tracker.run(); tracker.flush();
}"""
# A batch more, after the gap between batches: sent only if the tracker did not stop.
NEXT_BATCH = """async () => {
  await new Promise(r => setTimeout(r, 1200));
  tracker.run(); tracker.flush();
  await new Promise(r => setTimeout(r, 500));
  tracker.stop();
}"""


def two_batches(page: Page, answered: bool = True) -> None:
    if answered:  # the first batch's answer has come before the second batch
        with page.expect_response(f"{ORIGIN}/api/telemetry"):
            page.evaluate(FIRST_BATCH)
    else:
        page.evaluate(FIRST_BATCH)
    page.evaluate(NEXT_BATCH)


def test_a_preview_page_sends_no_telemetry(site: tuple[Page, list[str], list[str]]) -> None:
    page, posts, errors = site
    serve(page, BANNER, 403, {"X-Preview": "1"})
    two_batches(page, answered=False)
    assert posts == [] and errors == []


def test_a_preview_s_refusal_stops_the_tracker_without_a_retry(
    site: tuple[Page, list[str], list[str]],
) -> None:
    page, posts, errors = site
    serve(page, "", 403, {"X-Preview": "1"})
    two_batches(page)
    assert posts == ["POST"]
    assert all("403" in e for e in errors), errors  # the browser's own line for it, no more


def test_a_server_error_is_still_retried(site: tuple[Page, list[str], list[str]]) -> None:
    page, posts, _errors = site
    serve(page, "", 503, {})
    two_batches(page)
    assert len(posts) >= 2  # the batch again (then the next), a gap apart
