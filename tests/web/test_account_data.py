"""A person's data: the JSON download, deleting the account (personal data gone, games kept
under an anonymous name, the opponent's rating untouched, every session ended), age data
kept off public pages, and the feedback form with its CLI."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from typer.testing import CliRunner

from codebattle.accounts import profiles
from codebattle.accounts.models import (
    ApiToken,
    Feedback,
    GuardianConsent,
    Identity,
    SignInSession,
    User,
)
from codebattle.cli import app as cli
from codebattle.db.session import Database
from codebattle.judge.engine import Judge
from codebattle.progress.models import PlayerRating, RatingChange
from codebattle.storage import LocalBlobStore, S3Error, content_key
from codebattle.submissions.models import Submission
from codebattle.web.routes.account_data import EXPORT_FETCHES
from tests.support.factories import make_match, make_problem_version, make_submission, make_user
from tests.support.welcome import Clients, begin_signup, finish_signup, form_csrf

T = TypeVar("T")
YEAR = datetime.now(ZoneInfo("Asia/Seoul")).year


@pytest.fixture
def clients(tmp_path: Path, sqlite_url: str, judge: Judge, judge_root: Path) -> Iterator[Clients]:
    made = Clients(tmp_path, sqlite_url, judge, judge_root)
    yield made
    made.close()


def run_db(sqlite_url: str, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    async def go() -> T:
        db = Database(sqlite_url)
        try:
            async with db.session() as session:
                return await work(session)
        finally:
            await db.dispose()

    return asyncio.run(go())


def signed_up(clients: Clients, nickname: str, birth_year: int = YEAR - 30) -> TestClient:
    client = clients()
    begin_signup(client, subject=f"sub-{nickname}", email=f"{nickname}@example.com")
    reply = finish_signup(client, nickname, birth_year=birth_year)
    assert reply.status_code == 303, reply.text
    return client


def played(sqlite_url: str, blobs_root: Path, nickname: str) -> tuple[int, int]:
    """`nickname` submitted code and lost a rated game to "rival" (+12 / -12); the match id
    and the rival's id."""

    async def work(session: AsyncSession) -> tuple[int, int]:
        blobs = LocalBlobStore(blobs_root)
        me = await session.scalar(select(User).where(User.nickname == nickname))
        assert me is not None
        rival = await make_user(session, "rival", rated_games=3)
        version = await make_problem_version(session, blobs)
        await make_submission(session, blobs, me, code="print('mine')\n")
        match = await make_match(session, version, [me, rival])
        match.state, match.winner_id = "finished", rival.id
        for user_id, before, after in ((me.id, 1000, 988), (rival.id, 1040, 1052)):
            session.add(
                RatingChange(
                    user_id=user_id, match_id=match.id, before=before, after=after,
                    mu=25.0, sigma=6.0, reason="win" if user_id == rival.id else "loss",
                )
            )  # fmt: skip
        await session.commit()
        return match.id, rival.id

    return run_db(sqlite_url, work)


def test_the_export_is_a_json_download_of_everything_kept(
    clients: Clients, sqlite_url: str, tmp_path: Path
) -> None:
    client = signed_up(clients, "exporter")
    match_id, _rival = played(sqlite_url, tmp_path / "var" / "blobs", "exporter")
    reply = client.get("/settings/export")
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("application/json")
    assert reply.headers["content-disposition"].startswith("attachment;")
    assert reply.headers["cache-control"] == "no-store"
    data = json.loads(reply.content)
    assert data["profile"]["nickname"] == "exporter"
    assert data["profile"]["email"] == "exporter@example.com"
    assert data["profile"]["birth_year"] == YEAR - 30
    assert [i["provider"] for i in data["identities"]] == ["kakao"]
    assert data["plan"]["plan"] == "free" and data["plan_changes"] == []
    [submission] = data["submissions"]
    assert submission["problem"] == "hello-battle" and submission["language"] == "python"
    assert submission["code"] == "print('mine')\n"
    [game] = data["games"]
    assert game["match_id"] == match_id and game["opponents"] == ["rival"]
    assert (game["result"], game["rating_change"]) == ("loss", -12)
    assert data["points"] == [] and data["points_note"]
    assert len(data["sessions"]) == 1 and data["sessions"][0]["this_browser"] is True

    assert clients().get("/settings/export", follow_redirects=False).status_code == 303


