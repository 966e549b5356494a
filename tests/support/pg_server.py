"""A private PostgreSQL cluster for tests that stop, crash and restart the database: its own
folder and port on loopback, so the shared server on 5432 (other tests use it) is never
touched. The server binaries must run as the `postgres` user (we are root): every command
goes through `runuser -u postgres --`.

One cluster serves a whole test process (`cluster()`; initdb costs a second or two); each
test takes a fresh database in it (`PgServer.database()`, empty or migrated), and the
`private_pg` fixture makes sure the cluster is running when a test starts, whatever the last
test did to it. `private_db` is a fresh migrated database of it as the app's `Database`.

Import the fixtures into a test module (or a conftest):

    from tests.support.pg_server import PgServer, private_db, private_pg  # noqa: F401"""

from __future__ import annotations

import atexit
import contextlib
import functools
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pytest

from codebattle.db.migrate import upgrade
from codebattle.db.session import Database
from tests.support.hosts import require
from tests.support.servers import free_port

WAIT_SECONDS = 30  # start and stop: pg_ctl's own wait, and ours for the port
StopMode = Literal["smart", "fast", "immediate"]


def _bin_dir() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return found[-1].parent if found else None


def _as_postgres(*argv: str, timeout: float = WAIT_SECONDS) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["runuser", "-u", "postgres", "--", *argv],
        check=True, capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class PgServer:
    """One cluster: `start()`, `stop(mode)` ("immediate" is a crash: no checkpoint, clients
    cut off), `restart()`, and `url` for DATABASE_URL."""

    root: Path  # owned by postgres: the data folder, the socket and the log live here
    port: int
    bin: Path
    template: str | None = field(default=None, init=False)  # the migrated one, once made

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def log(self) -> Path:
        return self.root / "server.log"

    @property
    def url(self) -> str:
        return self.url_of("postgres")

    def url_of(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    @classmethod
    def create(cls) -> PgServer:
        bin_dir = _bin_dir()
        require(bin_dir is not None, "PostgreSQL server binaries in /usr/lib/postgresql")
        assert bin_dir is not None
        root = Path(tempfile.mkdtemp(prefix="codebattle-pg-"))
        shutil.chown(root, "postgres", "postgres")
        root.chmod(0o700)
        server = cls(root, free_port(), bin_dir)
        _as_postgres(
            str(bin_dir / "initdb"), "-D", str(server.data), "-U", "postgres", "-A", "trust",
            "--no-sync", "-E", "UTF8", "--locale", "C", timeout=120,
        )  # fmt: skip
        return server

    def running(self) -> bool:
        return _port_open(self.port)

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.root}"
            # No fsync (what the kernel holds outlives a crash of the server, which is all a
            # test does); commits still wait for their WAL write, so none is lost.
            " -c fsync=off -c full_page_writes=off"
            " -c max_connections=200"
        )
        _as_postgres(
            str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.log),
            "-o", options, "-w", "-t", str(WAIT_SECONDS), "start",
        )  # fmt: skip
        deadline = time.monotonic() + WAIT_SECONDS
        while not self.running():
            if time.monotonic() > deadline:
                raise RuntimeError(self.log.read_text())
            time.sleep(0.05)

    def stop(self, mode: StopMode = "immediate") -> None:
        """Stop the server; "immediate" kills it without a checkpoint, as a crash would (it
        recovers from its log on the next start)."""
        _as_postgres(
            str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode,
            "-w", "-t", str(WAIT_SECONDS), "stop",
        )  # fmt: skip

    def restart(self, mode: StopMode = "immediate") -> None:
        self.stop(mode)
        self.start()

    def psql(self, sql: str, database: str = "postgres") -> str:
        done = _as_postgres(
            str(self.bin / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
            "-d", database, "-v", "ON_ERROR_STOP=1", "-Atc", sql,
        )  # fmt: skip
        return done.stdout.strip()

    @contextlib.contextmanager
    def database(self, migrated: bool = False) -> Iterator[str]:
        """A fresh database in this cluster (its DATABASE_URL), empty or `migrated` (a copy
        of a template migrated once per cluster), dropped afterwards. A test may leave the
        server stopped: it is started again to drop the database."""
        name = f"cb_{uuid.uuid4().hex[:12]}"
        copy = f' TEMPLATE "{self._migrated_template()}"' if migrated else ""
        self.psql(f'CREATE DATABASE "{name}"{copy}')
        try:
            yield self.url_of(name)
        finally:
            if not self.running():
                self.start()
            self.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def _migrated_template(self) -> str:
        if self.template is None:
            name = "cb_migrated_template"
            self.psql(f'DROP DATABASE IF EXISTS "{name}"')
            self.psql(f'CREATE DATABASE "{name}"')
            upgrade(asyncpg_url(self.url_of(name)))  # its engine is disposed: the template is free
            self.template = name
        return self.template

    def destroy(self) -> None:
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            if (self.data / "postmaster.pid").exists():
                self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


def asyncpg_url(url: str) -> str:
    """A DATABASE_URL with SQLAlchemy's asyncpg driver, as the app's `Database` takes it."""
    return url.replace("postgresql://", "postgresql+asyncpg://", 1)


@functools.cache
def cluster() -> PgServer:
    """This process's private cluster, made (and started) on first use, removed at exit."""
    server = PgServer.create()
    atexit.register(server.destroy)
    server.start()
    return server


@pytest.fixture
def private_pg() -> PgServer:
    """The process's private cluster, running (a previous test may have stopped it)."""
    server = cluster()
    if not server.running():
        server.start()
    return server


@pytest.fixture
async def private_db(private_pg: PgServer) -> AsyncIterator[Database]:
    """A fresh migrated database in the private cluster, as the app's `Database`; the test
    may stop and start the cluster under it."""
    with private_pg.database(migrated=True) as url:
        db = Database(asyncpg_url(url))
        try:
            yield db
        finally:
            await db.dispose()
