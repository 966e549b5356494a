"""A failed statement's error never shows its parameters (db/session.py hide_parameters):
they hold submitted code and e-mail addresses, and the error's message reaches the logs and
Sentry. On SQLite and PostgreSQL alike."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from codebattle.db.session import Database

SECRET = "print('PARAM-SECRET-9137')"


async def test_an_integrity_error_shows_the_statement_but_not_its_values(db: Database) -> None:
    async with db.session() as session:
        await session.execute(text("CREATE TEMP TABLE drafts (code TEXT, n INTEGER NOT NULL)"))
        with pytest.raises(IntegrityError) as raised:
            await session.execute(
                text("INSERT INTO drafts (code, n) VALUES (:code, :n)"), {"code": SECRET, "n": None}
            )
    message = str(raised.value)
    assert "INSERT INTO drafts" in message  # the statement still says what failed
    assert "PARAM-SECRET" not in message and "parameters hidden" in message
