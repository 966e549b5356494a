"""The first sign-in through the pages: /welcome after a provider's callback, the nickname
checked, the terms, the birth year asked only when the provider gave no age, the invite
code in the alpha, and where each person lands."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from codebattle.accounts import invites
from codebattle.accounts.models import Identity, InviteCode, User
from codebattle.db.session import Database
from codebattle.i18n import translate
from codebattle.judge.engine import Judge
from tests.support.site import sign_in
from tests.support.welcome import Clients, begin_signup, finish_signup

YEAR = datetime.now(ZoneInfo("Asia/Seoul")).year
MakeClient = Callable[..., TestClient]


@pytest.fixture
def make_client(
    tmp_path: Path, sqlite_url: str, judge: Judge, judge_root: Path
) -> Iterator[MakeClient]:
    clients = Clients(tmp_path, sqlite_url, judge, judge_root)
    yield clients
    clients.close()


def users(sqlite_url: str) -> list[User]:
    async def read() -> list[User]:
        db = Database(sqlite_url)
        try:
            async with db.session() as session:
                return list(await session.scalars(select(User).order_by(User.id)))
        finally:
            await db.dispose()

    return asyncio.run(read())


def identities(sqlite_url: str) -> list[Identity]:
    async def read() -> list[Identity]:
        db = Database(sqlite_url)
        try:
            async with db.session() as session:
                return list(await session.scalars(select(Identity).order_by(Identity.id)))
        finally:
            await db.dispose()

    return asyncio.run(read())


def test_welcome_prefills_the_nickname_and_asks_the_birth_year_only_without_an_age(
    make_client: MakeClient,
) -> None:
    client = make_client()
    begin_signup(client, display_name="Min Su")
    page = client.get("/welcome")
    assert page.status_code == 200
    assert 'value="MinSu"' in page.text  # the provider's name, spaces dropped
    assert 'name="birth_year"' in page.text
    assert 'href="/terms"' in page.text and 'href="/privacy"' in page.text
    assert 'name="invite_code"' not in page.text  # not an invite-only alpha

    begin_signup(client, subject="k-2", display_name="admin", age_band="adult")
    page = client.get("/welcome")
    assert 'name="birth_year"' not in page.text  # the provider told the age
    assert 'value="admin"' not in page.text  # a reserved name is not suggested


def test_without_a_pending_sign_in_welcome_sends_to_sign_in(make_client: MakeClient) -> None:
    client = make_client()
    reply = client.get("/welcome", follow_redirects=False)
    assert reply.status_code == 303 and reply.headers["location"] == "/signin"


def test_a_taken_nickname_rerenders_with_the_values_kept_then_a_free_one_signs_in(
    make_client: MakeClient, sqlite_url: str
) -> None:
    client = make_client()
    other = make_client()
    sign_in(other, "Taken")  # a nickname user (development sign-in)

    begin_signup(client, next="/rooms")
    reply = finish_signup(client, "taken", birth_year=YEAR - 30)  # case-insensitively equal
    assert reply.status_code == 409
    assert 'id="welcome-error"' in reply.text
    assert translate("nickname_taken", "ko") in reply.text
    assert 'value="taken"' in reply.text and f'value="{YEAR - 30}" selected' in reply.text
    assert "checked" in reply.text  # the agreement kept

    reply = finish_signup(client, "새싹_coder", birth_year=YEAR - 30)
    assert reply.status_code == 303 and reply.headers["location"] == "/rooms"
    me = client.get("/api/me")
    assert me.status_code == 200 and me.json()["nickname"] == "새싹_coder"
    assert client.get("/welcome", follow_redirects=False).headers["location"] == "/problems"

    user = next(u for u in users(sqlite_url) if u.nickname == "새싹_coder")
    assert user.onboarded_at is not None and user.terms_accepted_at is not None
    assert user.email == "kid@example.com" and user.email_verified
    assert user.birth_year == YEAR - 30 and user.age_band == "adult"
    assert [(i.provider, i.subject) for i in identities(sqlite_url) if i.user_id == user.id] == [
        ("kakao", "kakao-1")
    ]


def test_the_terms_must_be_accepted_and_bad_input_is_a_clear_4xx(make_client: MakeClient) -> None:
    client = make_client()
    begin_signup(client)
    reply = finish_signup(client, "newcomer", agree=False, birth_year=YEAR - 20)
    assert reply.status_code == 422 and 'id="welcome-error"' in reply.text
    reply = finish_signup(client, "newcomer", birth_year="abc")
    assert reply.status_code == 422
    reply = finish_signup(client, "newcomer", birth_year=YEAR + 1)
    assert reply.status_code == 422
    # str.isdigit() takes these, int() does not (or reads them as a year): all a clear 422.
    for odd in ("²", "١٢", "١٩٩٠", "  ", "-5", "99999", "9" * 5000):
        reply = finish_signup(client, "newcomer", birth_year=odd)
        assert reply.status_code == 422 and 'id="welcome-error"' in reply.text, odd
    for reserved in ("Admin", "운영자", "deleted-abc", "codebattle"):
        reply = finish_signup(client, reserved, birth_year=YEAR - 20)
        assert reply.status_code == 422, reserved
    reply = finish_signup(client, "x", birth_year=YEAR - 20)
    assert reply.status_code == 422
    # The CSRF token is checked.
    reply = client.post("/welcome", data={"nickname": "newcomer", "agree": "on"})
    assert reply.status_code == 403


def test_an_unverified_email_is_not_kept(make_client: MakeClient, sqlite_url: str) -> None:
    client = make_client()
    begin_signup(client, email="maybe@example.com", email_verified=False, age_band="adult")
    assert finish_signup(client, "unverified").status_code == 303
    user = next(u for u in users(sqlite_url) if u.nickname == "unverified")
    assert user.email is None and not user.email_verified
    assert all(i.email is None for i in identities(sqlite_url) if i.user_id == user.id)


def test_the_same_identity_cannot_sign_up_twice(make_client: MakeClient) -> None:
    first, second = make_client(), make_client()
    begin_signup(first, subject="dup", age_band="adult")
    begin_signup(second, subject="dup", age_band="adult")
    assert finish_signup(first, "first_one").status_code == 303
    reply = finish_signup(second, "second_one")
    assert reply.status_code == 409 and 'id="welcome-error"' in reply.text


def test_invite_only_needs_a_code_and_a_used_up_code_is_refused(
    make_client: MakeClient, sqlite_url: str
) -> None:
    client = make_client(ALPHA_INVITE_ONLY=True)

    async def create() -> str:
        db = Database(sqlite_url)
        try:
            async with db.session() as session:
                invite = await invites.create(session, uses=1)
                await session.commit()
                return invite.code
        finally:
            await db.dispose()

    code = asyncio.run(create())
    begin_signup(client, age_band="adult")
    page = client.get("/welcome")
    assert 'name="invite_code"' in page.text
    assert finish_signup(client, "invited").status_code == 422  # no code
    assert finish_signup(client, "invited", invite_code="NOPE").status_code == 422
    reply = finish_signup(client, "invited", invite_code=code.lower())  # typed in lower case
    assert reply.status_code == 303

    late = make_client(ALPHA_INVITE_ONLY=True)
    begin_signup(late, subject="kakao-late", age_band="adult")
    reply = finish_signup(late, "too_late", invite_code=code)
    assert reply.status_code == 422 and 'id="welcome-error"' in reply.text
    user = next(u for u in users(sqlite_url) if u.nickname == "invited")
    assert user.invite_code == code

    async def uses() -> int:
        db = Database(sqlite_url)
        try:
            async with db.session() as session:
                invite = await session.get(InviteCode, code)
                assert invite is not None
                return invite.uses
        finally:
            await db.dispose()

    assert asyncio.run(uses()) == 1


def test_under_14_lands_on_the_guardian_page_and_is_restricted(
    make_client: MakeClient,
) -> None:
    client = make_client()
    begin_signup(client, birth_year=YEAR - 12, next="/play")
    reply = finish_signup(client, "little_one")
    assert reply.status_code == 303 and reply.headers["location"] == "/welcome/guardian"
    refused = client.get("/api/me")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "guardian_consent_required"
    page = client.get("/play", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/welcome/guardian"
    assert client.get("/welcome/guardian").status_code == 200
    assert client.get("/settings/export").status_code == 200
