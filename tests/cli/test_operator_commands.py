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
