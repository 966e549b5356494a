from tests.platform.conftest import (  # noqa: F401
    app_settings,
    client,
    database_url,
    pg_url,
    sqlite_url,
)
