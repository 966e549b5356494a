"""`codebattle users role NICK ROLE --reason` and `codebattle users audit [NICK]`: a role
change is written to the audit log with who, old → new and why; an unknown role, a missing
reason or an unknown user is a clear one-line error and changes nothing."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from typer.testing import CliRunner

from codebattle.accounts import audit
from codebattle.accounts.models import User
from codebattle.cli import app
from codebattle.db.session import Database


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    return tmp_path


def read_log(env: Path) -> list[tuple[str, str, str | None, str | None, str, str | None]]:
    async def run() -> list[tuple[str, str, str | None, str | None, str, str | None]]:
        db = Database(f"sqlite+aiosqlite:///{env / 'var' / 'codebattle.db'}")
        try:
            async with db.session() as session:
                entries = await audit.entries(session)
                rows = []
                for e in entries:
                    subject = (
                        await session.get(User, e.subject_user_id) if e.subject_user_id else None
                    )
                    rows.append(
                        (e.actor_label, e.action, e.old, e.new, e.reason, subject and subject.role)
                    )
                return rows
        finally:
            await db.dispose()

    return asyncio.run(run())


def test_a_role_change_is_audited_with_its_reason(env: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["users", "token", "helper"]).exit_code == 0
    promoted = runner.invoke(
        app, ["users", "role", "helper", "moderator", "--reason", "runs the Friday contest"]
    )
    assert promoted.exit_code == 0, promoted.output
    assert promoted.output.strip() == "helper: player → moderator"
    demoted = runner.invoke(app, ["users", "role", "helper", "player", "--reason", "stepped down"])
    assert demoted.output.strip() == "helper: moderator → player"
    assert read_log(env) == [
        ("cli", "role", "moderator", "player", "stepped down", "player"),
        ("cli", "role", "player", "moderator", "runs the Friday contest", "player"),
    ]
    shown = runner.invoke(app, ["users", "audit", "helper"])
    assert shown.exit_code == 0
    lines = shown.output.strip().splitlines()
    assert len(lines) == 2
    assert "cli  role  helper  moderator → player  stepped down" in lines[0]
    assert "player → moderator  runs the Friday contest" in lines[1]
    everyone = runner.invoke(app, ["users", "audit", "--limit", "1"])
    assert everyone.exit_code == 0 and len(everyone.output.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("arguments", "says"),
    [
        (["users", "role", "helper", "moderator"], "Give a reason for the role change"),
        (["users", "role", "helper", "moderator", "--reason", "  "], "Give a reason"),
        (["users", "role", "helper", "king", "--reason", "why not"], "Unknown role"),
        (["users", "role", "nobody", "admin", "--reason", "x"], "No such user"),
        (["users", "audit", "nobody"], "No such user"),
    ],
)
def test_bad_role_commands_are_one_line_errors_and_change_nothing(
    env: Path, arguments: list[str], says: str
) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["users", "token", "helper"]).exit_code == 0
    result = runner.invoke(app, arguments)
    assert result.exit_code == 2
    assert result.output.strip().startswith("error: ") and says in result.output
    assert len(result.output.strip().splitlines()) == 1 and "Traceback" not in result.output
    assert read_log(env) == []
    assert runner.invoke(app, ["users", "audit"]).output.strip() == "no entries"
