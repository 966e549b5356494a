from collections.abc import AsyncIterator

import pytest

from codebattle.db.session import Database
from tests.platform.conftest import (  # noqa: F401
    app_settings,
    client,
    database_url,
    pg_url,
    sqlite_url,
)


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:  # noqa: F811
    database = Database(database_url)
    yield database
    await database.dispose()
