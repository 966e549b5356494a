"""The production path: PostgreSQL, Redis, and separate `codebattle worker` processes that
have no database settings. A worker killed mid-job: the job is redelivered and recorded once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from codebattle.app import create_app
from codebattle.config import Settings
from tests.support.site import import_problems, settings_for, sign_in, wait_done

CODEBATTLE = str(Path(sys.executable).parent / "codebattle")
SLOW_SUM = "import time\ntime.sleep(0.25)\na, b = map(int, input().split())\nprint(a + b)\n"


@pytest.fixture
def settings(tmp_path: Path, pg_url: str, redis_url: str) -> Settings:
    result = settings_for(tmp_path, DATABASE_URL=pg_url, REDIS_URL=redis_url)
    import_problems(result, "hello-battle")
    return result


class Workers:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self) -> subprocess.Popen[bytes]:
        # Only what a worker needs: the queue and the blob storage. No DATABASE_URL, no key.
        env = {
            "PATH": os.environ["PATH"],
            "REDIS_URL": str(self.settings.REDIS_URL),
            "DATA_DIR": str(self.settings.DATA_DIR),
            "QUEUE_REDELIVERY_SECONDS": str(self.settings.QUEUE_REDELIVERY_SECONDS),
            "ENVIRONMENT": "test",
        }
        proc = subprocess.Popen([CODEBATTLE, "worker"], env=env, start_new_session=True,
                                cwd=self.settings.DATA_DIR.parent)  # fmt: skip
        self.procs.append(proc)
        return proc

    def kill(self, proc: subprocess.Popen[bytes]) -> None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


@pytest.fixture
def workers(settings: Settings) -> Iterator[Workers]:
    pool = Workers(settings)
    yield pool
    pool.stop_all()


def submit(client: TestClient, csrf: str, code: str, language: str = "python") -> int:
    reply = client.post(
        "/api/submissions",
        json={"problem": "hello-battle", "language": language, "code": code},
        headers={"X-CSRF-Token": csrf},
    )
    assert reply.status_code == 201, reply.text
    return int(reply.json()["id"])


def poll(client: TestClient, submission_id: int, until: Any, timeout: float = 90) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        data: dict[str, Any] = client.get(f"/api/submissions/{submission_id}").json()
        if until(data):
            return data
        time.sleep(0.1)
    raise AssertionError(f"timed out: {data}")


def test_submissions_are_judged_by_separate_workers(settings: Settings, workers: Workers) -> None:
    workers.start()
    workers.start()
    with TestClient(create_app(settings), base_url="http://testserver") as client:
        ready = client.get("/readyz").json()
        assert ready["checks"]["queue"] == "ok" and ready["checks"]["database"] == "ok"
        csrf = sign_in(client)
        good = submit(client, csrf, "a, b = map(int, input().split())\nprint(a + b)\n")
        bad = submit(client, csrf, "int main() { return 1 }", "cpp")
        assert wait_done(client, good)["verdict"] == "AC"  # streamed over Redis pub/sub
        final = poll(client, bad, lambda s: s["status"] == "done")
        assert final["verdict"] == "CE" and final["compile_output"]


def test_a_killed_worker_s_job_is_redelivered_and_recorded_once(
    settings: Settings, workers: Workers
) -> None:
    first = workers.start()
    with TestClient(create_app(settings), base_url="http://testserver") as client:
        csrf = sign_in(client)
        submission = submit(client, csrf, SLOW_SUM)
        partial = poll(client, submission, lambda s: len(s["tests"]) >= 2)
        assert partial["status"] == "running"
        workers.kill(first)
        workers.start()
        final = poll(client, submission, lambda s: s["status"] == "done")
        assert final["verdict"] == "AC"
        names = [t["name"] for t in final["tests"]]
        assert len(names) == len(set(names)) == final["tests_total"] == final["tests_passed"]
