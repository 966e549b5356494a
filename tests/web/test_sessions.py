"""Sessions on the server, as browsers meet them: sign-out makes the old cookie useless, "sign
out everywhere" ends other browsers' sessions, the session id rotates at sign-in and on a
role change, idle and absolute lifetimes (the store's clock moved, no waiting), the settings
page's list. Each runs with sessions in SQLite, PostgreSQL and Redis; two apps on one
database (and one Redis) stand for two server processes."""

from __future__ import annotations

import asyncio
import base64
import json
import re
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import Response
from fastapi.testclient import TestClient

from codebattle.accounts import service as accounts
from codebattle.accounts.sessions import SessionStore, hash_id
from codebattle.app import create_app
from codebattle.db.session import Database
from codebattle.judge.engine import Judge
from codebattle.services import Services
from codebattle.web.sessions import start_session
from tests.support.site import csrf_of, runner_factory, settings_for, sign_in
from tests.support.welcome import add_pending_route, begin_signup

COOKIE = "codebattle_session"
SESSION_ROUTE = "/_test/session"


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, by: timedelta) -> None:
        self.now += by


def add_session_route(app: FastAPI) -> FastAPI:
    """A test-only route that signs a user in through the public `web.sessions.start_session`
    with any `via` (as an OAuth callback does), JSON body: `nickname`, `via`."""

    async def begin(request: Request) -> Response:
        data: dict[str, Any] = await request.json()
        async with request.app.state.services.db.session() as session:
            user = await accounts.ensure_user(session, data["nickname"])
        await start_session(request, user, data["via"])
        return Response(status_code=204)

    app.add_api_route(SESSION_ROUTE, begin, methods=["POST"], include_in_schema=False)
    return app


class Site:
    """Apps (server processes) on one database and, for Redis, one Redis; one clock."""

    def __init__(self, tmp_path: Path, urls: tuple[str, str | None], judge: Judge, root: Path):
        self.database_url, self.redis_url = urls
        self.tmp_path, self.judge, self.root = tmp_path, judge, root
        self.clock = Clock()
        self.opened: list[TestClient] = []

    def browser(self) -> TestClient:
        """A browser on a server process of its own."""
        overrides: dict[str, Any] = {"DATABASE_URL": self.database_url.replace("+aiosqlite", "")}
        if self.redis_url is not None:
            overrides["REDIS_URL"] = self.redis_url
            overrides["SESSION_STORE"] = "redis"
        settings = settings_for(self.tmp_path, **overrides)
        services = Services.from_settings(settings, runner_factory(self.judge, settings, self.root))
        app = add_pending_route(add_session_route(create_app(settings, services)))
        self.store(app).clock = self.clock
        client = TestClient(app, base_url="http://testserver")
        self.opened.append(client.__enter__())
        return client

    @staticmethod
    def store(app: Any) -> SessionStore:
        store: SessionStore = app.state.sessions
        return store

    def close(self) -> None:
        for client in self.opened:
            client.__exit__(None, None, None)


@pytest.fixture(params=["sqlite", "postgresql", "redis"])
def site(
    request: pytest.FixtureRequest, tmp_path: Path, judge: Judge, judge_root: Path
) -> Iterator[Site]:
    if request.param == "postgresql":
        urls: tuple[str, str | None] = (str(request.getfixturevalue("pg_url")), None)
    else:
        sqlite = str(request.getfixturevalue("sqlite_url"))
        redis = str(request.getfixturevalue("redis_url")) if request.param == "redis" else None
        urls = (sqlite, redis)
    made = Site(tmp_path, urls, judge, judge_root)
    yield made
    made.close()


def sid_in(client: TestClient) -> str | None:
    """The session id the browser's signed cookie carries (its payload is base64 JSON)."""
    cookie = client.cookies.get(COOKIE)
    if cookie is None:
        return None
    payload = cookie.split(".", 1)[0]
    data = json.loads(base64.b64decode(payload + "=" * (-len(payload) % 4)))
    sid = data.get("sid")
    return sid if isinstance(sid, str) else None


def me(client: TestClient) -> dict[str, Any] | None:
    reply = client.get("/api/me")
    if reply.status_code == 401:
        return None
    assert reply.status_code == 200, reply.text
    return dict(reply.json())


def replay(site: Site, cookie: str) -> TestClient:
    """Another browser (on another process) sending a copy of a cookie."""
    thief = site.browser()
    thief.cookies.set(COOKIE, cookie)
    return thief


def sign_in_as(client: TestClient, nickname: str, via: str) -> None:
    assert client.post(SESSION_ROUTE, json={"nickname": nickname, "via": via}).status_code == 204


