"""A browser that leaves while its form is still being read (starlette's ClientDisconnect)
is not an error of ours: no 500 page, no traceback in the log, one info line."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.requests import ClientDisconnect, Request


async def _handled(client: TestClient, exc: Exception) -> Any:
    handler = client.app.exception_handlers[Exception]  # type: ignore[attr-defined]
    scope = {"type": "http", "method": "POST", "path": "/ops/rewards/3/decision",
             "headers": [], "query_string": b"", "app": client.app}  # fmt: skip
    return await handler(Request(scope), exc)


async def test_a_client_that_left_is_logged_as_info(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    reply = await _handled(client, ClientDisconnect())
    assert reply.status_code == 400
    assert "unhandled error" not in caplog.text
