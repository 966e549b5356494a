"""The embedded default judges in worker processes of its own (judge/queue.py LocalQueue):
they get no secrets and no database; one killed mid-job is replaced and the job judged again,
its results recorded once."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from codebattle import logs
from codebattle.app import create_app
from codebattle.config import Settings
from tests.judge.test_redis_workers import SLOW_SUM, poll, submit
from tests.support.site import import_problems, settings_for, sign_in, wait_done


@pytest.fixture
def settings(tmp_path: Path, sqlite_url: str) -> Settings:
    result = settings_for(tmp_path, DATABASE_URL=sqlite_url.replace("+aiosqlite", ""))
    import_problems(result, "hello-battle")
    return result


def local_workers(settings: Settings) -> list[int]:
    """The pids of the judge worker processes serving these settings' blob folder."""
    data_dir = b"DATA_DIR=" + str(settings.DATA_DIR.resolve()).encode()
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                args = (entry / "cmdline").read_bytes().split(b"\0")
                environ = (entry / "environ").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"codebattle.judge.local_worker" in args and data_dir in environ:
                found.append(int(entry.name))
    return found


def all_workers(settings: Settings) -> int:
    """The processes it starts: those that take any job, and the urgent lane's."""
    return settings.JUDGE_WORKERS + settings.JUDGE_URGENT_WORKERS


def wait_for_workers(settings: Settings, count: int, timeout: float = 30) -> list[int]:
    deadline = time.monotonic() + timeout
    while len(pids := local_workers(settings)) != count:
        assert time.monotonic() < deadline, pids
        time.sleep(0.05)
    return pids


def test_submissions_are_judged_in_worker_processes_without_secrets(settings: Settings) -> None:
    with TestClient(create_app(settings), base_url="http://testserver") as client:
        assert client.get("/readyz").json()["checks"]["queue"] == "ok"
        pids = wait_for_workers(settings, all_workers(settings))
        for pid in pids:
            environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
            # PATH, where the blobs are (storage.store_environment) and the app's log
            # format: nothing else.
            data_dir = str(settings.DATA_DIR.resolve()).encode()
            assert [v for v in environ if v] == [
                b"PATH=" + os.environ["PATH"].encode(),
                b"DATA_DIR=" + data_dir,
                b"LOG_FORMAT=" + logs.current_format().encode(),
            ]
        csrf = sign_in(client)
        good = submit(client, csrf, "a, b = map(int, input().split())\nprint(a + b)\n")
        bad = submit(client, csrf, "int main() { return 1 }", "cpp")
        assert wait_done(client, good)["verdict"] == "AC"
        final = poll(client, bad, lambda s: s["status"] == "done")
        assert final["verdict"] == "CE" and final["compile_output"]
    wait_for_workers(settings, 0)  # they end with the app


def test_a_killed_worker_is_replaced_and_its_job_judged_again(settings: Settings) -> None:
    with TestClient(create_app(settings), base_url="http://testserver") as client:
        csrf = sign_in(client)
        before = set(wait_for_workers(settings, all_workers(settings)))
        submission = submit(client, csrf, SLOW_SUM)
        partial = poll(client, submission, lambda s: len(s["tests"]) >= 2)
        assert partial["status"] == "running"
        for pid in before:  # the one judging is among them; all go
            os.kill(pid, signal.SIGKILL)
        final = poll(client, submission, lambda s: s["status"] == "done")
        assert final["verdict"] == "AC"
        names = [t["name"] for t in final["tests"]]
        assert len(names) == len(set(names)) == final["tests_total"] == final["tests_passed"]
        after = set(local_workers(settings))
        assert after and not before & after  # the one that judged it again is new