def test_sign_out_makes_the_old_cookie_useless(site: Site) -> None:
    browser = site.browser()
    csrf = sign_in(browser, "leaver")
    cookie = browser.cookies.get(COOKIE)
    assert cookie is not None
    signed_in_copy = replay(site, cookie)
    assert (me(signed_in_copy) or {}).get("nickname") == "leaver"  # the copy works until...
    assert browser.post("/signout", data={"csrf_token": csrf}).status_code == 200
    assert me(browser) is None
    assert me(replay(site, cookie)) is None  # ...the session ends on the server


def test_sign_out_everywhere_ends_every_browsers_session(site: Site) -> None:
    laptop, phone, other = site.browser(), site.browser(), site.browser()
    sign_in(laptop, "roamer")
    sign_in(phone, "roamer")
    sign_in(other, "bystander")
    page = laptop.get("/settings")
    assert page.status_code == 200
    assert len(re.findall(r'name="session" value="[0-9a-f]{64}"', page.text)) == 2
    assert page.text.count('id="this-device"') == 1
    ended = laptop.post(
        "/settings/sessions/end-all",
        data={"csrf_token": csrf_of(laptop)},
        follow_redirects=False,
    )
    assert ended.status_code == 303
    assert ended.headers["location"] == "/?notice=signed_out_everywhere"
    landed = laptop.get(ended.headers["location"])  # the page it lands on says so
    assert 'id="page-notice" role="status">모든 기기에서 로그아웃했습니다.' in landed.text
    assert 'id="page-notice"' not in laptop.get("/").text  # only right after it
    assert me(laptop) is None and me(phone) is None
    assert (me(other) or {}).get("nickname") == "bystander"  # someone else's stays


def test_ending_one_session_from_the_settings_page(site: Site) -> None:
    laptop, phone = site.browser(), site.browser()
    sign_in(laptop, "tidy")
    sign_in(phone, "tidy")
    phone_hash = hash_id(sid_in(phone) or "")
    page = laptop.get("/settings").text
    assert f'value="{phone_hash}"' in page
    csrf = csrf_of(laptop)
    ended = laptop.post(
        "/settings/sessions/end",
        data={"csrf_token": csrf, "session": phone_hash},
        follow_redirects=False,
    )
    assert ended.status_code == 303 and ended.headers["location"] == "/settings#sessions"
    assert me(phone) is None and (me(laptop) or {}).get("nickname") == "tidy"
    again = laptop.post("/settings/sessions/end", data={"csrf_token": csrf, "session": phone_hash})
    assert again.status_code == 404  # already ended: a clear 4xx
    # Without the CSRF token nothing ends.
    refused = laptop.post("/settings/sessions/end", data={"session": hash_id(sid_in(laptop) or "")})
    assert refused.status_code == 403 and me(laptop) is not None


def test_someone_elses_session_cannot_be_ended(site: Site) -> None:
    mine, theirs = site.browser(), site.browser()
    sign_in(mine, "polite")
    sign_in(theirs, "target")
    reply = mine.post(
        "/settings/sessions/end",
        data={"csrf_token": csrf_of(mine), "session": hash_id(sid_in(theirs) or "")},
    )
    assert reply.status_code == 404
    assert (me(theirs) or {}).get("nickname") == "target"


def test_the_session_id_rotates_at_sign_in_and_a_planted_cookie_does_not_survive(
    site: Site,
) -> None:
    victim = site.browser()
    victim.get("/signin")  # a visitor's cookie before sign-in (CSRF token only)...
    planted = victim.cookies.get(COOKIE)
    assert planted is not None and sid_in(victim) is None
    attacker = replay(site, planted)  # ...which an attacker also holds
    sign_in(victim, "fixated")
    first = sid_in(victim)
    assert first is not None
    assert me(attacker) is None
    first_cookie = victim.cookies.get(COOKIE)
    assert first_cookie is not None
    sign_in(victim, "fixated")  # signing in again issues a new id; the old one is gone
    second = sid_in(victim)
    assert second is not None and second != first
    assert (me(victim) or {}).get("nickname") == "fixated"
    assert me(replay(site, first_cookie)) is None


def test_a_first_sign_in_in_progress_signs_nobody_in(site: Site) -> None:
    browser = site.browser()
    begin_signup(browser, next="/play")
    pending_sid = sid_in(browser)
    assert pending_sid is not None and me(browser) is None
    assert browser.get("/welcome").status_code == 200  # the welcome page finds it
    sign_in_as(browser, "finisher", "kakao")  # finishing starts a new session
    assert sid_in(browser) != pending_sid
    assert (me(browser) or {}).get("nickname") == "finisher"
    browser.post("/signout", data={"csrf_token": csrf_of(browser)})
    assert sid_in(browser) is None and me(browser) is None


def set_role(site: Site, nickname: str, role: str) -> None:
    async def run() -> None:
        db = Database(site.database_url)
        try:
            async with db.session() as session:
                await accounts.set_role(session, nickname, role, reason="test promotion")
        finally:
            await db.dispose()

    asyncio.run(run())


