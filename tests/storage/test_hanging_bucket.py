"""The S3 store when the bucket hangs (accepts, never answers: tests/support/hanging_server.py)
rather than refuses: every awaitable gives up at its bound with a transient S3Error (the
client gets 503), on the store's own threads, so the default executor (which also resolves
names for the database and Redis) stays free; /readyz's check is one quick try at a time,
its result kept a few seconds; `close` (from Services.stop) ends the store's threads."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from codebattle import storage
from codebattle.app import create_app
from codebattle.db import outage
from codebattle.db.session import Database
from codebattle.integrations.s3 import PROBE, S3Bucket, S3Error, Timeouts
from codebattle.ratelimit import MemoryRateLimiter
from codebattle.realtime.pubsub import MemoryPubSub
from codebattle.services import Services
from codebattle.storage import S3BlobStore
from tests.storage.test_blob_stores import bucket_of
from tests.support.hanging_server import HangingServer
from tests.support.s3_server import KEY_ID, REGION, SECRET, s3_server, s3_settings  # noqa: F401
from tests.support.site import import_problems, settings_for, sign_in

WAIT = 15.0  # a bound on every wait below, never an expectation


@pytest.fixture
def hanging() -> Iterator[HangingServer]:
    with HangingServer() as server:
        yield server


def hanging_settings(server: HangingServer) -> dict[str, str]:
    return {
        "S3_ENDPOINT": server.url, "S3_ACCESS_KEY_ID": KEY_ID, "S3_SECRET_ACCESS_KEY": SECRET,
        "S3_BUCKET": "cb-hangs", "S3_REGION": REGION,
    }  # fmt: skip


async def until(condition: Any) -> None:
    async with asyncio.timeout(WAIT):
        while not condition():
            await asyncio.sleep(0.02)


async def test_each_awaitable_gives_up_at_its_bound_with_a_transient_error(
    hanging: HangingServer,
) -> None:
    store = S3BlobStore(bucket_of(hanging_settings(hanging)), call_seconds=0.3)
    try:
        for operation, call in (
            ("GET", store.aget("code/ab/x")),
            ("HEAD", store.aexists("code/ab/x")),
            ("PUT", store.aput("code/ab/x", b"x")),
        ):
            with pytest.raises(S3Error) as caught:
                await call
            message = str(caught.value)
            assert caught.value.transient and outage.is_unavailable(caught.value)
            assert message.startswith(f"S3 {operation} on bucket 'cb-hangs'")
            assert "no answer within 0.3 s" in message and SECRET not in message
        assert hanging.accepted >= 1  # the calls did reach the bucket
    finally:
        store.close()


async def test_a_hanging_bucket_leaves_the_default_executor_free(hanging: HangingServer) -> None:
    """More calls than the store has threads: they wait on its threads and its queue, and
    a name lookup or another thread's work of the default executor is not held up."""
    store = S3BlobStore(bucket_of(hanging_settings(hanging)), call_seconds=3)
    loop = asyncio.get_running_loop()
    try:
        calls = [asyncio.create_task(store.aget(f"code/ab/{i}")) for i in range(20)]
        await until(lambda: hanging.accepted >= storage.S3_THREADS)
        assert await loop.run_in_executor(None, lambda: "free") == "free"
        assert await loop.getaddrinfo("localhost", 80)
        assert not any(call.done() for call in calls)  # all still waiting on the bucket
        results = await asyncio.gather(*calls, return_exceptions=True)
        assert all(isinstance(r, S3Error) and r.transient for r in results), results
        # The queued ones never ran: each try opened a connection, the 8 threads' first.
        assert hanging.accepted == storage.S3_THREADS
    finally:
        store.close()


