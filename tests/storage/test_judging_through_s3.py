"""Judging with the blobs in a bucket (a real `moto_server` on loopback): the hosts share
nothing but the bucket (and Redis). The API imports and saves code into the bucket, not its
DATA_DIR; the judge processes, the web app's own (LocalQueue) and a `codebattle worker` on
another DATA_DIR, open the same bucket from the settings and fetch the package from it.
A bucket that stops answering makes a submit 503 (try again), never a 500."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from fastapi.testclient import TestClient

from codebattle.app import create_app
from tests.judge.test_redis_workers import poll, submit
from tests.support.chaos import client, hello_site
from tests.support.redis_server import RedisServer, private_redis  # noqa: F401
from tests.support.s3_server import s3_server, s3_settings  # noqa: F401
from tests.support.servers import Site, free_port
from tests.support.site import import_problems, settings_for, sign_in

AC = "a, b = map(int, input().split())\nprint(a + b)\n"
WAIT = 60.0


def judges_of(bucket: str) -> list[int]:
    """The pids of the web app's judge processes opening this bucket."""
    wanted = f"S3_BUCKET={bucket}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        try:
            args = (entry / "cmdline").read_bytes().split(b"\0")
            environ = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"codebattle.judge.local_worker" in args and wanted in environ:
            found.append(int(entry.name))
    return found


def files_under(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


def test_the_web_apps_judge_processes_read_the_bucket(
    tmp_path: Path,
    sqlite_url: str,
    s3_settings: dict[str, str],  # noqa: F811
) -> None:
    settings = settings_for(
        tmp_path, DATABASE_URL=sqlite_url.replace("+aiosqlite", ""),
        JUDGE_WORKERS=1, JUDGE_URGENT_WORKERS=0, **s3_settings,
    )  # fmt: skip
    import_problems(settings, "hello-battle")
    with TestClient(create_app(settings), base_url="http://testserver") as api:
        assert api.get("/readyz").json()["checks"]["blobs"] == "ok"
        deadline = time.monotonic() + WAIT
        while not (pids := judges_of(s3_settings["S3_BUCKET"])):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        [pid] = pids
        environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        assert f"S3_BUCKET={s3_settings['S3_BUCKET']}".encode() in environ
        assert not any(v.startswith((b"DATABASE_URL=", b"SECRET_KEY=")) for v in environ)
        csrf = sign_in(api)
        submission = submit(api, csrf, AC)
        final = poll(api, submission, lambda s: s["status"] == "done")
        assert final["verdict"] == "AC", final
        assert api.get(f"/api/submissions/{submission}").json()["code"] == AC
    assert files_under(settings.DATA_DIR / "blobs") == []  # all of it went to the bucket


def test_a_worker_on_another_host_judges_from_the_bucket(
    tmp_path: Path,
    s3_settings: dict[str, str],  # noqa: F811
    private_redis: RedisServer,  # noqa: F811
) -> None:
    shared = {"REDIS_URL": private_redis.url, **s3_settings}
    with hello_site(tmp_path / "api", **shared) as site:  # imports into the bucket
        server = site.serve()
        # Another "host": its own DATA_DIR, no database, only Redis and the bucket.
        worker_host = Site(tmp_path / "worker-host", env=shared)
        worker_host.data.mkdir()
        worker = worker_host.worker()
        try:
            token = site.token("alice")

            async def judged() -> dict[str, object]:
                async with client(server, token) as api:
                    assert (await api.get("/readyz")).json()["checks"]["blobs"] == "ok"
                    reply = await api.post(
                        "/api/submissions",
                        json={"problem": "hello-battle", "language": "python", "code": AC},
                    )
                    assert reply.status_code == 201, reply.text
                    url = f"/api/submissions/{reply.json()['id']}"
                    async with asyncio.timeout(WAIT):
                        while (found := (await api.get(url)).json())["status"] != "done":
                            await asyncio.sleep(0.2)
                    return dict(found)

            final = asyncio.run(judged())
            assert final["verdict"] == "AC", (final, (worker_host.data / "worker.log").read_text())
            assert worker.poll() is None
        finally:
            worker_host.stop()
    assert files_under(site.data / "var" / "blobs") == []
    assert files_under(worker_host.data / "var" / "blobs") == []
    assert "DATABASE_URL" not in worker_host.environment()


def test_a_bucket_that_stops_answering_is_a_503_not_a_500(
    tmp_path: Path,
    sqlite_url: str,
    s3_settings: dict[str, str],  # noqa: F811
) -> None:
    database = {"DATABASE_URL": sqlite_url.replace("+aiosqlite", "")}
    import_problems(settings_for(tmp_path, **database, **s3_settings), "hello-battle")
    gone = {**s3_settings, "S3_ENDPOINT": f"http://127.0.0.1:{free_port()}"}
    settings = settings_for(tmp_path, **database, JUDGE_WORKERS=1, JUDGE_URGENT_WORKERS=0, **gone)
    with TestClient(create_app(settings), base_url="http://testserver") as api:
        csrf = sign_in(api)
        reply = api.post(
            "/api/submissions",
            json={"problem": "hello-battle", "language": "python", "code": AC},
            headers={"X-CSRF-Token": csrf},
        )
        assert reply.status_code == 503, reply.text
        assert reply.headers["Retry-After"]
        assert reply.json()["error"]["code"] == "service_unavailable"
        ready = api.get("/readyz")
        assert ready.status_code == 503 and ready.json()["checks"]["blobs"] == "failed: S3Error"
