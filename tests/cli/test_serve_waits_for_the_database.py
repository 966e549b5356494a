"""`codebattle serve` started while PostgreSQL is down (a deploy racing a database restart)
waits for it, saying so, and comes up when it is back: no crash into the process manager's
restart loop."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from tests.support.pg_server import PgServer, private_pg  # noqa: F401  (the fixture)
from tests.support.servers import CODEBATTLE, Server, Site, free_port

WAIT = 30.0


def test_serve_started_during_an_outage_comes_up_when_it_ends(
    private_pg: PgServer,  # noqa: F811
    tmp_path: Path,
) -> None:
    with private_pg.database() as database_url:
        site = Site(tmp_path, env={"DATABASE_URL": database_url})
        private_pg.stop("immediate")
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        log = tmp_path / "api.log"
        with log.open("ab") as out:
            proc = subprocess.Popen(
                [CODEBATTLE, "serve", "--port", str(port)],
                env=site.environment(BASE_URL=url), cwd=tmp_path, stdout=out, stderr=out,
            )  # fmt: skip
        try:
            deadline = time.monotonic() + WAIT
            while "the database is not reachable yet" not in log.read_text():
                assert proc.poll() is None, log.read_text()
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
            time.sleep(1.5)  # a retry or two later, still waiting rather than crashed
            assert proc.poll() is None, log.read_text()
            assert "Traceback" not in log.read_text()
            private_pg.start()
            Server(url, proc, log).wait_healthy(timeout=WAIT)  # migrated, then serving
        finally:
            proc.terminate()
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            if not private_pg.running():
                private_pg.start()
