"""problem.yaml `languages` on the site: the menus (practice, duel arena) offer only the
languages a problem accepts, and a submission or run in another is refused with a clear
4xx before judging, over the API, in a match too. Versions imported before PyPy existed
still offer it with starter code."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from codebattle.app import create_app
from codebattle.config import Settings
from codebattle.db.session import Database
from codebattle.judge import languages
from codebattle.judge.engine import Judge
from codebattle.models import Problem, User
from codebattle.problems.importer import import_package
from codebattle.services import Services
from codebattle.storage import LocalBlobStore
from tests.support.factories import make_match
from tests.support.packages import make_package
from tests.support.site import runner_factory, sign_in, wait_done

SLUG = "pair-sum"
SUM_PY = "a, b = map(int, input().split())\nprint(a + b)\n"
SAMPLES = {"sample/1": ("1 2\n", "3\n"), "secret/1": ("10 20\n", "30\n")}


def in_db(settings: Settings, work: Callable[[AsyncSession], Awaitable[Any]]) -> Any:
    async def run() -> Any:
        db = Database(settings.database_url)
        try:
            async with db.session() as session:
                return await work(session)
        finally:
            await db.dispose()

    return asyncio.run(run())


@pytest.fixture
def site(
    app_settings: Settings, judge: Judge, judge_root: Path, tmp_path: Path
) -> Iterator[tuple[TestClient, Settings]]:
    """The test site with one more problem, accepting only C++ and PyPy."""
    package = make_package(
        tmp_path / "packages",
        SLUG,
        yaml_data={
            "problem_format_version": "2025-09",
            "uuid": "7d0c5e1a-3b2f-4c6a-8e9d-1f2a3b4c5d6e",
            "languages": ["cpp", "pypy3"],
        },
        cases=SAMPLES,
        files={"statement/problem.en.md": "# Pair sum\n\nPrint a + b.\n"},
    )
    blobs = LocalBlobStore(app_settings.DATA_DIR / "blobs")
    in_db(app_settings, lambda session: import_package(session, blobs, package))
    services = Services.from_settings(app_settings, runner_factory(judge, app_settings, judge_root))
    with TestClient(create_app(app_settings, services), base_url="http://testserver") as client:
        yield client, app_settings


def submit(client: TestClient, csrf: str, **body: object) -> tuple[int, dict[str, Any]]:
    reply = client.post("/api/submissions", json=body, headers={"X-CSRF-Token": csrf})
    return reply.status_code, reply.json()


def menu(page: str) -> list[str]:
    """The language ids of the page's language menu."""
    select_html = page.split('<select id="language">', 1)[1].split("</select>", 1)[0]
    return re.findall(r'<option value="([^"]+)"', select_html)


def page_data(page: str) -> dict[str, Any]:
    found = re.search(r'<script type="application/json" id="page-data">(.*?)</script>', page, re.S)
    assert found is not None
    return dict(json.loads(found.group(1)))


def test_practice_offers_and_accepts_only_the_problems_languages(
    site: tuple[TestClient, Settings],
) -> None:
    client, _settings = site
    csrf = sign_in(client)
    detail = client.get(f"/api/problems/{SLUG}").json()
    assert detail["languages"] == ["cpp", "pypy"] and set(detail["templates"]) == {"cpp", "pypy"}
    page = client.get(f"/problems/{SLUG}").text
    assert menu(page) == ["cpp", "pypy"]
    assert set(page_data(page)["templates"]) == {"cpp", "pypy"}

    # Python is refused for a submission, a run of the examples and a custom run alike.
    client.cookies.set("lang", "en")
    for kind in ("submit", "samples", "custom"):
        status, reply = submit(
            client, csrf, problem=SLUG, language="python", code=SUM_PY, kind=kind, input="1 2\n"
        )
        assert status == 422, reply
        assert reply["error"]["message"] == (
            "This problem does not accept Python 3. Choose one of: C++17 (g++), PyPy 3."
        )
    client.cookies.set("lang", "ko")
    status, reply = submit(client, csrf, problem=SLUG, language="python", code=SUM_PY)
    assert status == 422
    assert reply["error"]["message"].startswith("이 문제는 Python 3(으)로 제출할 수 없습니다.")
    assert "PyPy 3" in reply["error"]["message"]
    # An unknown language is still "unknown", not "not allowed".
    status, reply = submit(client, csrf, problem=SLUG, language="cobol", code=SUM_PY)
    assert status == 422 and "cobol" in reply["error"]["message"]
    # Nothing refused was saved.
    assert client.get(f"/api/submissions?problem={SLUG}").json() == []

    status, created = submit(client, csrf, problem=SLUG, language="pypy", code=SUM_PY)
    assert status == 201, created
    assert wait_done(client, int(created["id"]))["verdict"] == "AC"
    # A problem without `languages` takes every language, Python included.
    status, created = submit(client, csrf, problem="hello-battle", language="python", code=SUM_PY)
    assert status == 201, created


