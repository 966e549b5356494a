"""The API as deploy/Dockerfile.api builds it: no bubblewrap, no compilers. With REDIS_URL
(production) the workers judge on hosts of their own; the API must start, be ready and
serve without a sandbox: /readyz checks the queue and reports the fleet instead, and the
AI code review skips lint and timing with its notes rather than failing.

Real processes: `codebattle serve` with a PATH that holds only this venv's programs (no
bwrap, no cc, no compiler), and a `codebattle worker` with this host's full PATH."""

from __future__ import annotations

import contextlib
import sqlite3
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from codebattle.ops.health import WORKERS_SANDBOX
from tests.support.chaos import hello_site
from tests.support.redis_server import RedisServer, private_redis  # noqa: F401

WAIT = 90.0  # every wait is bounded by this (a real worker judges; the machine is shared)
# Accepted, with an unused variable a linter would point out (ruff's F841).
PY_ACCEPTED = (
    "import sys\n\n\ndef main():\n    unused_total = 0\n"
    "    a, b = map(int, sys.stdin.read().split())\n    print(a + b)\n\n\nmain()\n"
)


def api_path() -> str:
    """A PATH like the API image's: Python and this project's scripts, nothing to sandbox or
    compile with."""
    venv_bin = Path(sys.executable).parent
    assert not (venv_bin / "bwrap").exists() and not (venv_bin / "cc").exists()
    return str(venv_bin)


def poll(get: Callable[[], dict[str, Any]], ready: Callable[[dict[str, Any]], bool]) -> Any:
    deadline = time.monotonic() + WAIT
    while True:
        found = get()
        if ready(found):
            return found
        assert time.monotonic() < deadline, found
        time.sleep(0.3)


def test_the_api_without_bubblewrap_is_ready_and_reviews_without_lint_or_timing(
    tmp_path: Path,
    private_redis: RedisServer,  # noqa: F811
) -> None:
    with hello_site(tmp_path / "site", REDIS_URL=private_redis.url) as site:
        api = site.serve(PATH=api_path())
        with httpx.Client(base_url=api.url, timeout=30) as anyone:
            ready = anyone.get("/readyz")
            assert ready.status_code == 200, ready.text
            checks = ready.json()["checks"]
            assert checks["sandbox"] == WORKERS_SANDBOX
            assert checks["queue"] == "ok" and checks["database"] == "ok"
            assert checks["workers"] == "none alive: jobs wait in the queue until a worker comes"

            site.worker()  # this host's PATH: it has the sandbox
            workers = poll(lambda: anyone.get("/readyz").json(),
                           lambda r: r["checks"]["workers"] != checks["workers"])  # fmt: skip
            assert workers["status"] == "ready"
            assert workers["checks"]["workers"].startswith("1 alive (")
            assert "python" in workers["checks"]["workers"]

        token = site.token("sandboxless")
        with contextlib.closing(sqlite3.connect(site.data / "var" / "codebattle.db")) as db:
            db.execute("UPDATE users SET plan = 'pro' WHERE nickname = 'sandboxless'")
            db.commit()
        bearer = {"Authorization": f"Bearer {token}", "Accept-Language": "en"}
        with httpx.Client(base_url=api.url, headers=bearer, timeout=30) as player:
            wanted = {"problem": "hello-battle", "language": "python", "code": PY_ACCEPTED}
            made = player.post("/api/submissions", json={**wanted, "kind": "submit"})
            assert made.status_code == 201, made.text
            submission = made.json()["id"]
            done = poll(lambda: player.get(f"/api/submissions/{submission}").json(),
                        lambda s: s["status"] == "done")  # fmt: skip
            assert done["verdict"] == "AC", done

            asked = player.post(f"/api/submissions/{submission}/review")
            assert asked.status_code in (200, 202), asked.text
            review = poll(lambda: player.get(f"/api/submissions/{submission}/review").json(),
                          lambda r: r["status"] not in ("pending", "none"))  # fmt: skip
        log = api.log.read_text()
    assert review["status"] == "ready" and review["source"] == "offline", review
    body = review["body"]
    # No lint (ruff is on the API's PATH: only the sandbox is missing), and it says so.
    assert body["lint"] == {"tool": "ruff", "available": False, "findings": []}
    assert body["sections"]["style"] == [
        "The linter (ruff) could not run here, so there are no lint findings."
    ]
    # No timing against the reference, and it says so; the judge's results stand.
    assert body["complexity"]["tests"] == []
    assert "No reference timing is available for this problem." in body["sections"]["complexity"]
    assert body["sections"]["correctness"][0] == f"All {done['tests_total']} tests passed."
    # Said once in the API's log, and nothing failed.
    assert log.count("review_sandbox_unavailable") == 1, log[-3000:]
    assert "bubblewrap (bwrap) is not on PATH" in log
    assert "Traceback" not in log and "review_failed" not in log
