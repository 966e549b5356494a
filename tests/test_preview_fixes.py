"""Preview mode as a browser tester found it (issue 16), fixed: an API token reads (its use
is not recorded, on HTTP or a socket), a signed-in user switches language (the cookie
alone keeps it), the fleet page says a preview has no alerts, heartbeats or workers by
design (in Korean under the tab's name), the sign-in page names the missing OAuth settings,
the banner says what is kept, ranked and AI games say they are off, and a refused form's
page is titled "Preview". Also outside a preview: the fleet page's command stays whole."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape
from sqlalchemy import select
from starlette.requests import Request

from codebattle.accounts import service as accounts
from codebattle.accounts.models import ApiToken, User
from codebattle.app import create_app
from codebattle.battles.models import MatchRow
from codebattle.db.session import Database
from codebattle.i18n import translate
from codebattle.judge.queue import Backlog, WorkerInfo
from codebattle.ops import fleet
from codebattle.services import Services
from codebattle.web.sockets import sign_ins
from tests.support.factories import make_user
from tests.support.sign_in import with_sign_in
from tests.support.site import import_problems
from tests.test_preview import preview_settings
from tests.web.test_flag_pages import _staff, run

SESSION_ROUTE = "/_test/preview-fixes-session"


def _seed(settings: Any) -> dict[str, Any]:
    """The copied data: a reviewer with an API token never used, an admin."""
    import_problems(settings, "hello-battle")

    async def go() -> dict[str, Any]:
        db = Database(settings.database_url)
        try:
            async with db.session() as session:
                reviewer = await make_user(session, "reviewer", locale="en")
                admin = await make_user(session, "adam")
                admin.role = "admin"
                _token, plain = await accounts.create_token(session, reviewer, "ci")
                await session.commit()
                return {"reviewer": reviewer.id, "adam": admin.id, "token": plain}
        finally:
            await db.dispose()

    return asyncio.run(go())


@pytest.fixture
def site(tmp_path: Path, database_url: str) -> Iterator[tuple[TestClient, dict[str, Any]]]:
    settings = preview_settings(tmp_path, DATABASE_URL=database_url)
    seeded = _seed(settings)
    services = Services.from_settings(settings)
    with TestClient(create_app(settings, services), base_url="https://testserver") as client:
        yield with_sign_in(client, SESSION_ROUTE), seeded


def _read(client: TestClient, query: Any) -> Any:
    services: Services = client.app.state.services  # type: ignore[attr-defined]

    async def go() -> Any:
        async with services.db.reading() as session:
            return await session.scalar(query)

    return client.portal.call(go)  # type: ignore[union-attr]


def _become(client: TestClient, nickname: str) -> str:
    client.cookies.delete("codebattle_session")
    assert client.post(SESSION_ROUTE, json={"nickname": nickname}).status_code == 204
    page = client.get("/problems")
    return str(page.text.split('name="csrf-token" content="', 1)[1].split('"', 1)[0])


def test_a_token_reads_and_a_signed_in_user_switches_language(
    site: tuple[TestClient, dict[str, Any]],
) -> None:
    client, seeded = site
    bearer = {"Authorization": f"Bearer {seeded['token']}"}
    me = client.get("/api/me", headers=bearer)
    assert me.status_code == 200, me.text
    assert me.json()["nickname"] == "reviewer"
    assert client.get("/api/problems", headers=bearer).status_code == 200
    assert client.get("/api/me", headers=bearer).status_code == 200  # again: still no write
    assert _read(client, select(ApiToken.last_used_at)) is None

    # A socket's sign-in reader (web/sockets.sign_ins) does not touch the token either.
    scope = {"type": "http", "app": client.app, "method": "GET", "path": "/", "query_string": b"",
             "headers": [(b"authorization", f"Bearer {seeded['token']}".encode())]}  # fmt: skip
    connection = Request(scope)
    reader = sign_ins(connection)  # type: ignore[arg-type]
    user, how = client.portal.call(reader.who, connection, False)  # type: ignore[union-attr]
    assert user is not None and user.id == seeded["reviewer"] and how == "token"
    assert _read(client, select(ApiToken.last_used_at)) is None

    # POST /lang: the cookie keeps the choice, the account row is not written.
    csrf = _become(client, "reviewer")
    client.cookies.delete("lang")  # the test's own (English) cookie: the server's alone
    switched = client.post("/lang", data={"lang": "ko", "next": "/problems",
                                          "csrf_token": csrf}, follow_redirects=False)  # fmt: skip
    assert switched.status_code == 303, switched.text
    assert switched.headers["location"] == "/problems"
    assert client.cookies.get("lang") == "ko"
    assert 'lang="ko"' in client.get("/problems").text
    assert _read(client, select(User.locale).where(User.id == seeded["reviewer"])) == "en"


def test_the_fleet_page_says_what_a_preview_has_not(
    site: tuple[TestClient, dict[str, Any]],
) -> None:
    client, _seeded = site
    _become(client, "adam")
    html = client.get("/ops/fleet").text
    assert 'id="preview-fleet"' in html
    assert translate("ops.fleet.preview_notice", "en") in html
    for warning in ("no-watch", "no-workers", "workers-error"):
        assert f'id="{warning}"' not in html, warning
    assert "No instance is watching" not in html
    assert 'id="workers-preview"' in html and "mock sandbox" in html
    assert '<table class="fleet cards" id="workers">' not in html  # no workers to list
    assert "Heartbeats are not kept in a preview" in html
    assert translate("ops.fleet.preview_watch_off", "en") in html
    assert 'class="state state-bad"' not in html  # nothing on the page reads as a fault
    assert client.get("/api/ops/fleet").json()["preview"] is True

    client.cookies.set("lang", "ko")
    korean = client.get("/ops/fleet").text
    assert '<h1 id="fleet-title">서버 현황</h1>' in korean
    assert re.search(r'id="ops-nav-fleet"[^>]*>서버 현황</a>', korean)
    assert "하트비트를 기록하지 않" in korean and "모의 샌드박스" in korean


def test_sign_in_banner_games_and_a_refused_form_say_what_a_preview_is(
    site: tuple[TestClient, dict[str, Any]],
) -> None:
    client, _seeded = site
    signin = client.get("/signin").text
    assert 'id="signin-unavailable"' in signin
    assert escape(translate("preview_sign_in_unavailable", "en")) in signin
    assert "GITHUB_CLIENT_ID" in signin and "coming soon" not in signin
    client.cookies.set("lang", "ko")
    assert escape(translate("preview_sign_in_unavailable", "ko")) in client.get("/signin").text
    client.cookies.set("lang", "en")

    banner = client.get("/problems").text.split('id="preview-banner"', 1)[1].split("</p>", 1)[0]
    assert "only practice submissions are kept; nothing else is saved" in banner
    assert "Changes are not saved" not in banner

    csrf = _become(client, "reviewer")
    games_off = {
        "code": "preview_games_off",
        "message": "Ranked and AI games are off in a preview.",
    }
    queue = client.post("/api/queue", headers={"X-CSRF-Token": csrf})
    assert queue.status_code == 403 and queue.json()["error"] == games_off
    ai = client.post("/api/matches/ai", json={"level": "easy"}, headers={"X-CSRF-Token": csrf})
    assert ai.status_code == 403 and ai.json()["error"] == games_off
    assert _read(client, select(MatchRow.id)) is None

    refused = client.post("/settings/tokens", data={"name": "more", "csrf_token": csrf})
    assert refused.status_code == 403
    assert "<title>Preview · " in refused.text and "<h1>Preview</h1>" in refused.text
    assert translate("error_title", "en") not in refused.text
    assert translate("preview_read_only", "en") in refused.text
    client.cookies.set("lang", "ko")
    korean = client.post("/settings/tokens", data={"name": "more", "csrf_token": csrf})
    assert korean.status_code == 403 and "<h1>미리보기</h1>" in korean.text


def test_the_unserved_warning_keeps_the_command_whole(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    client.cookies.set("lang", "ko")
    client.headers["Authorization"] = run(client, _staff, "opal", "operator")
    services: Services = client.app.state.services  # type: ignore[attr-defined]
    now = datetime.now(UTC).timestamp()

    async def none_alive(now_: float | None = None) -> list[WorkerInfo]:
        return [WorkerInfo("worker-cpp-1", ("cpp",), now - 600, now - 300, False, now - 300)]

    async def backlog(now_: float | None = None) -> dict[str, Backlog]:
        return {"cpp": Backlog(2, 0, 30.0)}

    monkeypatch.setattr(services.queue, "fleet", none_alive)
    monkeypatch.setattr(services.queue, "backlog", backlog, raising=False)
    monkeypatch.setattr(fleet, "queue_kind", lambda queue: "redis")
    html = client.get("/ops/fleet").text
    warning = html.split('id="unserved-cpp">', 1)[1].split("</p>", 1)[0]
    assert warning.endswith('<code class="nowrap">codebattle worker --languages</code>')
    assert 'id="no-watch"' in html  # outside a preview, the missing watch is still a warning
    assert '<h1 id="fleet-title">서버 현황</h1>' in html
