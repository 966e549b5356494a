from tests.platform.conftest import database_url, pg_url, sqlite_url  # noqa: F401
