"""Under 14: before a guardian consents the account may only sign in, see its settings,
export or delete itself and ask for consent; the request is mailed with a signed link, the
consent recorded with its time and address; expired and tampered links get a clear page."""

from __future__ import annotations

import asyncio
import email
import re
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import itsdangerous.timed
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from starlette.websockets import WebSocketDisconnect

from codebattle.accounts import profiles
from codebattle.accounts.models import GuardianConsent, User
from codebattle.db.session import Database
from codebattle.errors import UserError
from codebattle.i18n import translate
from codebattle.judge.engine import Judge
from tests.support.factories import make_user
from tests.support.welcome import Clients, begin_signup, finish_signup, form_csrf, profile

YEAR = datetime.now(ZoneInfo("Asia/Seoul")).year
SECRET = "test-secret-key"


@pytest.fixture
def clients(tmp_path: Path, sqlite_url: str, judge: Judge, judge_root: Path) -> Iterator[Clients]:
    made = Clients(tmp_path, sqlite_url, judge, judge_root)
    yield made
    made.close()


def child_pending() -> profiles.Pending:
    data = profile(subject="child", birth_year=YEAR - 10)
    found = profiles.Pending.of({"via": "kakao", "profile": data})
    assert found is not None
    return found


async def make_child(db: Database) -> User:
    async with db.session() as session:
        return await profiles.finish_signup(
            session, child_pending(), "child", None, True, None, "ko"
        )


async def test_consent_through_a_signed_link_is_recorded(db: Database) -> None:
    child = await make_child(db)
    assert profiles.restriction(child) == "guardian_consent_required"
    async with db.session() as session:
        with pytest.raises(UserError) as refused:
            await profiles.request_consent(session, child, "not-an-email", SECRET)
        assert refused.value.key == "email_invalid"
        with pytest.raises(UserError) as refused:
            await profiles.request_consent(session, child, "KID@example.com", SECRET)
        assert refused.value.key == "guardian_email_own"
        consent, token = await profiles.request_consent(session, child, "mom@example.com", SECRET)
    assert consent.requested_at is not None and consent.consented_at is None

    async with db.session() as session:
        found = await profiles.consent_of(session, token, SECRET, 7)
        assert found.user.nickname == "child" and found.consent.id == consent.id
    async with db.session() as session:
        await profiles.give_consent(session, token, SECRET, 7, "203.0.113.9")
    async with db.session() as session:
        await profiles.give_consent(session, token, SECRET, 7, "198.51.100.1")  # again: no change
    async with db.session() as session:
        stored = await session.get(GuardianConsent, consent.id)
        user = await session.get(User, child.id)
        assert stored is not None and user is not None
        assert stored.consented_at is not None and stored.consent_ip == "203.0.113.9"
        assert user.guardian_consent_at is not None and profiles.restriction(user) is None
        with pytest.raises(UserError) as refused:
            await profiles.request_consent(session, user, "dad@example.com", SECRET)
        assert refused.value.key == "guardian_consent_given"


async def test_the_child_signed_in_cannot_give_the_consent(db: Database) -> None:
    child = await make_child(db)
    async with db.session() as session:
        other = await make_user(session, "a_parent")  # a guardian with an account may
        consent, token = await profiles.request_consent(session, child, "mom@example.com", SECRET)
    async with db.session() as session:
        with pytest.raises(UserError) as refused:
            await profiles.give_consent(session, token, SECRET, 7, "203.0.113.9", child)
        assert refused.value.key == "consent_by_self" and refused.value.status == 403
    async with db.session() as session:
        stored = await session.get(GuardianConsent, consent.id)
        assert stored is not None and stored.consented_at is None
    async with db.session() as session:
        await profiles.give_consent(session, token, SECRET, 7, "203.0.113.9", other)
    async with db.session() as session:
        user = await session.get(User, child.id)
        assert user is not None and user.guardian_consent_at is not None


