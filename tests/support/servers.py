"""Real server processes for tests: `codebattle serve` (and `codebattle worker`) with an
environment of the test's choosing, started and stopped like an operator would."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CODEBATTLE = str(Path(sys.executable).parent / "codebattle")
# Battles at test speed: a one-second countdown, the offline AI playing 30 times faster.
BATTLE_ENV = {
    "MATCH_COUNTDOWN_SECONDS": "1",
    "MATCH_SECONDS": "300",
    "MOCK_GPT5": "true",
    "AI_LEVEL": "hard",
    "AI_SPEED": "30",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Site:
    """The settings shared by every process of one test site."""

    data: Path
    env: dict[str, str] = field(default_factory=dict)
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def environment(self, **extra: str) -> dict[str, str]:
        return {
            "PATH": os.environ["PATH"],
            "HOME": str(self.data),
            "DATA_DIR": str(self.data / "var"),
            "ENVIRONMENT": "development",
            "SECRET_KEY": "test-site-secret",
            **self.env,
            **extra,
        }

    def cli(self, *args: str) -> str:
        done = subprocess.run(
            [CODEBATTLE, *args], env=self.environment(), cwd=self.data, check=True,
            capture_output=True, text=True,
        )  # fmt: skip
        return done.stdout.strip()

    def import_problems(self, *names: str) -> None:
        self.cli("problems", "import", *(str(ROOT / "problems" / n) for n in names))

    def token(self, nickname: str) -> str:
        return self.cli("users", "token", nickname)

    def serve(self, name: str = "api", **env: str) -> Server:
        """An API instance, healthy; `env` adds to the site's settings for this one only
        (FAILPOINTS, say)."""
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        log = (self.data / f"{name}.log").open("ab")
        proc = subprocess.Popen(
            [CODEBATTLE, "serve", "--port", str(port)],
            env=self.environment(BASE_URL=url, **env),
            cwd=self.data, stdout=log, stderr=log,
        )  # fmt: skip
        self.processes.append(proc)
        server = Server(url, proc, self.data / f"{name}.log")
        server.wait_healthy()
        return server

    def worker(self, name: str = "worker") -> subprocess.Popen[bytes]:
        log = (self.data / f"{name}.log").open("ab")
        proc = subprocess.Popen(
            [CODEBATTLE, "worker"], env=self.environment(), cwd=self.data, stdout=log, stderr=log
        )
        self.processes.append(proc)
        return proc

    def stop(self) -> None:
        for proc in self.processes:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.processes:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@dataclass
class Server:
    url: str
    proc: subprocess.Popen[bytes]
    log: Path

    @property
    def ws_url(self) -> str:
        return "ws" + self.url.removeprefix("http")

    def wait_healthy(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2):  # noqa: S310
                    return
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(self.log.read_text()) from None
                time.sleep(0.2)

    def kill(self) -> None:
        """Die the hard way (SIGKILL): no goodbyes to the clients."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
