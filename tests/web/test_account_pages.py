"""What the account pages show: times in the site's zone with the zone named (one filter,
web.render.local_time), and a restricted account's settings without the forms it may not
use (API tokens, linking sign-in methods), saying why."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from codebattle.i18n import translate
from codebattle.judge.engine import Judge
from codebattle.web.render import format_local
from tests.support.welcome import Clients, begin_signup, finish_signup, form_csrf

YEAR = datetime.now(ZoneInfo("Asia/Seoul")).year
SEOUL = ZoneInfo("Asia/Seoul")


@pytest.fixture
def clients(tmp_path: Path, sqlite_url: str, judge: Judge, judge_root: Path) -> Iterator[Clients]:
    made = Clients(tmp_path, sqlite_url, judge, judge_root)
    yield made
    made.close()


def test_times_are_shown_in_the_site_zone_with_its_name() -> None:
    stored = datetime(2026, 12, 7, 5, 16, 40)  # naive from the database: UTC
    assert format_local(stored, SEOUL) == "2026-12-07 14:16 KST"
    assert format_local(stored.replace(tzinfo=UTC), SEOUL) == "2026-12-07 14:16 KST"
    assert format_local(stored, ZoneInfo("UTC")) == "2026-12-07 05:16 UTC"
    # A zone without letters for its time is named by its offset.
    assert format_local(stored, ZoneInfo("Etc/GMT-9")) == "2026-12-07 14:16 UTC+9"
    assert format_local(stored, ZoneInfo("Asia/Kathmandu")) == "2026-12-07 11:01 UTC+5:45"
    assert format_local(stored, ZoneInfo("America/St_Johns")) == "2026-12-07 01:46 NST"
    # A date is the date there: 15:30 UTC on New Year's Eve is already 1 January in Seoul.
    assert format_local(datetime(2026, 12, 31, 15, 30, tzinfo=UTC), SEOUL, "date") == "2027-01-01"


def test_a_restricted_account_sees_no_token_or_linking_forms_and_zoned_times(
    clients: Clients,
) -> None:
    child = clients()
    begin_signup(child, subject="kid-times", birth_year=YEAR - 11)
    finish_signup(child, "small_coder")
    page = child.get("/welcome/guardian")
    sent = child.post(
        "/welcome/guardian",
        data={"csrf_token": form_csrf(page.text), "guardian_email": "parent@example.com"},
    )
    assert sent.status_code == 200
    requests = child.get("/welcome/guardian").text
    listed = re.search(r'<ul id="guardian-requests">(.*?)</ul>', requests, re.S)
    assert listed is not None
    assert re.search(r"<time datetime=\"[^\"]+\">\d{4}-\d\d-\d\d \d\d:\d\d KST</time>", listed[1])
    assert " UTC" not in listed[1]

    settings = child.get("/settings")
    assert settings.status_code == 200
    assert settings.headers["cache-control"] == "no-store"
    text = settings.text
    assert 'id="token-form"' not in text
    assert 'id="tokens-restricted"' in text and 'id="identities-restricted"' in text
    assert translate("settings_restricted_note", "ko") in text
    assert not re.search(r'id="(un)?link-\w+"', text)
    sessions = re.findall(r"<time datetime=\"[^\"]+\">([^<]+)</time>", text)
    assert sessions and all(shown.endswith(" KST") for shown in sessions)
    # The forms' routes still refuse, as before.
    token = child.post(
        "/settings/tokens",
        data={"csrf_token": form_csrf(text), "name": "x"},
        follow_redirects=False,
    )
    assert (token.status_code, token.headers.get("location")) == (303, "/welcome/guardian")
