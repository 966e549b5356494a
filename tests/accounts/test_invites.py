"""Alpha invites: codes with a use limit and an expiry, redeemed in the first sign-in's
transaction; two people never share the last use (PostgreSQL, concurrent); the CLI."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from codebattle.accounts import audit, invites, profiles
from codebattle.accounts.models import InviteCode, User
from codebattle.cli import app
from codebattle.db.session import Database
from codebattle.errors import UserError
from tests.support.welcome import profile


def pending(subject: str) -> profiles.Pending:
    data = profile(subject=subject, age_band="adult")
    found = profiles.Pending.of({"via": "github", "profile": data})
    assert found is not None
    return found


async def new_code(db: Database, uses: int, days: float | None = None) -> str:
    async with db.session() as session:
        invite = await invites.create(session, uses=uses, days=days, note="for tests")
        await session.commit()
        return invite.code


async def uses_of(db: Database, code: str) -> int:
    async with db.session() as session:
        invite = await session.get(InviteCode, code)
        assert invite is not None
        return invite.uses


async def test_a_code_is_used_up_after_its_uses(db: Database) -> None:
    code = await new_code(db, uses=2)
    assert len(code) == invites.CODE_LENGTH and set(code) <= set(invites.ALPHABET)
    for _ in range(2):
        async with db.session() as session:
            assert await invites.redeem(session, f" {code[:5].lower()}-{code[5:]} ") == code
            await session.commit()
    async with db.session() as session:
        with pytest.raises(UserError) as refused:
            await invites.redeem(session, code)
    assert refused.value.key == "invite_invalid"
    assert await uses_of(db, code) == 2


async def test_unknown_empty_and_expired_codes_are_refused(db: Database) -> None:
    code = await new_code(db, uses=5, days=1)
    async with db.session() as session:
        invite = await session.get(InviteCode, code)
        assert invite is not None and invite.expires_at is not None
        invite.expires_at = datetime.now(UTC) - timedelta(seconds=1)
        await session.commit()
    for typed, key in (
        (code, "invite_invalid"),
        ("NOSUCHCODE", "invite_invalid"),
        ("", "invite_required"),
    ):
        async with db.session() as session:
            with pytest.raises(UserError) as refused:
                await invites.redeem(session, typed)
            assert refused.value.key == key
    assert await uses_of(db, code) == 0


async def test_bad_limits_are_refused(db: Database) -> None:
    async with db.session() as session:
        with pytest.raises(UserError):
            await invites.create(session, uses=0)
        with pytest.raises(UserError):
            await invites.create(session, uses=1, days=0)


async def test_a_refused_sign_up_does_not_use_the_invite(db: Database) -> None:
    code = await new_code(db, uses=1)
    async with db.session() as session:
        await profiles.finish_signup(
            session, pending("a"), "holder", None, True, code, "en", invite_only=True
        )
    code2 = await new_code(db, uses=1)
    async with db.session() as session:
        with pytest.raises(UserError) as refused:  # the nickname is taken: nothing is counted
            await profiles.finish_signup(
                session, pending("b"), "HOLDER", None, True, code2, "en", invite_only=True
            )
    assert refused.value.key == "nickname_taken"
    assert await uses_of(db, code2) == 0
    async with db.session() as session:
        user = await session.scalar(select(User).where(User.nickname == "holder"))
        assert user is not None and user.invite_code == code


async def test_concurrent_sign_ups_never_share_the_last_use(pg_url: str) -> None:
    """Eight people with a code for three, at once, each in a transaction that stays open a
    moment after its update: exactly three accounts, the code's count exactly three."""
    db = Database(pg_url)
    try:
        code = await new_code(db, uses=3)
        start = asyncio.Event()

        async def attempt(n: int) -> bool:
            await start.wait()
            async with db.session() as session:
                try:
                    await invites.redeem(session, code)
                except UserError:
                    await session.rollback()
                    return False
                await asyncio.sleep(0.05)  # others' updates arrive while this one is open
                await session.commit()
                return True

        tasks = [asyncio.create_task(attempt(n)) for n in range(8)]
        await asyncio.sleep(0)
        start.set()
        results = await asyncio.gather(*tasks)
        assert sum(results) == 3
        assert await uses_of(db, code) == 3

        last = await new_code(db, uses=1)

        async def sign_up(n: int) -> str:
            async with db.session() as session:
                try:
                    await profiles.finish_signup(
                        session, pending(f"p{n}"), f"racer{n}", None, True, last, "en",
                        invite_only=True,
                    )  # fmt: skip
                except UserError as exc:
                    return exc.key
                return "ok"

        outcomes = await asyncio.gather(*(sign_up(n) for n in range(6)))
        assert sorted(outcomes) == ["invite_invalid"] * 5 + ["ok"]
        async with db.session() as session:
            made = await session.scalar(
                select(func.count()).select_from(User).where(User.nickname.like("racer%"))
            )
        assert made == 1 and await uses_of(db, last) == 1
    finally:
        await db.dispose()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    return tmp_path


def test_cli_creates_lists_and_audits_invites(env: Path) -> None:
    runner = CliRunner()
    created = runner.invoke(
        app, ["invites", "create", "--uses", "5", "--days", "7", "--note", "club"]
    )
    assert created.exit_code == 0, created.output
    code = created.output.strip()
    assert len(code) == invites.CODE_LENGTH
    listed = runner.invoke(app, ["invites", "list"])
    assert listed.exit_code == 0 and code in listed.output and "0/5" in listed.output
    assert "club" in listed.output
    bad = runner.invoke(app, ["invites", "create", "--uses", "0"])
    assert bad.exit_code == 2 and "error:" in bad.output

    async def logged() -> list[tuple[str, str, str | None, str]]:
        db = Database(f"sqlite+aiosqlite:///{env / 'var' / 'codebattle.db'}")
        try:
            async with db.session() as session:
                return [
                    (e.actor_label, e.action, e.new, e.reason) for e in await audit.entries(session)
                ]
        finally:
            await db.dispose()

    entries = asyncio.run(logged())
    assert len(entries) == 1
    label, action, new, reason = entries[0]
    assert (label, action, reason) == ("cli", "invite", "club")
    assert new is not None and new.startswith(f"{code} ×5")
