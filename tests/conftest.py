"""The fixtures shared by every test folder: one judge for the whole session (its own box
root and compile cache), databases (SQLite and a fresh PostgreSQL database per test), Redis,
a running app with the starter problems it needs, and a module's real servers."""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import redis
from fastapi.testclient import TestClient

from codebattle.app import create_app
from codebattle.config import Settings
from codebattle.db.migrate import upgrade
from codebattle.db.session import Database
from codebattle.judge.compiler import CompileLimits, Compiler
from codebattle.judge.engine import Judge
from codebattle.judge.sandbox import Sandbox
from codebattle.services import Services
from tests.support.hosts import REDIS_URL, fresh_pg_database, reachable, require
from tests.support.log_lines import logging_as_found
from tests.support.servers import Server, Site
from tests.support.site import import_problems, runner_factory, settings_for


@pytest.fixture(autouse=True)
def _logging_undone() -> Iterator[None]:
    """A test that sets up logging (a command run in-process) leaves it as it found it."""
    with logging_as_found():
        yield


@pytest.fixture(scope="session")
def judge_root() -> Iterator[Path]:
    # Not under pytest's private tmp folder: the sandbox's nobody must traverse it.
    root = Path(tempfile.mkdtemp(prefix="codebattle-test-"))
    root.chmod(0o711)
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def judge(judge_root: Path) -> Judge:
    sandbox = Sandbox(work_root=judge_root / "boxes")
    compiler = Compiler(sandbox, judge_root / "cache", CompileLimits(cpu_time=20, wall_time=40))
    return Judge(sandbox, compiler)


@pytest.fixture(scope="module")
def server(site: Site) -> Server:
    """The module's `site` (each module that uses real servers defines its own), served."""
    return site.serve()


# Migrating a database takes about a second; hundreds of tests each want a fresh one. The
# session migrates one of each kind once, and every test gets a copy.


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    """The name of a migrated PostgreSQL database that tests' databases are copied from."""
    require(reachable(5432), "PostgreSQL on 127.0.0.1:5432")
    with fresh_pg_database() as url:
        upgrade(url)  # its engine is disposed: no connection keeps the template busy
        yield url.rsplit("/", 1)[1]


@pytest.fixture
def pg_url(pg_template: str) -> Iterator[str]:
    """A fresh, migrated PostgreSQL database, dropped afterwards."""
    with fresh_pg_database(template=pg_template) as url:
        yield url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "migrated.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    """A fresh, migrated SQLite database (a copy made with SQLite's backup API, which
    carries whatever a write-ahead log still holds)."""
    target = tmp_path / "test.db"
    with (
        contextlib.closing(sqlite3.connect(sqlite_template)) as source,
        contextlib.closing(sqlite3.connect(target)) as copy,
    ):
        source.backup(copy)
    return f"sqlite+aiosqlite:///{target}"


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


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    yield database
    await database.dispose()
