"""The dashboard's words, in English and Korean: what each decision on a flag does (on the
form and on the confirm step), the flag queue's order, a game's mode and a voided game in
the players' history, the audit log's actions, values, users and times (web/audit_text.py);
the favicon, and a banned player's navigation."""

from __future__ import annotations

import html
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.ext.asyncio import AsyncSession

from codebattle.accounts import audit
from codebattle.accounts.models import User
from codebattle.battles.models import MatchRow
from codebattle.services import Services
from codebattle.web import audit_text
from tests.web.test_ops_pages import _seed, become, run, site  # noqa: F401 (the fixture)


def text_of(page: Any) -> str:
    return html.unescape(page.text)


@pytest.mark.parametrize(
    ("lang", "void_words", "mode", "voided"),
    [("en", "The game is voided", "Ranked", "(voided)"),
     ("ko", "게임이 무효 처리되고", "랭크", "(무효 처리됨)")],
)  # fmt: skip
def test_the_decision_form_says_what_each_choice_does(
    site: TestClient,  # noqa: F811
    lang: str,
    void_words: str,
    mode: str,
    voided: str,
) -> None:
    ids = run(site, _seed)
    site.cookies.set("lang", lang)
    become(site, "opal")
    page = text_of(site.get(f"/ops/flags/{ids['flag']}"))
    for decision in ("dismiss", "warn", "void", "suspend", "ban"):
        assert f'id="decision-{decision}-effect"' in page
    suspend = page.split('id="decision-suspend-effect">')[1].split("<")[0]
    ban = page.split('id="decision-ban-effect">')[1].split("<")[0]
    assert void_words in suspend and void_words in ban
    assert f" · {mode} (" in page and "· ranked" not in page

    async def void(session: AsyncSession, _: Services) -> None:
        match = await session.get(MatchRow, ids["match"])
        assert match is not None
        match.rating_state = "voided"
        await session.commit()

    run(site, void)
    page = text_of(site.get(f"/ops/flags/{ids['flag']}"))
    assert f"{mode} {voided}" in page
    assert page.count(voided) == 2  # both players' history lists the game


@pytest.mark.parametrize(
    ("lang", "expected", "effect"),
    [("en", "Flag #{id} about pat", "no ranked play"),
     ("ko", "플래그 #{id}({name} 님): 결정을 저장할까요?", "랭크 게임과 보상이 제한됩니다")],
)  # fmt: skip
def test_the_confirm_texts(
    site: TestClient,  # noqa: F811
    lang: str,
    expected: str,
    effect: str,
) -> None:
    ids = run(site, _seed)
    site.cookies.set("lang", lang)
    token = become(site, "opal")
    page = text_of(site.get(f"/ops/flags/{ids['flag']}"))
    if lang == "ko":  # no particle after a number
        assert expected.format(id=ids["flag"], name="pat") in page
        assert f"#{ids['flag']}를" not in page
    step = site.post(
        f"/ops/flags/{ids['flag']}/decision",
        data={"csrf_token": token, "decision": "suspend", "days": "7", "reason": "copied"},
    )
    assert step.status_code == 200
    assert effect in text_of(step)
    if lang == "en":
        assert expected.format(id=ids["flag"]) in text_of(step)


@pytest.mark.parametrize(
    ("lang", "intro"),
    [("en", "High before review; the oldest first"), ("ko", "높음 단계가 검토 단계보다 먼저")],
)
def test_the_queue_says_its_order(site: TestClient, lang: str, intro: str) -> None:  # noqa: F811
    run(site, _seed)
    site.cookies.set("lang", lang)
    become(site, "opal")
    page = text_of(site.get("/ops/flags"))
    assert intro in page and "Newest first" not in page and "최신순입니다" not in page


