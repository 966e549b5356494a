"""The database goes away under a running app (a private PostgreSQL, stopped the hard way):
pages, the API and sockets say "briefly unavailable, try again" (503 with Retry-After, in
the reader's language; a socket closes with 1013), never a 500 or a traceback; the process
stays alive (/healthz) and not ready (/readyz); when the database is back, the very next
requests work (no stale pooled connection fails them). Redis down (sessions kept there) is
answered the same way."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from codebattle.accounts import service as accounts
from codebattle.app import TRY_AGAIN_LATER, create_app
from codebattle.config import Settings
from codebattle.db.migrate import upgrade
from codebattle.db.session import Database
from codebattle.judge.engine import Judge
from codebattle.models import Submission
from codebattle.services import Services
from codebattle.storage import LocalBlobStore
from codebattle.submissions import outbox
from tests.support.factories import make_submission, make_user
from tests.support.pg_server import PgServer, private_pg  # noqa: F401  (the fixture)
from tests.support.redis_server import RedisServer, private_redis  # noqa: F401
from tests.support.site import import_problems, runner_factory, settings_for, sign_in

SUM = "a, b = map(int, input().split())\nprint(a + b)\n"


def _api_token(database_url: str) -> str:
    async def make() -> str:
        db = Database(database_url)
        try:
            async with db.session() as session:
                user = await make_user(session, "api_player")
                _, plain = await accounts.create_token(session, user, "outage test")
                await session.commit()
        finally:
            await db.dispose()
        return plain

    return asyncio.run(make())


@pytest.fixture
def site(
    private_pg: PgServer,  # noqa: F811
    tmp_path: Path,
    judge: Judge,
    judge_root: Path,
) -> Iterator[tuple[TestClient, PgServer, str]]:
    """A signed-in browser on an app whose database is the private server; and an API token."""
    with private_pg.database() as url:
        settings = settings_for(tmp_path, DATABASE_URL=url)
        upgrade(settings.database_url)
        import_problems(settings, "hello-battle")
        token = _api_token(settings.database_url)
        services = Services.from_settings(settings, runner_factory(judge, settings, judge_root))
        try:
            with TestClient(create_app(settings, services), base_url="http://testserver") as client:
                sign_in(client, "browser_player")
                yield client, private_pg, token
        finally:
            if not private_pg.running():
                private_pg.start()  # the database is dropped; the next test finds it up


def _assert_unavailable(reply: object, text: str) -> None:
    from httpx import Response

    assert isinstance(reply, Response)
    assert reply.status_code == 503, reply.text
    assert 1 <= int(reply.headers["Retry-After"]) <= 30
    assert text in reply.text
    assert "Traceback" not in reply.text and "asyncpg" not in reply.text


def test_requests_during_an_outage_get_503_and_work_again_after_it(
    site: tuple[TestClient, PgServer, str],
) -> None:
    client, pg, token = site
    assert client.get("/problems").status_code == 200
    pg.stop("immediate")  # a crash: pooled connections die with it

    english, korean = "briefly unavailable", "잠시 사용할 수 없습니다"
    client.cookies.set("lang", "en")
    _assert_unavailable(client.get("/problems"), english)  # a page, signed in
    reply = client.get("/api/problems")
    _assert_unavailable(reply, english)
    client.cookies.set("lang", "ko")
    page = client.get("/")
    _assert_unavailable(page, korean)
    assert 'id="error-message"' in page.text  # the error page, not a bare text
    # A page loads itself again after Retry-After, and says so.
    seconds = page.headers["Retry-After"]
    assert f'<meta http-equiv="refresh" content="{seconds}">' in page.text
    assert f"{seconds}초 뒤에 스스로 다시 시도합니다" in page.text
    assert 'id="signin-link"' not in page.text  # who asks is unknown: no "sign in" offered
    assert reply.json()["error"]["code"] == "service_unavailable"
    bearer = {"Authorization": f"Bearer {token}"}
    submitted = client.post(
        "/api/submissions",
        json={"problem": "hello-battle", "language": "python", "code": "print(1)\n"},
        headers=bearer,
    )
    _assert_unavailable(submitted, korean)
    assert submitted.json()["error"]["code"] == "service_unavailable"

    probe = TestClient(client.app)  # as a probe asks: no cookie (its own loop: no pool use after)
    assert probe.get("/healthz").status_code == 200
    ready = probe.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["checks"]["database"].startswith("failed")

    pg.start()
    # The first requests after the restart already work: the pool checks its connections.
    assert client.get("/problems").status_code == 200
    assert client.get("/api/problems", headers=bearer).status_code == 200
    assert client.get("/readyz").json()["checks"]["database"] == "ok"


def test_a_socket_opened_during_an_outage_closes_with_try_again_later(
    site: tuple[TestClient, PgServer, str],
) -> None:
    client, pg, _ = site
    pg.stop("immediate")
    with (
        pytest.raises(WebSocketDisconnect) as closed,
        client.websocket_connect("/ws/matches/1", headers={"Origin": "http://testserver"}) as ws,
    ):
        ws.send_json({"type": "hello", "last_seq": 0})
        ws.receive_json()
    assert closed.value.code == TRY_AGAIN_LATER


def test_pages_during_a_redis_outage_get_503(
    tmp_path: Path,
    sqlite_url: str,
    private_redis: RedisServer,  # noqa: F811
) -> None:
    """Sessions in Redis: a signed-in browser's request needs it to know who is asking."""
    settings = settings_for(
        tmp_path, DATABASE_URL=sqlite_url, REDIS_URL=private_redis.url, SESSION_STORE="redis"
    )
    import_problems(settings, "hello-battle")
    with TestClient(create_app(settings), base_url="http://testserver") as client:
        sign_in(client, "redis_player")
        client.cookies.set("lang", "en")
        assert client.get("/problems").status_code == 200
        private_redis.stop()  # a crash
        try:
            _assert_unavailable(client.get("/problems"), "briefly unavailable")
            reply = client.get("/api/problems")
            _assert_unavailable(reply, "briefly unavailable")
            assert reply.json()["error"]["code"] == "service_unavailable"
        finally:
            private_redis.start()
        assert client.get("/problems").status_code == 200  # back by itself


