"""`codebattle worker` in production: it serves no pages and must hold no session key, so
the API's rules for SECRET_KEY and an https BASE_URL are not asked of it (the deploy files
give workers neither), while `serve` still refuses to start without them."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from codebattle.cli import app

runner = CliRunner()


@pytest.fixture
def production(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("BASE_URL", "http://127.0.0.1:8000")
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setenv("DATA_DIR", str(tmp_path))


@pytest.mark.usefixtures("production")
def test_a_worker_needs_no_session_key_or_https() -> None:
    result = runner.invoke(app, ["worker"])
    assert result.exit_code == 2
    # Past the settings, it stops on what a worker does need: the queue.
    assert "REDIS_URL is not set" in result.output
    assert "SECRET_KEY" not in result.output


@pytest.mark.usefixtures("production")
def test_serve_still_asks_for_them() -> None:
    result = runner.invoke(app, ["serve"])
    assert result.exit_code == 2
    assert "SECRET_KEY: must be set in production" in result.output