async def _entries(session: AsyncSession, _: Services, ids: dict[str, int]) -> None:
    """Entries as the app writes them: an old assignment (a user id), a new one (a label),
    a plan change with a UTC end, a decision, a decided appeal, a filed one."""
    opal, pat = ids["opal"], ids["pat"]
    audit.record(session, opal, "opal", "appeal_assign", pat, None, str(opal), "",
                 target="appeal:1")  # fmt: skip
    audit.record(session, opal, "opal", "appeal_assign", pat, str(opal),
                 await audit.user_label(session, ids["adam"]), "", target="appeal:1")  # fmt: skip
    audit.record(session, opal, "opal", "plan", pat, "free", "basic until 2027-01-06 16:52 UTC",
                 "goodwill")  # fmt: skip
    audit.record(session, opal, "opal", "flag_decision", pat, "open", "suspend", "x",
                 target="flag:1")  # fmt: skip
    audit.record(session, opal, "opal", "appeal_decide", pat, "open", "denied", "y",
                 target="appeal:2")  # fmt: skip
    audit.record(session, pat, "pat", "appeal_filed", pat, None, "decision", "flag:1",
                 target="appeal:2")  # fmt: skip
    audit.record(session, opal, "opal", "mystery_thing", pat, "zig", "zag", "z")
    await session.commit()


@pytest.mark.parametrize(
    ("lang", "words"),
    [("en", ["– → opal", "opal → adam", "Free → Basic until 2027-01-07 01:52 KST",
             "Open → Suspend", "Flag decided", "Open → Denied", "– → A decision",
             "zig → zag", "mystery_thing"]),
     ("ko", ["– → opal", "opal → adam", "무료 → Basic (2027-01-07 01:52 KST까지)",
             "대기 중 → 이용 정지", "플래그 결정", "대기 중 → 기각", "이의 신청 접수",
             "– → 운영자 결정", "zig → zag", "mystery_thing"])],
)  # fmt: skip
def test_the_audit_log_in_words(
    site: TestClient,  # noqa: F811
    lang: str,
    words: list[str],
) -> None:
    ids = run(site, _seed)
    run(site, _entries, ids)
    site.cookies.set("lang", lang)
    become(site, "opal")
    for path in ("/ops/audit", f"/ops/users/{ids['pat']}"):
        page = text_of(site.get(path))
        for word in words:
            assert word in page, (path, word)
        assert "UTC" not in page.split('id="audit-entries"')[1]
        assert 'href="/ops/audit?action=flag_decision"' in page  # the raw id still filters


def test_user_ids_include_the_users_an_assignment_names() -> None:
    from codebattle.accounts.models import AuditEntry

    old = AuditEntry(actor_id=1, action="appeal_assign", subject_user_id=2, old=None, new="3")
    new = AuditEntry(actor_id=1, action="appeal_assign", subject_user_id=2, old="3",
                     new="bo (#44)")  # fmt: skip
    plan = AuditEntry(actor_id=1, action="plan", subject_user_id=2, old="5", new="basic")
    assert audit_text.user_ids([old, new, plan]) == {1, 2, 3, 44}
    assert audit_text.value_text("appeal_assign", "bo (#44)", "en", UTC, {}) == "bo"
    assert audit_text.value_text("appeal_assign", "9", "en", UTC, {}) == "#9"
    assert audit_text.value_text("plan", "pro", "ko", UTC, {}) == "Pro"


def test_favicon_and_a_banned_players_navigation(site: TestClient) -> None:  # noqa: F811
    ids = run(site, _seed)
    become(site, "pat")
    page = site.get("/settings")
    assert '<link rel="icon" href="/static/favicon.svg"' in page.text
    assert 'id="nav-play"' in page.text and 'id="nav-rooms"' in page.text
    icon = site.get("/static/favicon.svg")
    assert icon.status_code == 200 and "<svg" in icon.text

    async def ban(session: AsyncSession, _: Services) -> None:
        user = await session.get(User, ids["pat"])
        assert user is not None
        user.banned_at = datetime.now(UTC)
        await session.commit()

    run(site, ban)
    become(site, "pat")
    page = site.get("/settings")
    assert page.status_code == 200
    assert 'id="nav-play"' not in page.text and 'id="nav-rooms"' not in page.text
    assert 'id="nav-notifications"' in page.text and 'href="/settings"' in page.text