async def test_tampered_expired_and_foreign_links_are_refused(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    child = await make_child(db)
    async with db.session() as session:
        consent, token = await profiles.request_consent(session, child, "mom@example.com", SECRET)
    with monkeypatch.context() as patched:  # a link made eight days ago
        eight_days_ago = time.time() - 8 * 24 * 3600
        patched.setattr(itsdangerous.timed.time, "time", lambda: eight_days_ago)
        old = profiles.consent_serializer(SECRET).dumps({"c": consent.id, "u": child.id})
    tampered = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    unknown = profiles.consent_serializer(SECRET).dumps({"c": 999, "u": child.id})
    cases = [
        (tampered, SECRET, "consent_link_invalid"),
        (token, "another-secret", "consent_link_invalid"),
        (old, SECRET, "consent_link_expired"),
        (unknown, SECRET, "consent_link_unknown"),
    ]
    for link, secret, key in cases:
        async with db.session() as session:
            with pytest.raises(UserError) as refused:
                await profiles.give_consent(session, link, secret, 7, "203.0.113.9")
            assert refused.value.key == key
    async with db.session() as session:
        user = await session.get(User, child.id)
        assert user is not None and user.guardian_consent_at is None


async def test_older_users_need_no_consent(db: Database) -> None:
    async with db.session() as session:
        user = await make_user(session, "grown_up")
        with pytest.raises(UserError) as refused:
            await profiles.request_consent(session, user, "mom@example.com", SECRET)
    assert refused.value.key == "guardian_consent_not_needed"


def consent_link(mail_dir: Path) -> str:
    mails = sorted(mail_dir.glob("*.eml"))
    assert mails, "no mail written"
    message = email.message_from_bytes(mails[-1].read_bytes())
    body = message.get_payload(decode=True)
    assert isinstance(body, bytes)
    text = body.decode("utf-8")
    assert "child" in text and "개인정보 보호법" in text and "PIPA" in text
    found = re.search(r"http://127\.0\.0\.1:8000(/consent/\S+)", text)
    assert found is not None
    return found.group(1)


def socket_close_code(client: TestClient) -> int | None:
    try:
        with client.websocket_connect("/ws/submissions/1") as ws:
            ws.receive_json()
    except WebSocketDisconnect as closed:
        return closed.code
    return None


def test_a_child_asks_a_guardian_who_consents_through_the_mailed_link(
    clients: Clients, tmp_path: Path, sqlite_url: str
) -> None:
    child = clients()
    begin_signup(child, birth_year=YEAR - 11)
    assert finish_signup(child, "kid_coder").headers["location"] == "/welcome/guardian"
    assert socket_close_code(child) == 4401  # no game, no room, no submission socket

    # Restricted: nothing beyond the account pages.
    assert child.get("/api/me").status_code == 403
    page = child.get("/welcome/guardian")
    refused = child.post(
        "/api/submissions",
        json={"problem": "hello-battle", "language": "python", "code": "print(1)\n"},
        headers={"x-csrf-token": form_csrf(page.text)},
    )
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "guardian_consent_required"
    assert child.get("/settings/export").status_code == 200
    assert page.status_code == 200 and 'id="guardian-form"' in page.text

    sent = child.post(
        "/welcome/guardian",
        data={"csrf_token": form_csrf(page.text), "guardian_email": "parent@example.com"},
    )
    assert sent.status_code == 200 and 'id="guardian-sent"' in sent.text
    assert "parent@example.com" in sent.text
    link = consent_link(tmp_path / "var" / "mail")

    # The child opening the link in their own signed-in browser cannot consent for themself.
    own = child.get(link)
    assert own.status_code == 403 and 'id="consent-error"' in own.text
    assert 'id="consent-form"' not in own.text
    assert translate("consent_by_self", "ko") in own.text  # the site's default language
    self_consent = child.post(link, data={"csrf_token": form_csrf(page.text)})
    assert self_consent.status_code == 403 and 'id="consent-error"' in self_consent.text
    assert child.get("/api/me").status_code == 403  # still restricted

    guardian = clients()  # another browser, not signed in
    shown = guardian.get(link)
    assert shown.status_code == 200 and "kid_coder" in shown.text
    for locale in ("ko", "en"):  # the guardian may read either
        assert translate("consent_what_play", locale) in shown.text
    assert 'id="consent-form"' in shown.text
    done = guardian.post(link, data={"csrf_token": form_csrf(shown.text)})
    assert done.status_code == 200 and 'id="consent-done"' in done.text

    async def stored() -> tuple[User, GuardianConsent]:
        db = Database(sqlite_url)
        try:
            async with db.session() as session:
                user = await session.scalar(select(User).where(User.nickname == "kid_coder"))
                assert user is not None
                consent = await session.scalar(
                    select(GuardianConsent).where(GuardianConsent.user_id == user.id)
                )
                assert consent is not None
                return user, consent
        finally:
            await db.dispose()

    user, consent = asyncio.run(stored())
    assert user.guardian_consent_at is not None
    assert consent.guardian_email == "parent@example.com"
    assert consent.consented_at is not None and consent.consent_ip == "testclient"

    assert child.get("/api/me").status_code == 200
    assert socket_close_code(child) == 4404  # admitted; submission 1 is not the child's
    page = child.get("/welcome/guardian")
    assert 'id="guardian-done"' in page.text


def test_a_child_who_turns_14_is_no_longer_restricted(clients: Clients, sqlite_url: str) -> None:
    child = clients()
    begin_signup(child, subject="kid-14", birth_year=YEAR - 14)  # 13 this year, counted young
    assert finish_signup(child, "nearly_14").headers["location"] == "/welcome/guardian"
    assert child.get("/api/me").status_code == 403

    async def a_year_passes() -> None:  # as if signed up last year: same stored band
        db = Database(sqlite_url)
        try:
            async with db.session() as session:
                user = await session.scalar(select(User).where(User.nickname == "nearly_14"))
                assert user is not None and user.age_band == "under14"
                user.birth_year = YEAR - 15
                await session.commit()
        finally:
            await db.dispose()

    asyncio.run(a_year_passes())
    assert child.get("/api/me").status_code == 200
    page = child.get("/welcome/guardian")
    assert 'id="guardian-form"' not in page.text
    assert translate("age_band_under19", "ko") in page.text  # the band shown is today's


def test_bad_links_get_a_clear_page_and_requests_are_rate_limited(clients: Clients) -> None:
    visitor = clients()
    for link, status in (("/consent/nonsense", 400), ("/consent/" + "x" * 40 + ".y.z", 400)):
        page = visitor.get(link)
        assert page.status_code == status and 'id="consent-error"' in page.text

    child = clients()
    begin_signup(child, subject="kid-2", birth_year=YEAR - 9)
    finish_signup(child, "little")
    token = form_csrf(child.get("/welcome/guardian").text)
    bad = child.post("/welcome/guardian", data={"csrf_token": token, "guardian_email": "nope"})
    assert bad.status_code == 422 and 'id="guardian-error"' in bad.text
    assert 'value="nope"' in bad.text  # the value kept
    codes = [
        child.post(
            "/welcome/guardian",
            data={"csrf_token": token, "guardian_email": f"p{n}@example.com"},
        ).status_code
        for n in range(4)
    ]
    assert codes == [200, 200, 200, 429]
    no_csrf = child.post("/welcome/guardian", data={"guardian_email": "p@example.com"})
    assert no_csrf.status_code == 403