async def test_the_readiness_check_is_one_quick_try_at_a_time_and_kept(
    hanging: HangingServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    checks: list[tuple[str, Timeouts]] = []
    real_check = S3Bucket.check

    def recorded(bucket: S3Bucket) -> None:
        checks.append((threading.current_thread().name, bucket.timeouts))
        real_check(bucket)

    monkeypatch.setattr(S3Bucket, "check", recorded)
    store = S3BlobStore(bucket_of(hanging_settings(hanging)))
    try:
        probes = [asyncio.wait_for(store.acheck(), timeout=5) for _ in range(5)]
        results = await asyncio.gather(*probes, return_exceptions=True)
        assert all(isinstance(r, S3Error) and r.transient for r in results), results
        [(thread, timeouts)] = checks  # one check for the five probes
        assert thread.startswith("s3-blobs") and timeouts == PROBE
        assert hanging.accepted == 1  # one try, no retry
        with pytest.raises(S3Error):  # a probe just after: the result kept
            await store.acheck()
        assert len(checks) == 1 and hanging.accepted == 1
        monkeypatch.setattr(storage, "S3_CHECK_TTL", 0.0)  # once it is stale: asked again
        with pytest.raises(S3Error):
            await store.acheck()
        assert len(checks) == 2 and hanging.accepted == 2
    finally:
        store.close()


async def test_a_working_bucket_is_checked_once_within_the_ttl(
    s3_settings: dict[str, str],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store = S3BlobStore(bucket_of(s3_settings))
    asked: list[S3Bucket] = []
    real_check = S3Bucket.check

    def recorded(bucket: S3Bucket) -> None:
        asked.append(bucket)
        real_check(bucket)

    monkeypatch.setattr(S3Bucket, "check", recorded)
    try:
        await store.acheck()
        await store.acheck()
        assert len(asked) == 1 and asked[0] is not store.bucket  # the quick client's
    finally:
        store.close()


async def test_close_ends_the_threads_and_refuses_later_calls(
    s3_settings: dict[str, str],  # noqa: F811
) -> None:
    store = S3BlobStore(bucket_of(s3_settings))
    used: set[threading.Thread] = set()
    real_get = store.bucket.get

    def get(key: str) -> bytes:
        used.add(threading.current_thread())
        return real_get(key)

    store.bucket.get = get  # type: ignore[method-assign]
    await store.aput("code/ab/closing", b"x")
    assert await asyncio.gather(*(store.aget("code/ab/closing") for _ in range(4))) == [b"x"] * 4
    store.close()
    for thread in used:
        thread.join(WAIT)
        assert not thread.is_alive()
    with pytest.raises(RuntimeError, match="after shutdown"):
        await store.aget("code/ab/closing")


class StoppedQueue:
    async def stop(self) -> None:
        pass


async def test_services_stop_closes_the_blob_store(
    tmp_path: Path,
    sqlite_url: str,
    s3_settings: dict[str, str],  # noqa: F811
) -> None:
    store = S3BlobStore(bucket_of(s3_settings))
    await store.aput("code/ab/stop", b"x")
    services = Services(
        settings=settings_for(tmp_path), db=Database(sqlite_url), blobs=store,
        queue=StoppedQueue(),  # type: ignore[arg-type]
        pubsub=MemoryPubSub(), ratelimit=MemoryRateLimiter(),
    )  # fmt: skip
    await services.stop()
    with pytest.raises(RuntimeError, match="after shutdown"):
        await store.aget("code/ab/stop")


def test_a_submit_to_a_hanging_bucket_is_a_503_at_the_bound_and_the_rest_goes_on(
    tmp_path: Path,
    sqlite_url: str,
    s3_settings: dict[str, str],  # noqa: F811
    hanging: HangingServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(storage, "S3_CALL_SECONDS", 1.0)
    database = {"DATABASE_URL": sqlite_url.replace("+aiosqlite", "")}
    import_problems(settings_for(tmp_path, **database, **s3_settings), "hello-battle")
    away = {**s3_settings, "S3_ENDPOINT": hanging.url}
    settings = settings_for(tmp_path, **database, JUDGE_WORKERS=1, JUDGE_URGENT_WORKERS=0, **away)
    with TestClient(create_app(settings), base_url="http://testserver") as api:
        csrf = sign_in(api)

        def submit() -> tuple[Any, float]:
            started = time.monotonic()
            reply = api.post(
                "/api/submissions",
                json={"problem": "hello-battle", "language": "python", "code": "print(1)\n"},
                headers={"X-CSRF-Token": csrf},
            )
            return reply, time.monotonic() - started

        with ThreadPoolExecutor(1) as pool:
            pending = pool.submit(submit)
            deadline = time.monotonic() + WAIT
            while hanging.accepted == 0:  # the submit is waiting on the bucket
                assert time.monotonic() < deadline and not pending.done()
                time.sleep(0.02)
            # Meanwhile, what needs no blob answers (the database, the pages).
            assert api.get("/healthz").status_code == 200
            assert api.get("/api/problems").status_code == 200
            assert not pending.done()
            reply, seconds = pending.result(WAIT)
        assert reply.status_code == 503, reply.text
        assert reply.headers["Retry-After"]
        assert reply.json()["error"]["code"] == "service_unavailable"
        # Well under one try of the client's own (connect 5 s + read 10 s, three times).
        assert seconds < 10, seconds
