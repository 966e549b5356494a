"""The review without a model (no key): the plan gate, who may ask for what, idempotency,
and the offline review of a really judged submission (lint findings found by ruff in the
sandbox, per-test results, the reference timed on the largest tests) with no secret data."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from codebattle.accounts.models import User
from codebattle.config import Settings
from codebattle.judge.loader import load_package
from codebattle.reviews.models import CodeReview
from tests.reviews.support import (
    PY_ACCEPTED,
    SECRET_FEEDBACK,
    plant_secret_feedback,
    plant_secret_times,
    player,
    review_rows,
    run_db,
    secret_test_names,
    submit,
    wait_review,
)
from tests.support.hosts import PROBLEMS
from tests.support.site import import_problems, settings_for


@pytest.fixture
def app_settings(tmp_path: Path, sqlite_url: str) -> Settings:
    settings = settings_for(
        tmp_path, DATABASE_URL=sqlite_url.replace("+aiosqlite", ""), BASIC_REVIEW_ENABLED=False
    )
    import_problems(settings, "hello-battle")
    return settings


def test_free_is_refused_with_the_plan_and_the_upgrade_link(
    client: TestClient, app_settings: Settings
) -> None:
    headers = player(client, app_settings, "freeplayer", "free")
    done = submit(client, headers)
    asked = client.post(f"/api/submissions/{done['id']}/review", headers=headers)
    assert asked.status_code == 403, asked.text
    error = asked.json()["error"]
    assert error["code"] == "review_plan_free"
    assert "Pro" in error["message"] and "free" in error["message"]
    page = client.get(f"/submissions/{done['id']}/review")
    assert page.status_code == 200
    assert 'id="review-upgrade"' in page.text and 'href="/pricing"' in page.text
    assert "Your plan: Free" in page.text
    assert 'id="review-request"' not in page.text
    assert review_rows(app_settings, done["id"]) == 0


def test_basic_follows_the_setting(client: TestClient, app_settings: Settings) -> None:
    headers = player(client, app_settings, "basicplayer", "basic")
    done = submit(client, headers)
    asked = client.post(f"/api/submissions/{done['id']}/review", headers=headers)
    assert asked.status_code == 403
    assert asked.json()["error"]["code"] == "review_plan_basic_off"
    assert "Basic does not have it now." in client.get(f"/submissions/{done['id']}/review").text


def test_pro_gets_an_offline_review_from_real_analysis(
    client: TestClient, app_settings: Settings
) -> None:
    headers = player(client, app_settings, "proplayer", "pro")
    done = submit(client, headers)
    assert done["verdict"] == "AC"
    plant_secret_feedback(app_settings, done["id"])
    page = client.get(f"/submissions/{done['id']}/review")
    assert 'id="review-request"' in page.text and 'id="review-link"' not in page.text
    assert 'id="review-link"' in client.get(f"/submissions/{done['id']}").text

    asked = client.post(f"/api/submissions/{done['id']}/review", headers=headers)
    assert asked.status_code in (200, 202), asked.text
    review = wait_review(client, done["id"])
    assert review["status"] == "ready" and review["source"] == "offline"
    body = review["body"]
    # ruff ran in the sandbox and found the unused variable.
    assert body["lint"]["tool"] == "ruff" and body["lint"]["available"] is True
    assert any(f["code"] == "F841" and f["line"] == 5 for f in body["lint"]["findings"])
    assert any("F841" in s for s in body["sections"]["style"])
    # The judge's per-test results, and the reference timed on the largest tests.
    assert len(body["tests"]) == done["tests_total"]
    assert body["sections"]["correctness"][0] == f"All {done['tests_total']} tests passed."
    figures = body["complexity"]
    assert len(figures["tests"]) == 3 and figures["reference_language"] == "python"
    assert all(row["player"] is not None and row["reference"] is not None
               for row in figures["tests"])  # fmt: skip
    assert any("reference" in s for s in body["sections"]["complexity"])
    # Secret tests: verdict, time and memory only; nothing of their data.
    text = json.dumps(review)
    assert SECRET_FEEDBACK not in text
    for name in ("13-random-1", "19-mid-1"):
        secret_in = (PROBLEMS / "hello-battle" / "data" / "secret" / f"{name}.in").read_text()
        assert secret_in.strip() not in text
    secret = [t for t in body["tests"] if not t["sample"]]
    assert secret and all(set(t) <= {"index", "name", "verdict", "time", "memory", "sample",
                                      "score"} for t in secret)  # fmt: skip
    # The page shows it, in Korean too.
    page = client.get(f"/submissions/{done['id']}/review")
    assert "Line 5:" in page.text and 'id="review-timing"' in page.text
    assert SECRET_FEEDBACK not in page.text
    # The timing table names tests as players see them, never by the package's file names.
    assert all(re.fullmatch(r"secret/\d+", row["name"]) for row in figures["tests"]), figures
    for name in secret_test_names():
        assert name not in text and name not in page.text
    client.cookies.set("lang", "ko")
    assert "AI 코드 리뷰" in client.get(f"/submissions/{done['id']}/review").text


def test_growth_is_computed_from_the_stored_rows(
    client: TestClient, app_settings: Settings
) -> None:
    """The stored rows carry hidden names (`secret/3`): they are matched to the package's
    tests by position. Times planted proportional to input size give n^1."""
    headers = player(client, app_settings, "grower", "pro")
    done = submit(client, headers)
    package = load_package(PROBLEMS / "hello-battle")
    plant_secret_times(
        app_settings, done["id"], lambda index: 0.01 * package.tests[index].input.stat().st_size
    )
    client.post(f"/api/submissions/{done['id']}/review", headers=headers)
    body = wait_review(client, done["id"])["body"]
    assert body["complexity"]["growth"] == 1.0, body["complexity"]
    assert any("n^1.0" in s for s in body["sections"]["complexity"]), body["sections"]


def test_one_review_per_submission(client: TestClient, app_settings: Settings) -> None:
    headers = player(client, app_settings, "twice", "pro")
    done = submit(client, headers)
    first = client.post(f"/api/submissions/{done['id']}/review", headers=headers).json()
    second = client.post(f"/api/submissions/{done['id']}/review", headers=headers).json()
    assert first["id"] == second["id"]
    ready = wait_review(client, done["id"])
    third = client.post(f"/api/submissions/{done['id']}/review", headers=headers)
    assert third.status_code == 200 and third.json() == ready
    assert review_rows(app_settings, done["id"]) == 1


def test_only_an_owners_accepted_full_submission(
    client: TestClient, app_settings: Settings
) -> None:
    headers = player(client, app_settings, "owner", "pro")
    wrong = submit(client, headers, code=PY_ACCEPTED.replace("a + b", "a - b"))
    assert wrong["verdict"] == "WA"
    refused = client.post(f"/api/submissions/{wrong['id']}/review", headers=headers)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "review_not_accepted"
    samples = submit(client, headers, kind="samples")
    refused = client.post(f"/api/submissions/{samples['id']}/review", headers=headers)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "review_not_submit"
    mine = submit(client, headers)
    # Someone else: as if it did not exist.
    other = player(client, app_settings, "stranger", "pro")
    assert client.post(f"/api/submissions/{mine['id']}/review", headers=other).status_code == 404
    assert client.get(f"/api/submissions/{mine['id']}/review").status_code == 404
    # Without the CSRF header a session's write is refused.
    assert client.post(f"/api/submissions/{mine['id']}/review").status_code in (401, 403)


def test_cpp_lint_finds_a_wextra_warning(client: TestClient, app_settings: Settings) -> None:
    headers = player(client, app_settings, "cppplayer", "pro")
    code = (PROBLEMS / "hello-battle" / "submissions" / "accepted" / "sum.cpp").read_text()
    # -Wunused-parameter is one of -Wextra's (not -Wall's).
    code = code.replace(
        "int main() {",
        "static int twice(int x, int unused_flag) { return 2 * x; }\n\nint main() {",
        1,
    )
    assert "unused_flag" in code
    done = submit(client, headers, code=code, language="cpp")
    assert done["verdict"] == "AC", done
    client.post(f"/api/submissions/{done['id']}/review", headers=headers)
    body = wait_review(client, done["id"])["body"]
    assert body["lint"]["tool"] == "g++ -Wall -Wextra"
    assert any(
        f["code"] == "-Wunused-parameter" and f["line"] == 3 for f in body["lint"]["findings"]
    ), body["lint"]
    assert body["complexity"]["reference_language"] == "cpp"


def test_a_pending_review_left_by_a_stopped_server_is_made_again(
    client: TestClient, app_settings: Settings
) -> None:
    headers = player(client, app_settings, "patient", "pro")
    done = submit(client, headers)

    async def orphan(session: Any) -> None:
        user_id = (
            await session.execute(select(User.id).where(User.nickname == "patient"))
        ).scalar()
        session.add(
            CodeReview(
                submission_id=done["id"], user_id=user_id, source="offline", status="pending",
                body={"started_at": (datetime.now(UTC) - timedelta(minutes=11)).isoformat()},
                created_at=datetime.now(UTC) - timedelta(minutes=12),
            )
        )  # fmt: skip

    run_db(app_settings, orphan)
    assert wait_review(client, done["id"])["status"] == "ready"
    assert review_rows(app_settings, done["id"]) == 1


def test_consent_takes_only_the_real_values(client: TestClient, app_settings: Settings) -> None:
    """`consent` is JSON true/false (not "yes", 1, "on"); the page's form sends yes, no or
    nothing, and anything else is refused rather than read as no answer."""
    headers = player(client, app_settings, "loose", "pro")
    done = submit(client, headers)
    for loose in ("yes", 1, "on", "true", 0):
        asked = client.post(
            f"/api/submissions/{done['id']}/review", json={"consent": loose}, headers=headers
        )
        assert asked.status_code == 422, (loose, asked.text)
    page = client.get(f"/submissions/{done['id']}/review").text
    csrf = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    posted = client.post(
        f"/submissions/{done['id']}/review",
        data={"csrf_token": csrf, "consent": "maybe"},
        follow_redirects=False,
    )
    assert posted.status_code == 422
    assert review_rows(app_settings, done["id"]) == 0

    async def consent(session: Any) -> Any:
        return await session.scalar(select(User.review_consent).where(User.nickname == "loose"))

    assert run_db(app_settings, consent) is None


def test_the_arenas_link_without_a_submission(client: TestClient, app_settings: Settings) -> None:
    player(client, app_settings, "spectating", "pro")
    missing = client.get("/matches/999/review", follow_redirects=False)
    assert missing.status_code == 404
