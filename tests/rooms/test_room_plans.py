"""A room's size is capped by its host's plan: FREE_ROOM_LIMIT (10), BASIC_ROOM_LIMIT (50),
PRO_ROOM_LIMIT (1000). The refusal names the limit and the plan that allows more; the
creation form shows the host's maximum."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from codebattle.accounts import plans
from codebattle.accounts.models import User
from codebattle.config import Settings
from codebattle.db.session import Database
from tests.support.site import sign_in


def _set_plan(settings: Settings, nickname: str, plan: str) -> None:
    async def run() -> None:
        db = Database(settings.database_url)
        try:
            async with db.session() as session:
                user_id = await session.scalar(select(User.id).where(User.nickname == nickname))
                assert user_id is not None
                await plans.change_plan(
                    session, user_id, plan, ends_at=None, source="grant", now=datetime.now(UTC)
                )
                await session.commit()
        finally:
            await db.dispose()

    asyncio.run(run())


def _create(client: TestClient, csrf: str, **body: Any) -> Any:
    base: dict[str, Any] = {"title": "Class", "problems": ["hello-battle"]}
    return client.post("/api/rooms", json={**base, **body}, headers={"X-CSRF-Token": csrf})


def test_a_free_host_cannot_open_an_eleven_seat_room(client: TestClient) -> None:
    csrf = sign_in(client, "freehost")
    client.cookies.set("lang", "en")
    refused = _create(client, csrf, size_limit=11)
    assert refused.status_code == 422, refused.text
    error = refused.json()["error"]
    assert error["code"] == "room_size_plan"
    assert "10" in error["message"] and "Basic" in error["message"] and "50" in error["message"]
    assert _create(client, csrf, size_limit=10).status_code == 201
    # No size given: the plan's largest (under the usual 50).
    assert _create(client, csrf).json()["size_limit"] == 10
    # Over even Pro's limit: no plan allows it.
    beyond = _create(client, csrf, size_limit=1001)
    assert beyond.json()["error"]["code"] == "room_size_invalid"
    page = client.get("/rooms")
    assert 'id="room-size"' in page.text and 'max="10"' in page.text
    assert 'href="/pricing"' in page.text


def test_basic_and_pro_hosts_open_larger_rooms(client: TestClient, app_settings: Settings) -> None:
    csrf = sign_in(client, "prohost")
    client.cookies.set("lang", "en")
    _set_plan(app_settings, "prohost", "basic")
    assert _create(client, csrf, size_limit=50).status_code == 201
    over = _create(client, csrf, size_limit=51)
    assert over.json()["error"]["code"] == "room_size_plan"
    assert "Pro" in over.json()["error"]["message"] and "1000" in over.json()["error"]["message"]
    assert _create(client, csrf).json()["size_limit"] == 50
    _set_plan(app_settings, "prohost", "pro")
    made = _create(client, csrf, size_limit=1000)
    assert made.status_code == 201, made.text
    assert made.json()["size_limit"] == 1000
    assert _create(client, csrf, size_limit=1001).json()["error"]["code"] == "room_size_invalid"
    assert 'max="1000"' in client.get("/rooms").text
