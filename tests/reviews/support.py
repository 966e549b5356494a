"""What the review tests share: a player on a plan with an accepted practice submission,
and waiting for a review to be ready."""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from codebattle.accounts.models import User
from codebattle.config import Settings
from codebattle.db.session import Database
from codebattle.reviews.models import CodeReview
from codebattle.submissions.models import SubmissionTest
from tests.support.hosts import PROBLEMS
from tests.support.site import sign_in, wait_done

# An accepted Python solution of hello-battle with an unused variable (ruff's F841).
PY_ACCEPTED = (
    "import sys\n\n\ndef main():\n    unused_total = 0\n"
    "    a, b = map(int, sys.stdin.read().split())\n    print(a + b)\n\n\nmain()\n"
)
SECRET_FEEDBACK = "SECRET-FEEDBACK-7f3a9c"


def run_db(settings: Settings, work: Any) -> Any:
    async def run() -> Any:
        db = Database(settings.database_url)
        try:
            async with db.session() as session:
                result = await work(session)
                await session.commit()
                return result
        finally:
            await db.dispose()

    return asyncio.run(run())


def set_user(settings: Settings, nickname: str, **values: Any) -> None:
    async def work(session: Any) -> None:
        await session.execute(update(User).where(User.nickname == nickname).values(**values))

    run_db(settings, work)


def review_rows(settings: Settings, submission_id: int) -> int:
    async def work(session: Any) -> int:
        return int(
            await session.scalar(
                select(func.count())
                .select_from(CodeReview)
                .where(CodeReview.submission_id == submission_id)
            )
        )

    return int(run_db(settings, work))


def plant_secret_feedback(settings: Settings, submission_id: int) -> None:
    """Give a secret test stored feedback (as a custom validator's would be): the review
    must never carry it."""

    async def work(session: Any) -> None:
        await session.execute(
            update(SubmissionTest)
            .where(SubmissionTest.submission_id == submission_id, SubmissionTest.sample.is_(False))
            .values(feedback=SECRET_FEEDBACK)
        )

    run_db(settings, work)


def player(
    client: TestClient, settings: Settings, nickname: str, plan: str, **values: Any
) -> dict[str, str]:
    """Sign in as `nickname` on `plan`; the headers of a JSON write."""
    csrf = sign_in(client, nickname)
    client.cookies.set("lang", "en")
    set_user(settings, nickname, plan=plan, **values)
    return {"X-CSRF-Token": csrf}


def submit(
    client: TestClient, headers: dict[str, str], code: str = PY_ACCEPTED,
    language: str = "python", kind: str = "submit",
) -> dict[str, Any]:  # fmt: skip
    made = client.post(
        "/api/submissions",
        json={"problem": "hello-battle", "language": language, "code": code, "kind": kind},
        headers=headers,
    )
    assert made.status_code == 201, made.text
    return wait_done(client, made.json()["id"])


def wait_review(client: TestClient, submission_id: int, timeout: float = 90.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = client.get(f"/api/submissions/{submission_id}/review")
        assert got.status_code in (200, 202), got.text
        data: dict[str, Any] = got.json()
        if data["status"] not in ("pending", "none"):
            return data
        time.sleep(0.3)
    raise AssertionError("review not ready in time")


def secret_test_names(slug: str = "hello-battle") -> list[str]:
    """The package's own names of its secret tests (`01-max-max`...): they say what a test
    holds, so no review may show them (judge/disclosure.py)."""
    return sorted(p.stem for p in (PROBLEMS / slug / "data" / "secret").glob("*.in"))


def plant_secret_times(settings: Settings, submission_id: int, time_of: Any) -> None:
    """Set each stored secret row's recorded time to `time_of(index)` (the rows as the judge
    stored them: names players see, `secret/3`)."""

    async def work(session: Any) -> None:
        rows = (
            await session.scalars(
                select(SubmissionTest).where(
                    SubmissionTest.submission_id == submission_id,
                    SubmissionTest.sample.is_(False),
                )
            )
        ).all()
        assert rows and all(re.fullmatch(r"secret/\d+", row.name) for row in rows)
        for row in rows:
            row.time = time_of(row.index)

    run_db(settings, work)