def test_a_role_change_rotates_the_session_on_the_next_request(site: Site) -> None:
    browser = site.browser()
    sign_in_as(browser, "riser", "github")  # not a nickname session: it survives promotion
    before = sid_in(browser)
    old_cookie = browser.cookies.get(COOKIE)
    assert before is not None and old_cookie is not None
    set_role(site, "riser", "moderator")
    assert (me(browser) or {}).get("role") == "moderator"
    after = sid_in(browser)
    assert after is not None and after != before
    assert me(replay(site, old_cookie)) is None  # the id seen before the promotion is over
    assert me(browser) is not None and sid_in(browser) == after  # no rotation without a change


def test_requests_racing_a_role_change_rotation_share_one_new_session(site: Site) -> None:
    browser = site.browser()
    sign_in_as(browser, "racer", "github")
    old = sid_in(browser)
    cookie = browser.cookies.get(COOKIE)
    assert old is not None and cookie is not None
    # Parallel requests with the old cookie, on several server processes and within one.
    copies = [replay(site, cookie) for _ in range(3)]
    senders = [browser, browser, *copies, *copies]
    # Hold every request's delete until all of them have read the old session and reached
    # it, so they all race (the store itself is real; only the moment is chosen).
    gate = threading.Barrier(len(senders))
    for client in {id(c): c for c in senders}.values():
        hold_deletes(Site.store(client.app), gate)
    set_role(site, "racer", "moderator")
    with ThreadPoolExecutor(max_workers=len(senders)) as pool:
        replies = list(pool.map(lambda client: client.get("/api/me"), senders))
    assert [r.status_code for r in replies] == [200] * len(replies)  # no 500, nobody signed out
    assert {r.json()["role"] for r in replies} == {"moderator"}
    new_sids = {sid_of_reply(r) for r in replies}
    assert len(new_sids) == 1 and old not in new_sids  # every response names the same new id
    (new,) = new_sids

    listed = re.findall(r'name="session" value="([0-9a-f]{64})"', browser.get("/settings").text)
    assert listed == [hash_id(new or "")]  # exactly one session: no orphan left running
    assert (me(browser) or {}).get("role") == "moderator" and sid_in(browser) == new


def hold_deletes(store: SessionStore, gate: threading.Barrier) -> None:
    """Make the store's deletes wait at `gate` (threads: one per server process's loop)."""
    delete = store.delete

    async def held(plain: str) -> bool:
        await asyncio.to_thread(gate.wait, 30)
        return await delete(plain)

    store.delete = held  # type: ignore[method-assign]


def sid_of_reply(reply: Any) -> str | None:
    """The session id in a response's Set-Cookie (None if it sets none)."""
    for header in reply.headers.get_list("set-cookie"):
        name, _, rest = header.partition("=")
        if name == COOKIE:
            payload = rest.split(";", 1)[0].split(".", 1)[0]
            data = json.loads(base64.b64decode(payload + "=" * (-len(payload) % 4)))
            sid = data.get("sid")
            return sid if isinstance(sid, str) else None
    return None


def test_nickname_sessions_still_end_for_staff(site: Site) -> None:
    browser = site.browser()
    sign_in(browser, "climber2")
    set_role(site, "climber2", "operator")
    assert me(browser) is None


def test_idle_and_absolute_lifetimes(site: Site) -> None:
    idle = timedelta(minutes=7 * 24 * 60)  # the settings' defaults
    browser = site.browser()
    sign_in(browser, "sleeper")
    site.clock.advance(idle - timedelta(minutes=1))
    assert me(browser) is not None  # used: the idle lifetime starts again
    site.clock.advance(idle - timedelta(minutes=1))
    assert me(browser) is not None
    site.clock.advance(idle + timedelta(minutes=1))
    assert me(browser) is None  # unused longer than the idle lifetime

    sign_in(browser, "sleeper")
    for _ in range(4):  # used every 6 days: never idle, yet over after 30 days
        site.clock.advance(timedelta(days=6))
        assert me(browser) is not None
    site.clock.advance(timedelta(days=5, hours=23))
    assert me(browser) is not None  # 29 days and 23 hours after sign-in
    site.clock.advance(timedelta(hours=2))
    assert me(browser) is None  # used two hours ago, but 30 days are over


def test_sockets_authenticate_with_the_session(site: Site) -> None:
    browser = site.browser()
    sign_in(browser, "socketeer")
    with browser.websocket_connect("/ws/submissions/1") as ws:  # no such submission
        closed = ws.receive()
    assert closed["code"] == 4404  # signed in (else 4401), then "not found"
    browser.post("/signout", data={"csrf_token": csrf_of(browser)})
    with browser.websocket_connect("/ws/submissions/1") as ws:
        assert ws.receive()["code"] == 4401
