"""`codebattle problems import` and `codebattle users token`, as operators run them."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from codebattle.accounts import service as accounts
from codebattle.cli import app
from codebattle.db.session import Database
from tests.support.hosts import PROBLEMS


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    return tmp_path


def test_import_reports_created_unchanged_and_precise_errors(env: Path) -> None:
    broken = env / "broken-one"
    shutil.copytree(PROBLEMS / "hello-battle", broken)
    (broken / "problem.yaml").write_text("name: [unclosed\n")
    runner = CliRunner()
    first = runner.invoke(app, ["problems", "import", str(PROBLEMS / "hello-battle"), str(broken)])
    assert first.exit_code == 1
    assert "hello-battle: created (version 1)" in first.output
    assert "broken-one: error: problem.yaml" in first.output
    assert "Traceback" not in first.output
    again = runner.invoke(app, ["problems", "import", str(PROBLEMS / "hello-battle")])
    assert again.exit_code == 0 and "hello-battle: unchanged (version 1)" in again.output


def test_users_token_creates_the_user_once(env: Path) -> None:
    runner = CliRunner()
    first = runner.invoke(app, ["users", "token", "operator"])
    second = runner.invoke(app, ["users", "token", "operator", "--name", "script"])
    assert first.exit_code == second.exit_code == 0
    tokens = [first.output.strip(), second.output.strip()]
    assert all(t.startswith("cb_") for t in tokens) and tokens[0] != tokens[1]

    async def owners() -> set[int]:
        db = Database(f"sqlite+aiosqlite:///{env / 'var' / 'codebattle.db'}")
        try:
            async with db.session() as session:
                users = [await accounts.user_by_token(session, t) for t in tokens]
        finally:
            await db.dispose()
        return {u.id for u in users if u is not None}

    assert len(asyncio.run(owners())) == 1
    bad = runner.invoke(app, ["users", "token", "no spaces allowed"])
    assert bad.exit_code == 2 and "nickname" in bad.output.lower()


def test_outbox_status_and_resend(env: Path) -> None:
    """`codebattle outbox resend` makes the unfinished jobs due (the relays send them);
    `status` says how many wait and how many the queue holds."""
    from datetime import UTC, datetime, timedelta

    from codebattle.storage import LocalBlobStore
    from codebattle.submissions import outbox
    from tests.support.factories import make_problem_version, make_submission, make_user

    runner = CliRunner()
    assert runner.invoke(app, ["migrate"]).exit_code == 0
    url = f"sqlite+aiosqlite:///{env / 'var' / 'codebattle.db'}"

    async def queued_and_sent() -> None:
        db = Database(url)
        blobs = LocalBlobStore(env / "var" / "blobs")
        try:
            async with db.session() as session:
                await make_problem_version(session, blobs)
                user = await make_user(session)
                for _ in range(3):
                    made = await make_submission(session, blobs, user)
                    outbox.add(session, made.id, datetime.now(UTC))
                await session.commit()
                later = datetime(2100, 1, 1, tzinfo=UTC)  # every entry is due by then
                claimed = await outbox.claim(session, later)
                leased = later + timedelta(seconds=outbox.LEASE_SECONDS)
                await outbox.sent(session, claimed[:2], leased)  # the queue took two
        finally:
            await db.dispose()

    asyncio.run(queued_and_sent())
    status = runner.invoke(app, ["outbox", "status"])
    assert status.exit_code == 0
    assert "due to be sent: 1" in status.output
    assert "sent, waiting for the verdict: 2 (the oldest saved 20" in status.output
    resend = runner.invoke(app, ["outbox", "resend"])
    assert resend.exit_code == 0 and "jobs due again: 3" in resend.output
