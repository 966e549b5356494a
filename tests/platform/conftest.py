"""Fixtures for the platform: databases (SQLite and a fresh PostgreSQL database per test),
Redis, settings, and a running app with the starter problems it needs."""

from __future__ import annotations

import asyncio
import contextlib
import re
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import redis
from fastapi.testclient import TestClient

from codebattle.app import create_app
from codebattle.config import Settings, load_settings
from codebattle.db.migrate import upgrade
from codebattle.db.session import Database
from codebattle.judge.engine import Judge
from codebattle.judge.runner import JobRunner, PackageCache
from codebattle.problems.importer import import_package
from codebattle.services import Services
from codebattle.storage import LocalBlobStore
from tests.conftest import require

ROOT = Path(__file__).resolve().parents[2]
PROBLEMS = ROOT / "problems"
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
REDIS_URL = "redis://127.0.0.1:6379/0"


def reachable(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database, dropped afterwards."""
    require(reachable(5432), "PostgreSQL on 127.0.0.1:5432")
    with fresh_pg_database() as url:
        upgrade(url)
        yield url


@contextlib.contextmanager
def fresh_pg_database() -> Iterator[str]:
    """An empty PostgreSQL database of its own, dropped afterwards."""
    name = f"cb_test_{uuid.uuid4().hex[:12]}"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(PG_ADMIN)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        yield f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    finally:
        asyncio.run(admin(f'DROP DATABASE "{name}" WITH (FORCE)'))


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
    upgrade(url)
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str:
    """Each database test runs on both."""
    fixture = "sqlite_url" if request.param == "sqlite" else "pg_url"
    return str(request.getfixturevalue(fixture))


@pytest.fixture
def redis_url() -> Iterator[str]:
    require(reachable(6379), "Redis on 127.0.0.1:6379")
    client = redis.Redis.from_url(REDIS_URL)

    def clear() -> None:
        keys = list(client.scan_iter("codebattle:*"))
        if keys:
            client.delete(*keys)

    clear()
    yield REDIS_URL
    clear()
    client.close()


def settings_for(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "DATA_DIR": tmp_path / "var",
        "SECRET_KEY": "test-secret-key",
        "ENVIRONMENT": "test",
        "QUEUE_REDELIVERY_SECONDS": 2.0,
    }
    values.update(overrides)
    return load_settings(**values)


def import_problems(settings: Settings, *names: str) -> None:
    async def run() -> None:
        db = Database(settings.database_url)
        blobs = LocalBlobStore(settings.DATA_DIR / "blobs")
        try:
            for name in names:
                async with db.session() as session:
                    await import_package(session, blobs, PROBLEMS / name)
        finally:
            await db.dispose()

    asyncio.run(run())


def runner_factory(judge: Judge, settings: Settings, judge_root: Path) -> Any:
    """The session's judge (shared compile cache) with this app's blob storage."""

    def make() -> JobRunner:
        packages = judge_root / f"packages-{uuid.uuid4().hex[:8]}"
        return JobRunner(judge, PackageCache(LocalBlobStore(settings.DATA_DIR / "blobs"), packages))

    return make


@pytest.fixture
def app_settings(tmp_path: Path, sqlite_url: str) -> Settings:
    settings = settings_for(tmp_path, DATABASE_URL=sqlite_url.replace("+aiosqlite", ""))
    import_problems(settings, "hello-battle", "guess-number")
    return settings


@pytest.fixture
def client(app_settings: Settings, judge: Judge, judge_root: Path) -> Iterator[TestClient]:
    services = Services.from_settings(app_settings, runner_factory(judge, app_settings, judge_root))
    with TestClient(
        create_app(app_settings, services), base_url="http://testserver"
    ) as test_client:
        yield test_client


def sign_in(client: TestClient, nickname: str = "tester") -> str:
    """Sign in with a nickname through the form; return the page CSRF token."""
    page = client.get("/signin")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    reply = client.post(
        "/signin",
        data={"nickname": nickname, "csrf_token": token.group(1), "next": "/problems"},
        follow_redirects=False,
    )
    assert reply.status_code == 303, reply.text
    return csrf_of(client)


def csrf_of(client: TestClient) -> str:
    page = client.get("/problems")
    token = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
    assert token is not None
    return token.group(1)


def wait_done(
    client: TestClient,
    submission_id: int,
    headers: dict[str, str] | None = None,
    timeout: float = 60.0,
) -> dict[str, Any]:
    """Follow the submission's WebSocket to the end; return the final submission."""
    import time

    deadline = time.monotonic() + timeout
    with client.websocket_connect(f"/ws/submissions/{submission_id}", headers=headers or {}) as ws:
        while time.monotonic() < deadline:
            message = ws.receive_json()
            if message["type"] == "done":
                return dict(message["submission"])
            if message["type"] == "snapshot" and message["submission"]["status"] == "done":
                return dict(message["submission"])
    raise AssertionError("submission not done in time")
