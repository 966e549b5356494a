"""The plan and today's games where a player sees them: /api/me, /api/queue, the lobby (the
game buttons disabled with the message and the link to /pricing when none is left; Korean
and English) and the settings page; vs-AI over the limit is a 429 with the message."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from codebattle.accounts.models import User
from codebattle.battles import fsm
from codebattle.battles.models import MatchRow
from codebattle.config import Settings
from codebattle.db.session import Database
from tests.support.site import import_problems, settings_for, sign_in


def _cancel_games(settings: Settings) -> None:
    """End every unfinished game (so only the day's limit stands in the way)."""

    async def run() -> None:
        db = Database(settings.database_url)
        try:
            async with db.session() as session:
                await session.execute(
                    update(MatchRow)
                    .where(MatchRow.state.in_(fsm.UNDECIDED))
                    .values(state=fsm.State.cancelled)
                )
                await session.commit()
        finally:
            await db.dispose()

    asyncio.run(run())


@pytest.fixture
def app_settings(tmp_path: Path, sqlite_url: str) -> Settings:
    settings = settings_for(
        tmp_path, DATABASE_URL=sqlite_url.replace("+aiosqlite", ""), FREE_MATCH_LIMIT=1,
        MOCK_GPT5=True,
    )  # fmt: skip
    import_problems(settings, "hello-battle")
    return settings


def _button(html: str, button_id: str) -> str:
    found = re.search(rf'<button[^>]*id="{button_id}"[^>]*>', html)
    assert found is not None, button_id
    return found.group(0)


def test_games_left_everywhere_and_the_limit_reached(
    client: TestClient, app_settings: Settings
) -> None:
    csrf = sign_in(client, "limited")
    client.cookies.set("lang", "en")
    headers = {"X-CSRF-Token": csrf}
    me = client.get("/api/me").json()
    assert (me["plan"], me["games_left"], me["games_limit"]) == ("free", 1, 1)
    assert client.get("/api/queue").json() == {
        "state": "idle", "plan": "free", "games_left": 1, "games_limit": 1,
    }  # fmt: skip
    lobby = client.get("/play").text
    assert "Games left today: 1 of 1" in lobby
    assert "disabled" not in _button(lobby, "play-ai")

    started = client.post("/api/matches/ai", json={"level": "easy"}, headers=headers)
    assert started.status_code == 201, started.text
    assert client.get("/api/me").json()["games_left"] == 0
    _cancel_games(app_settings)
    again = client.post("/api/matches/ai", json={"level": "easy"}, headers=headers)
    assert again.status_code == 429, again.text
    error = again.json()["error"]
    assert error["code"] == "daily_games_used"
    assert "1 of today's games" in error["message"] and "Pro has no daily limit" in error["message"]
    lobby = client.get("/play").text
    assert "Games left today: 0 of 1" in lobby
    for button in ("ranked", "play-ai"):
        assert "disabled" in _button(lobby, button)
    out = re.search(r'<p class="notice warn" id="games-out"[^>]*>(.*?)</p>', lobby, re.S)
    assert out is not None and " hidden" not in out.group(0).split(">")[0]
    assert "Basic gives" in out.group(1) and 'href="/pricing"' in out.group(1)

    joined = client.post("/api/queue", headers=headers)
    assert joined.status_code == 429 and joined.json()["error"]["code"] == "daily_games_used"

    client.cookies.set("lang", "ko")
    lobby = client.get("/play").text
    assert "오늘 남은 게임: 1판 중 0판" in lobby and "요금제 보기" in lobby


def test_the_settings_page_shows_the_plan_and_games_left(client: TestClient) -> None:
    sign_in(client, "settingsplan")
    client.cookies.set("lang", "en")
    page = client.get("/settings").text
    section = re.search(r'<section class="card" id="plan".*?</section>', page, re.S)
    assert section is not None
    assert "Free" in section.group(0) and 'href="/pricing"' in section.group(0)
    assert '<p id="plan-games-left">Games left today: 1 of 1</p>' in section.group(0)


def _set_plan(settings: Settings, nickname: str, plan: str, ends_at: datetime) -> None:
    async def run() -> None:
        db = Database(settings.database_url)
        try:
            async with db.session() as session:
                await session.execute(
                    update(User)
                    .where(User.nickname == nickname)
                    .values(plan=plan, plan_ends_at=ends_at, plan_auto_renew=True)
                )
                await session.commit()
        finally:
            await db.dispose()

    asyncio.run(run())


def _plan_section(client: TestClient) -> str:
    section = re.search(
        r'<section class="card" id="plan".*?</section>', client.get("/settings").text, re.S
    )
    assert section is not None
    return section.group(0)


def test_the_settings_page_shows_the_plan_that_holds_now(
    client: TestClient, app_settings: Settings
) -> None:
    sign_in(client, "expiring")
    client.cookies.set("lang", "en")
    ends = datetime.now(UTC) + timedelta(days=3)
    _set_plan(app_settings, "expiring", "pro", ends)
    section = _plan_section(client)
    assert re.search(r'<strong id="plan-name">Pro</strong>', section)
    # The date as the page shows it: in the plans' time zone (Asia/Seoul), not UTC.
    shown = ends.astimezone(app_settings.plan_zone).strftime("%Y-%m-%d")
    assert shown in section and 'id="plan-until"' in section
    assert 'id="plan-cancel"' in section
    # Ended a minute ago, not yet moved to Free by the expiry run: the page says Free, with
    # no "until" a past date, no renewal and nothing to cancel.
    past = datetime.now(UTC) - timedelta(minutes=1)
    _set_plan(app_settings, "expiring", "pro", past)
    section = _plan_section(client)
    assert re.search(r'<strong id="plan-name">Free</strong>', section)
    for absent in ('id="plan-until"', 'id="plan-renewal"', 'id="plan-cancel"', "Pro"):
        assert absent not in section, absent
    assert '<p id="plan-games-left">Games left today: 1 of 1</p>' in section
