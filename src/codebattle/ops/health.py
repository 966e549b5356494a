"""`/healthz`: the process is alive. `/readyz`: the database, the queue, the blob store and the
sandbox work.

The sandbox is checked only where this process judges (the embedded default's judge
processes). With REDIS_URL the workers judge, on hosts of their own: the API's image has no
bubblewrap (deploy/Dockerfile.api), so there `sandbox` says it is not checked, the queue
check (Redis answers) is what judging needs of the API, and `workers` reports the fleet's
live workers and their languages, for information only: no live worker (a pool scaled to
zero, all restarting) must not take every API instance out of the load balancer; jobs wait
in the queue, and the fleet page, its alert and the backlog metrics say so."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from codebattle.judge import selftest
from codebattle.judge.queue import JobQueue
from codebattle.services import services_of

router = APIRouter(tags=["health"])
SANDBOX_CHECK_TTL = 60.0  # the self-test runs real sandboxes; do not repeat it every probe
_sandbox_cache: dict[str, Any] = {}
MOCK_SANDBOX = "mock (preview: verdicts by the rule in docs/operations.md, no code is run)"
WORKERS_SANDBOX = "not checked here: judged by the workers (see workers)"


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


async def _sandbox_check() -> tuple[bool, str]:
    cached = _sandbox_cache.get("result")
    if cached is not None and time.monotonic() - _sandbox_cache["at"] < SANDBOX_CHECK_TTL:
        return cached  # type: ignore[no-any-return]
    checks = await asyncio.to_thread(selftest.run_checks)
    failed = [c for c in checks if c.status == "fail"]
    result = (not failed, "; ".join(f"{c.name}: {c.detail}" for c in failed) or "ok")
    _sandbox_cache.update(result=result, at=time.monotonic())
    return result


async def _workers_check(queue: JobQueue) -> str:
    """The live judge workers and their languages (information: never makes it unready)."""
    try:
        fleet = await asyncio.wait_for(queue.fleet(), timeout=5)
    except Exception as exc:  # the queue check above says whether Redis answers
        return f"unknown: {type(exc).__name__}"
    alive = [worker for worker in fleet if worker.alive]
    if not alive:
        return "none alive: jobs wait in the queue until a worker comes"
    languages = sorted({language for worker in alive for language in worker.languages})
    return f"{len(alive)} alive ({', '.join(languages)})"


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    services = services_of(request)
    checks: dict[str, str] = {}
    ready = True
    probes = (
        ("database", services.db.ping),
        ("queue", services.queue.ping),
        # A bucket's check: one quick try on the store's own threads, one at a time, kept
        # a few seconds (storage.S3BlobStore.acheck); the wait below does not stop a thread.
        ("blobs", services.blobs.acheck),
    )
    for name, probe in probes:
        try:
            await asyncio.wait_for(probe(), timeout=5)
            checks[name] = "ok"
        except Exception as exc:  # reported, not raised: this is what the probe is for
            ready = False
            checks[name] = f"failed: {type(exc).__name__}"
    if services.settings.preview:  # judge/mock.py runs nothing: no sandbox to check
        checks["sandbox"] = MOCK_SANDBOX
    elif services.settings.REDIS_URL:
        checks["sandbox"] = WORKERS_SANDBOX
        checks["workers"] = await _workers_check(services.queue)
    else:
        ok, detail = await _sandbox_check()
        ready = ready and ok
        checks["sandbox"] = detail
    return JSONResponse(
        {
            "status": "ready" if ready else "not ready",
            "checks": checks,
            # The log seam's writer: records written, dropped (full queue, tries run out) and
            # waiting. For operators' eyes; a sink that drops does not make the API unready.
            "log_sink": services.logsink.counters(),
        },
        status_code=200 if ready else 503,
    )
