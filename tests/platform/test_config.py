from __future__ import annotations

from pathlib import Path

import pytest

from codebattle.config import ConfigError, Environment, Settings, load_settings

PLAYBOOK = [
    "GOOGLE_CLIENT_ID", "GOOGLE_CLIENT_SECRET", "GITHUB_CLIENT_ID", "GITHUB_CLIENT_SECRET",
    "KAKAO_CLIENT_ID", "KAKAO_CLIENT_SECRET", "NAVER_CLIENT_ID", "NAVER_CLIENT_SECRET",
    "OPENAI_API_KEY", "MOCK_GPT5", "GPTZERO_API_KEY", "REDIS_URL", "DATABASE_URL",
    "FREE_MATCH_LIMIT", "BASIC_MATCH_LIMIT", "PRO_ROOM_LIMIT", "BASIC_REVIEW_ENABLED",
    "SANDBOX_DOCKER_IMAGE_PY", "SANDBOX_DOCKER_IMAGE_CPP", "SANDBOX_DOCKER_IMAGE_JAVA",
    "S3_ENDPOINT", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY", "S3_BUCKET",
    "OPENSEARCH_URL", "OPENSEARCH_API_KEY",
]  # fmt: skip
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in [*PLAYBOOK, "ENVIRONMENT", "SECRET_KEY", "BASE_URL", "DATA_DIR"]:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env


def test_defaults_are_the_embedded_product(tmp_path: Path) -> None:
    settings = load_settings()
    assert settings.PRO_ROOM_LIMIT == 1000
    assert settings.BASIC_REVIEW_ENABLED is True
    assert settings.REDIS_URL is None
    assert settings.database_url == "sqlite+aiosqlite:///var/codebattle.db"
    assert settings.nickname_sign_in
    assert len(settings.secret_key()) > 20  # generated once, kept under DATA_DIR
    assert settings.secret_key() == load_settings().secret_key()


def test_every_playbook_setting_exists_and_is_documented() -> None:
    fields = Settings.model_fields
    example = (ROOT / ".env.example").read_text()
    for name in PLAYBOOK:
        assert name in fields, name
        assert f"{name}=" in example, f"{name} missing from .env.example"


def test_values_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@db:5432/app")
    monkeypatch.setenv("PRO_ROOM_LIMIT", "50")
    monkeypatch.setenv("MOCK_GPT5", "true")
    settings = load_settings()
    assert settings.database_url == "postgresql+asyncpg://u@db:5432/app"
    assert settings.PRO_ROOM_LIMIT == 50 and settings.MOCK_GPT5 is True


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PRO_ROOM_LIMIT", "many"),
        ("PRO_ROOM_LIMIT", "0"),
        ("BASIC_REVIEW_ENABLED", "perhaps"),
        ("DATABASE_URL", "mysql://x"),
        ("REDIS_URL", "localhost:6379"),
        ("ENVIRONMENT", "staging"),
        ("BASE_URL", "example.com"),
    ],
)
def test_a_bad_value_is_one_line_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert message.startswith(f"{name}: ") and "\n" not in message


def test_production_needs_a_secret_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_settings()
    monkeypatch.setenv("SECRET_KEY", "s" * 32)
    assert load_settings().ENVIRONMENT == Environment.production


def test_nickname_sign_in_only_without_oauth_or_in_development(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GITHUB_CLIENT_ID", "id")
    monkeypatch.setenv("SECRET_KEY", "s" * 32)
    assert load_settings().nickname_sign_in  # development
    monkeypatch.setenv("ENVIRONMENT", "production")
    assert not load_settings().nickname_sign_in


def test_cli_reports_a_bad_setting_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from codebattle.cli import app

    monkeypatch.setenv("PRO_ROOM_LIMIT", "lots")
    result = CliRunner().invoke(app, ["migrate"])
    assert result.exit_code == 2
    assert "PRO_ROOM_LIMIT" in result.output and "Traceback" not in result.output


def test_an_env_file_with_empty_values_means_defaults(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text((ROOT / ".env.example").read_text())
    settings = load_settings()
    assert settings.SECRET_KEY is None and settings.REDIS_URL is None
    assert settings.database_url.startswith("sqlite+aiosqlite:///")
