"""A site in a test: settings, the starter problems imported, the session's judge behind the
app, and what a person does with it (sign in, submit and wait for the verdict)."""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from codebattle.config import Settings, load_settings
from codebattle.db.session import Database
from codebattle.judge.engine import Judge
from codebattle.judge.runner import JobRunner, PackageCache
from codebattle.problems.importer import import_package
from codebattle.storage import open_store
from tests.support.hosts import PROBLEMS


def settings_for(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "DATA_DIR": tmp_path / "var",
        "SECRET_KEY": "test-secret-key",
        "ENVIRONMENT": "test",
        "QUEUE_REDELIVERY_SECONDS": 2.0,
    }
    values.update(overrides)
    return load_settings(**values)


def import_problems(settings: Settings, *names: str) -> None:
    async def run() -> None:
        db = Database(settings.database_url)
        blobs = open_store(settings)  # the folder, or the bucket of S3_* settings
        try:
            for name in names:
                async with db.session() as session:
                    await import_package(session, blobs, PROBLEMS / name)
        finally:
            await db.dispose()

    asyncio.run(run())


def runner_factory(judge: Judge, settings: Settings, judge_root: Path) -> Any:
    """The session's judge (shared compile cache) with this app's blob storage."""

    def make() -> JobRunner:
        packages = judge_root / f"packages-{uuid.uuid4().hex[:8]}"
        return JobRunner(judge, PackageCache(open_store(settings), packages))

    return make


def sign_in(client: TestClient, nickname: str = "tester") -> str:
    """Sign in with a nickname through the form; return the page CSRF token."""
    page = client.get("/signin")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    reply = client.post(
        "/signin",
        data={"nickname": nickname, "csrf_token": token.group(1), "next": "/problems"},
        follow_redirects=False,
    )
    assert reply.status_code == 303, reply.text
    return csrf_of(client)


def csrf_of(client: TestClient) -> str:
    page = client.get("/problems")
    token = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
    assert token is not None
    return token.group(1)


def wait_done(
    client: TestClient,
    submission_id: int,
    headers: dict[str, str] | None = None,
    timeout: float = 60.0,
) -> dict[str, Any]:
    """Follow the submission's WebSocket to the end; return the final submission."""
    deadline = time.monotonic() + timeout
    with client.websocket_connect(f"/ws/submissions/{submission_id}", headers=headers or {}) as ws:
        while time.monotonic() < deadline:
            message = ws.receive_json()
            if message["type"] == "done":
                return dict(message["submission"])
            if message["type"] == "snapshot" and message["submission"]["status"] == "done":
                return dict(message["submission"])
    raise AssertionError("submission not done in time")


def run_in_app(client: TestClient, fn: Callable[..., Any], *args: Any) -> Any:
    """Run `fn(session, *args)` in the app's event loop, on its database, and commit: set
    up or read what a page test needs without going through the pages."""
    services = client.app.state.services  # type: ignore[attr-defined]

    async def go() -> Any:
        async with services.db.session() as session:
            result = await fn(session, *args)
            await session.commit()
            return result

    return client.portal.call(go)  # type: ignore[union-attr]
