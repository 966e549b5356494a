"""`codebattle plans grant / show / expire`, as an operator runs them: a grant is in the
plan history (source "grant") and the audit log with its reason; show gives the plan as it
holds now, its dates, today's games and the history."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner

from codebattle.accounts.models import AuditEntry, PlanChange, User
from codebattle.cli import app
from codebattle.db.session import Database


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("FREE_MATCH_LIMIT", "3")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    return tmp_path


def _db(env: Path) -> Database:
    return Database(f"sqlite+aiosqlite:///{env / 'var' / 'codebattle.db'}")


def test_grant_is_recorded_and_audited_and_show_tells_it(env: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["users", "token", "Hana"]).exit_code == 0
    shown = runner.invoke(app, ["plans", "show", "hana"])
    assert shown.exit_code == 0, shown.output
    assert "Hana: free" in shown.output and "games left today" in shown.output
    assert "3 of 3" in shown.output and "none" in shown.output

    granted = runner.invoke(
        app, ["plans", "grant", "Hana", "pro", "--days", "7", "--reason", "contest winner"]
    )
    assert granted.exit_code == 0, granted.output
    assert "Hana: free → pro until " in granted.output

    async def rows() -> tuple[User, list[PlanChange], list[AuditEntry]]:
        db = _db(env)
        try:
            async with db.session() as session:
                user = await session.scalar(select(User).where(User.nickname == "Hana"))
                assert user is not None
                changes = list(await session.scalars(select(PlanChange)))
                entries = list(await session.scalars(select(AuditEntry)))
                return user, changes, entries
        finally:
            await db.dispose()

    user, changes, entries = asyncio.run(rows())
    assert user.plan == "pro" and user.plan_source == "grant"
    assert user.plan_ends_at is not None
    assert timedelta(days=6, hours=23) < user.plan_ends_at - datetime.now(UTC) <= timedelta(days=7)
    assert [(c.old_plan, c.plan, c.source) for c in changes] == [("free", "pro", "grant")]
    assert [(e.actor_label, e.action, e.subject_user_id, e.old, e.reason) for e in entries] == [
        ("cli", "plan", user.id, "free", "contest winner")
    ]
    assert entries[0].new is not None and entries[0].new.startswith("pro until ")

    shown = runner.invoke(app, ["plans", "show", "Hana"])
    assert shown.exit_code == 0, shown.output
    assert "Hana: pro" in shown.output and "unlimited" in shown.output
    assert "free → pro" in shown.output and "grant" in shown.output

    # Open-ended (no --days) back to free: the history grows, no end.
    back = runner.invoke(app, ["plans", "grant", "Hana", "free", "--reason", "test over"])
    assert back.exit_code == 0 and "Hana: pro → free (grant)" in back.output


def test_grant_refuses_what_it_cannot_do(env: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["users", "token", "minsu"]).exit_code == 0
    for args, message in (
        (["minsu", "gold", "--reason", "x"], "unknown plan 'gold'"),
        (["minsu", "pro", "--reason", "  "], "give a reason"),
        (["nobody", "pro", "--reason", "x"], "no user 'nobody'"),
    ):
        result = runner.invoke(app, ["plans", "grant", *args])
        assert result.exit_code == 2, (args, result.output)
        assert message in result.output and "Traceback" not in result.output
    missing = runner.invoke(app, ["plans", "grant", "minsu", "pro"])
    assert missing.exit_code != 0 and "--reason" in missing.output
    zero = runner.invoke(app, ["plans", "grant", "minsu", "pro", "--days", "0", "--reason", "x"])
    assert zero.exit_code != 0


def test_expire_writes_ended_plans_back_to_free(env: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["users", "token", "jin"]).exit_code == 0
    assert runner.invoke(app, ["plans", "grant", "jin", "basic", "--days", "3",
                               "--reason", "trial"]).exit_code == 0  # fmt: skip
    assert "0 plan(s) expired" in runner.invoke(app, ["plans", "expire"]).output

    async def end_it() -> None:
        db = _db(env)
        try:
            async with db.session() as session:
                past = datetime.now(UTC) - timedelta(minutes=1)
                await session.execute(update(User).values(plan_ends_at=past))
                await session.commit()
        finally:
            await db.dispose()

    asyncio.run(end_it())
    shown = runner.invoke(app, ["plans", "show", "jin"])
    assert "jin: free (was basic, ended)" in shown.output
    assert "1 plan(s) expired" in runner.invoke(app, ["plans", "expire"]).output
    shown = runner.invoke(app, ["plans", "show", "jin"])
    assert "jin: free\n" in shown.output and "basic → free" in shown.output
    assert "expiry" in shown.output
