"""`codebattle points verify / show`, as an operator runs them: verify is quiet and exits 0
on a sound ledger, names a stale cached balance and exits 1, and `--fix` rewrites the cache
from the entries; show gives a user's balance, debt and latest lines."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from typer.testing import CliRunner

from codebattle.accounts.models import User
from codebattle.cli import app
from codebattle.db.session import Database
from codebattle.progress import points
from codebattle.progress.models import PointAccount


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    return tmp_path


def _run(env: Path, work: Callable[[AsyncSession], Awaitable[None]]) -> None:
    async def go() -> None:
        db = Database(f"sqlite+aiosqlite:///{env / 'var' / 'codebattle.db'}")
        try:
            async with db.session() as session:
                await work(session)
                await session.commit()
        finally:
            await db.dispose()

    asyncio.run(go())


def test_verify_and_show(env: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["users", "token", "Hana"]).exit_code == 0

    async def earn(session: AsyncSession) -> None:
        user = await session.scalar(select(User).where(User.nickname == "Hana"))
        assert user is not None
        await points.earn(session, user.id, key="cli:1", reason="win", points=50)

    _run(env, earn)
    sound = runner.invoke(app, ["points", "verify"])
    assert sound.exit_code == 0, sound.output
    assert "0 problem(s)" in sound.output

    shown = runner.invoke(app, ["points", "show", "hana"])
    assert shown.exit_code == 0, shown.output
    assert "balance 50, debt 0" in shown.output and "win" in shown.output and "+50" in shown.output
    assert runner.invoke(app, ["points", "show", "nobody"]).exit_code != 0

    async def tamper(session: AsyncSession) -> None:
        await session.execute(
            update(PointAccount).where(PointAccount.kind == "user").values(balance=70)
        )

    _run(env, tamper)
    stale = runner.invoke(app, ["points", "verify"])
    assert stale.exit_code == 1
    assert "cached 70, entries 50" in stale.output
    fixed = runner.invoke(app, ["points", "verify", "--fix"])
    assert "(cached balances fixed)" in fixed.output
    assert runner.invoke(app, ["points", "verify"]).exit_code == 0
