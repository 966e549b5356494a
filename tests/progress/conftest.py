"""Fixtures of the progress tests: an imported problem version and two players, in the
database of the `db` fixture (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import pytest

from codebattle.db.session import Database
from codebattle.problems.models import ProblemVersion
from codebattle.storage import LocalBlobStore
from tests.support.factories import make_problem_version, make_user


@pytest.fixture
async def version(db: Database, tmp_path: Path) -> ProblemVersion:
    async with db.session() as session:
        found = await make_problem_version(session, LocalBlobStore(tmp_path / "blobs"))
        await session.commit()
        return found


@pytest.fixture
async def players(db: Database) -> tuple[int, int]:
    async with db.session() as session:
        ann, bob = await make_user(session, "ann"), await make_user(session, "bob")
        await session.commit()
        return ann.id, bob.id