def test_a_version_imported_before_pypy_offers_pypy_with_starter_code(
    site: tuple[TestClient, Settings],
) -> None:
    client, settings = site
    sign_in(client)

    async def forget_pypy(session: AsyncSession) -> None:
        problem = await session.scalar(select(Problem).where(Problem.slug == "hello-battle"))
        assert problem is not None and problem.current_version is not None
        version = problem.current_version
        version.templates = {k: v for k, v in version.templates.items() if k != "pypy"}
        await session.commit()

    in_db(settings, forget_pypy)
    detail = client.get("/api/problems/hello-battle").json()
    assert detail["languages"] == list(languages.LANGUAGES)
    assert detail["templates"]["pypy"] == detail["templates"]["python"]
    page = client.get("/problems/hello-battle").text
    assert menu(page) == list(languages.LANGUAGES)
    assert page_data(page)["templates"]["pypy"].strip()


def test_a_duel_on_a_restricted_problem_offers_its_languages_to_both_players(
    site: tuple[TestClient, Settings],
) -> None:
    """Matchmaking does not look at the players' languages: each player gets the menu of
    what the problem accepts, and another language is refused in the match too."""
    client, settings = site
    sign_in(client, "alice")
    csrf = sign_in(client, "bob")  # bob plays below

    async def start(session: AsyncSession) -> int:
        players = list(
            await session.scalars(select(User).where(User.nickname.in_(["alice", "bob"])))
        )
        problem = await session.scalar(select(Problem).where(Problem.slug == SLUG))
        assert problem is not None and problem.current_version is not None and len(players) == 2
        row = await make_match(session, problem.current_version, players, now=time.time() - 60)
        await session.commit()
        return row.id

    match_id = in_db(settings, start)
    page = client.get(f"/matches/{match_id}").text
    assert menu(page) == ["cpp", "pypy"]
    assert set(page_data(page)["templates"]) == {"cpp", "pypy"}
    status, reply = submit(
        client, csrf, problem=SLUG, language="python", code=SUM_PY, match=match_id
    )
    assert status == 422 and reply["error"]["code"] == "language_not_allowed", reply
    status, reply = submit(client, csrf, problem=SLUG, language="pypy", code=SUM_PY, match=match_id)
    assert status == 201, reply


def test_a_room_on_a_restricted_problem_offers_and_accepts_only_its_languages(
    site: tuple[TestClient, Settings],
) -> None:
    client, _settings = site
    csrf = sign_in(client, "host")
    headers = {"X-CSRF-Token": csrf}
    body = {"title": "Class", "problems": [SLUG], "public": True}
    room = client.post("/api/rooms", json=body, headers=headers)
    assert room.status_code == 201, room.text
    room_id = room.json()["id"]
    started = client.post(f"/api/rooms/{room_id}/start", headers=headers)
    assert started.status_code == 200, started.text
    csrf = sign_in(client, "member")
    joined = client.post(
        f"/api/rooms/{room_id}/join",
        json={"code": room.json()["code"]},
        headers={"X-CSRF-Token": csrf},
    )
    assert joined.status_code == 200, joined.text
    page = client.get(f"/problems/{SLUG}?room={room_id}").text
    assert menu(page) == ["cpp", "pypy"] and page_data(page)["room"]
    status, reply = submit(client, csrf, problem=SLUG, language="java", code="x", room=room_id)
    assert status == 422 and reply["error"]["code"] == "language_not_allowed", reply
    status, reply = submit(client, csrf, problem=SLUG, language="pypy", code=SUM_PY, room=room_id)
    assert status == 201, reply