def test_the_export_fetches_code_together_and_a_blob_the_bucket_refuses_is_only_missing(
    clients: Clients, sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The code blobs are fetched together (EXPORT_FETCHES at most at once); one the bucket
    refuses (a set-up error, not an outage) is left out like a lost one, the rest is theirs;
    a bucket away for a moment makes the export a 503 to ask again, not one with holes."""
    client = signed_up(clients, "many")
    blobs_root = tmp_path / "var" / "blobs"
    codes = [f"print({i})\n" for i in range(12)]

    async def work(session: AsyncSession) -> None:
        blobs = LocalBlobStore(blobs_root)
        me = await session.scalar(select(User).where(User.nickname == "many"))
        assert me is not None
        await make_problem_version(session, blobs)
        for code in codes:
            await make_submission(session, blobs, me, code=code)
        await session.commit()

    run_db(sqlite_url, work)
    refused = content_key("code", codes[3].encode())
    failure = {"transient": False}
    in_flight, most = 0, 0
    real_aget = LocalBlobStore.aget

    async def aget(store: LocalBlobStore, key: str) -> bytes:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        for _ in range(3):  # a bucket's round trip: the others start meanwhile
            await asyncio.sleep(0)
        in_flight -= 1
        if key == refused:
            raise S3Error("S3 GET on bucket 'b' at http://x failed: AccessDenied", **failure)
        return await real_aget(store, key)

    monkeypatch.setattr(LocalBlobStore, "aget", aget)
    reply = client.get("/settings/export")
    assert reply.status_code == 200, reply.text
    exported = [s["code"] for s in json.loads(reply.content)["submissions"]]
    assert exported == [None if i == 3 else code for i, code in enumerate(codes)]
    assert most == EXPORT_FETCHES  # together, and no more than that at once

    failure["transient"] = True
    reply = client.get("/settings/export")
    assert reply.status_code == 503 and reply.headers["Retry-After"]


def test_age_is_on_the_settings_page_and_never_on_public_pages(clients: Clients) -> None:
    client = signed_up(clients, "private_age", birth_year=YEAR - 17)
    settings = client.get("/settings")
    assert settings.status_code == 200
    assert str(YEAR - 17) in settings.text and 'id="my-age-band"' in settings.text
    visitor = signed_up(clients, "looker")  # profiles are for signed-in users
    for reply in (visitor.get("/users/private_age"), visitor.get("/api/users/private_age")):
        assert reply.status_code == 200
        assert str(YEAR - 17) not in reply.text
        assert "under19" not in reply.text and "birth" not in reply.text.lower()
        assert "private_age@example.com" not in reply.text


def test_deleting_the_account_removes_personal_data_and_keeps_the_games(
    clients: Clients, sqlite_url: str, tmp_path: Path
) -> None:
    client = signed_up(clients, "leaver")
    other_browser = clients()
    begin_signup(other_browser, subject="sub-leaver")  # the same person, elsewhere ...
    other_browser.cookies.clear()
    for name, value in client.cookies.items():  # ... holding a copy of the session cookie
        other_browser.cookies.set(name, value)
    assert other_browser.get("/api/me").status_code == 200
    match_id, rival_id = played(sqlite_url, tmp_path / "var" / "blobs", "leaver")

    async def extras(session: AsyncSession) -> int:
        me = await session.scalar(select(User).where(User.nickname == "leaver"))
        assert me is not None
        session.add(ApiToken(user_id=me.id, name="t", token_hash="h" * 64, prefix="cb_x"))
        session.add(GuardianConsent(user_id=me.id, guardian_email="mom@example.com"))
        await session.commit()
        return me.id

    user_id = run_db(sqlite_url, extras)

    page = client.get("/settings/delete")
    assert page.status_code == 200 and 'id="delete-form"' in page.text
    csrf = form_csrf(page.text)
    wrong = client.post("/settings/delete", data={"csrf_token": csrf, "confirm_nickname": "Leaver"})
    assert wrong.status_code == 422 and 'id="delete-error"' in wrong.text
    assert client.post("/settings/delete", data={"confirm_nickname": "leaver"}).status_code == 403
    done = client.post("/settings/delete", data={"csrf_token": csrf, "confirm_nickname": "leaver"})
    assert done.status_code == 200 and 'id="delete-done"' in done.text

    assert client.get("/api/me").status_code == 401
    assert other_browser.get("/api/me").status_code == 401  # every session ended

    async def after(session: AsyncSession) -> None:
        user = await session.get(User, user_id)
        assert user is not None and user.deleted_at is not None
        assert re.fullmatch(r"deleted-[0-9a-f]{12}", user.nickname)
        assert (user.email, user.display_name, user.avatar_url) == (None, None, None)
        assert (user.birth_year, user.age_band) == (None, None)
        for model in (Identity, ApiToken, SignInSession):
            count = await session.scalar(
                select(func.count()).select_from(model).where(model.user_id == user_id)
            )
            assert count == 0, model
        consent = await session.scalar(
            select(GuardianConsent).where(GuardianConsent.user_id == user_id)
        )
        assert consent is not None and consent.guardian_email == ""
        submissions = await session.scalar(
            select(func.count()).select_from(Submission).where(Submission.user_id == user_id)
        )
        assert submissions == 1
        rival_change = await session.scalar(
            select(RatingChange).where(
                RatingChange.user_id == rival_id, RatingChange.match_id == match_id
            )
        )
        assert rival_change is not None and (rival_change.before, rival_change.after) == (
            1040,
            1052,
        )
        rating = await session.get(PlayerRating, rival_id)
        assert rating is not None and rating.display == 1040  # untouched by the deletion

    run_db(sqlite_url, after)

    # The nickname is free again, and signing up with the same provider is a new account.
    again = clients()
    begin_signup(again, subject="sub-leaver")
    assert finish_signup(again, "leaver", birth_year=YEAR - 30).status_code == 303
    assert again.get("/api/me").json()["id"] != user_id


def test_feedback_is_stored_with_its_page_and_listed_for_operators(
    clients: Clients, sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = signed_up(clients, "critic")
    home = client.get("/problems")
    assert 'id="feedback-link"' in home.text and "/feedback?page=/problems" in home.text
    page = client.get("/feedback?page=/problems")
    assert page.status_code == 200 and 'name="page" value="/problems"' in page.text
    csrf = form_csrf(page.text)
    bad = client.post(
        "/feedback", data={"csrf_token": csrf, "category": "rant", "text": "x", "page": "/"}
    )
    assert bad.status_code == 422 and 'id="feedback-error"' in bad.text
    empty = client.post("/feedback", data={"csrf_token": csrf, "category": "bug", "text": "  "})
    assert empty.status_code == 422
    long = client.post(
        "/feedback", data={"csrf_token": csrf, "category": "bug", "text": "가" * 2001}
    )
    assert long.status_code == 422 and "가" * 2001 in long.text  # the text kept to fix
    sent = client.post(
        "/feedback",
        data={
            "csrf_token": csrf,
            "category": "bug",
            "text": "Run button\nis slow",
            "page": "/problems",
        },
        follow_redirects=False,
    )
    assert sent.status_code == 303 and sent.headers["location"] == "/feedback/thanks"
    assert 'id="feedback-thanks"' in client.get("/feedback/thanks").text

    visitor = clients()  # signed out: allowed, its page from the Referer
    form = visitor.get("/feedback", headers={"referer": "http://testserver/rooms?x=1"})
    assert 'name="page" value="/rooms?x=1"' in form.text
    visitor_csrf = form_csrf(form.text)
    codes = [
        visitor.post(
            "/feedback",
            data={"csrf_token": visitor_csrf, "category": "idea", "text": f"idea {n}",
                  "page": "https://elsewhere.example/x"},
            follow_redirects=False,
        ).status_code
        for n in range(11)
    ]  # fmt: skip
    assert codes == [303] * 10 + [429]

    async def stored(session: AsyncSession) -> list[tuple[int | None, str, str, str]]:
        rows = await session.scalars(select(Feedback).order_by(Feedback.id))
        return [(f.user_id, f.category, f.text, f.page) for f in rows]

    rows = run_db(sqlite_url, stored)
    assert len(rows) == 11
    assert rows[0][1:] == ("bug", "Run button\nis slow", "/problems") and rows[0][0] is not None
    assert rows[1] == (None, "idea", "idea 0", "")  # another site's address is not kept

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", sqlite_url.replace("+aiosqlite", ""))
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("REDIS_URL", raising=False)
    listed = CliRunner().invoke(cli, ["feedback", "list", "--limit", "3"])
    assert listed.exit_code == 0, listed.output
    assert "idea 9" in listed.output and "(signed out)" in listed.output
    assert "Run button" not in listed.output  # the oldest is past the limit


def test_restricted_accounts_cannot_send_feedback(clients: Clients) -> None:
    child = clients()
    begin_signup(child, subject="kid", birth_year=YEAR - 10)
    finish_signup(child, "kid_critic")
    assert profiles.UNDER14 == "under14"
    reply = child.get("/feedback", follow_redirects=False)
    assert reply.status_code == 303 and reply.headers["location"] == "/welcome/guardian"
