"""A private `redis-server` for tests that crash and restart it (the shared one on 6379 must
never be touched): its own free port and folder, killed with SIGKILL like a crash.

Started with an append-only file fsynced on every write, it keeps its data over a restart
(`restart(keep_data=True)`); `restart(keep_data=False)` deletes its files first, which is what
a Redis without persistence (as CI and small deployments run it) comes back with: nothing.
A `RedisServer(..., persistent=False)` writes no file at all.

Use the `private_redis` fixture (import it into a test module or a conftest):

    from tests.support.redis_server import private_redis  # noqa: F401
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import redis

from tests.support.hosts import require
from tests.support.servers import free_port

READY_SECONDS = 10.0  # a fresh redis-server answers within milliseconds; this is a bound


@dataclass
class RedisServer:
    folder: Path
    persistent: bool = True
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def log(self) -> Path:
        return self.folder / "redis.log"

    def start(self) -> None:
        """Start it and wait (bounded) until it answers PING with its data loaded."""
        assert self.proc is None or self.proc.poll() is not None, "already running"
        self.folder.mkdir(parents=True, exist_ok=True)
        persistence = (
            ["--appendonly", "yes", "--appendfsync", "always"]
            if self.persistent
            else ["--appendonly", "no"]
        )
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
             "--dir", str(self.folder), "--save", "", *persistence,
             "--logfile", str(self.log), "--daemonize", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + READY_SECONDS
        client = redis.Redis.from_url(self.url, socket_connect_timeout=1, socket_timeout=1)
        try:
            while True:
                try:
                    if client.ping():
                        return
                except (redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError):
                    pass
                assert self.proc is not None
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    log = self.log.read_text() if self.log.exists() else ""
                    raise RuntimeError(f"redis-server did not start:\n{log}")
                time.sleep(0.05)
        finally:
            client.close()

    def stop(self) -> None:
        """Die like a crash (SIGKILL): no save, clients see their connections drop."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(READY_SECONDS)

    def wipe(self) -> None:
        """Delete its data files (while stopped)."""
        shutil.rmtree(self.folder / "appendonlydir", ignore_errors=True)
        (self.folder / "dump.rdb").unlink(missing_ok=True)

    def restart(self, keep_data: bool, down_seconds: float = 0.0) -> None:
        """Crash it and start it again on the same port, after `down_seconds`; with
        `keep_data=False` it comes back empty."""
        if keep_data and not self.persistent:
            raise ValueError("a Redis without persistence cannot keep its data")
        self.stop()
        if not keep_data:
            self.wipe()
        time.sleep(down_seconds)
        self.start()

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url, socket_connect_timeout=2, socket_timeout=5)


def redis_server_available() -> bool:
    return shutil.which("redis-server") is not None


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A running private Redis (append-only, fsync always) of this test, killed afterwards."""
    require(redis_server_available(), "redis-server on PATH")
    server = RedisServer(tmp_path / "redis")
    server.start()
    try:
        yield server
    finally:
        server.stop()
