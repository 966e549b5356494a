"""A failure on the way out is logged with its match, never swallowed, and the rest goes on:
a player's last code snapshot that cannot be stored still lets their disconnect count; an
AI lease that cannot be released still lets the instance stop."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from structlog.testing import capture_logs

from codebattle.accounts.models import User
from codebattle.battles import ai_player, live
from codebattle.web.routes import match_socket


async def test_a_failed_last_snapshot_is_logged_and_the_disconnect_still_counts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    acted: list[tuple[int, dict[str, Any]]] = []

    async def broken_store(conn: match_socket.Connection, force: bool = False) -> None:
        raise OSError("disk full")

    async def act(services: object, match_id: int, event: dict[str, Any]) -> list[object]:
        acted.append((match_id, event))
        return []

    monkeypatch.setattr(match_socket, "_store_code", broken_store)
    monkeypatch.setattr(live, "act", act)
    conn = match_socket.Connection(
        services=object(),  # type: ignore[arg-type]
        match_id=7,
        user=User(id=3, nickname="p"),
        role="player",
    )
    with capture_logs() as logs:
        await match_socket._left(conn)
    assert acted == [(7, {"type": "disconnect", "user": 3, "socket": conn.socket_id})]
    [entry] = [e for e in logs if e["log_level"] == "error"]
    assert entry["match"] == 7 and entry["event"] == "a code snapshot was not stored"


async def test_a_failed_lease_release_is_logged_and_the_player_stops(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def forever(*_args: object) -> None:
        await asyncio.Event().wait()

    async def held(*_args: object, **_kwargs: object) -> bool:
        return True

    async def broken_release(*_args: object) -> None:
        raise ConnectionError("database gone")

    monkeypatch.setattr(ai_player, "_play", forever)
    monkeypatch.setattr(ai_player, "_hold", held)
    monkeypatch.setattr(ai_player, "release", broken_release)
    with capture_logs() as logs:
        task = asyncio.create_task(ai_player.play(object(), 9, 2, "easy", "driver"))  # type: ignore[arg-type]
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    [entry] = [e for e in logs if e["log_level"] == "warning"]
    assert entry["match"] == 9 and "not released" in entry["event"]
