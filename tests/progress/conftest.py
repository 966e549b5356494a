from collections.abc import AsyncIterator

import pytest

from codebattle.db.session import Database
from tests.platform.conftest import database_url, pg_url, sqlite_url  # noqa: F401


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:  # noqa: F811
    database = Database(database_url)
    yield database
    await database.dispose()