def test_the_app_starts_while_the_database_is_down_and_serves_once_it_is_back(
    private_pg: PgServer,  # noqa: F811
    tmp_path: Path,
    judge: Judge,
    judge_root: Path,
) -> None:
    """A process (re)started during an outage comes up all the same: alive, answering 503;
    the jobs its new queue holds none of are sent, and judged, once the database answers."""
    with private_pg.database() as url:
        settings = settings_for(tmp_path, DATABASE_URL=url)
        upgrade(settings.database_url)
        import_problems(settings, "hello-battle")
        submission_id = asyncio.run(_queued_by_a_dead_process(settings.database_url, settings))
        private_pg.stop("immediate")
        services = Services.from_settings(settings, runner_factory(judge, settings, judge_root))
        try:
            with TestClient(create_app(settings, services), base_url="http://testserver") as client:
                assert client.get("/healthz").status_code == 200
                assert client.get("/api/problems").status_code == 503
                private_pg.start()
                assert client.get("/api/problems").status_code == 200
                deadline = time.monotonic() + 60  # the relay's passes resend it; it is judged
                while (
                    verdict := asyncio.run(_verdict(settings.database_url, submission_id))
                ) is None:
                    assert time.monotonic() < deadline, "never judged"
                    time.sleep(0.25)
                assert verdict == "AC"
        finally:
            if not private_pg.running():
                private_pg.start()


async def _queued_by_a_dead_process(database_url: str, settings: Settings) -> int:
    """A submission saved with its outbox entry (sent: the queue that held it is gone)."""
    db = Database(database_url)
    try:
        async with db.session() as session:
            user = await make_user(session, "waiting_player")
            blobs = LocalBlobStore(settings.DATA_DIR / "blobs")
            made = await make_submission(session, blobs, user, "hello-battle", code=SUM)
            outbox.add(session, made.id, datetime.now(UTC))
            await session.commit()
            return made.id
    finally:
        await db.dispose()


async def _verdict(database_url: str, submission_id: int) -> str | None:
    db = Database(database_url)
    try:
        async with db.reading() as session:
            found = await session.get(Submission, submission_id)
            return None if found is None else found.verdict
    finally:
        await db.dispose()
