from __future__ import annotations

import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from codebattle.config import ConfigError, Environment, Settings, key_weakness, load_settings

PLAYBOOK = [
    "GOOGLE_CLIENT_ID", "GOOGLE_CLIENT_SECRET", "GITHUB_CLIENT_ID", "GITHUB_CLIENT_SECRET",
    "KAKAO_CLIENT_ID", "KAKAO_CLIENT_SECRET", "NAVER_CLIENT_ID", "NAVER_CLIENT_SECRET",
    "OPENAI_API_KEY", "MOCK_GPT5", "GPTZERO_API_KEY", "REDIS_URL", "DATABASE_URL",
    "FREE_MATCH_LIMIT", "BASIC_MATCH_LIMIT", "PRO_ROOM_LIMIT", "BASIC_REVIEW_ENABLED",
    "SANDBOX_DOCKER_IMAGE_PY", "SANDBOX_DOCKER_IMAGE_CPP", "SANDBOX_DOCKER_IMAGE_JAVA",
    "S3_ENDPOINT", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY", "S3_BUCKET",
    "OPENSEARCH_URL", "OPENSEARCH_API_KEY",
]  # fmt: skip
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in Settings.model_fields:
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
        ("PLAN_TIMEZONE", "Seoul"),
        ("KAKAO_TOKEN_URL", "kauth.kakao.com/oauth/token"),
        ("GOOGLE_DISCOVERY_URL", "file:///etc/passwd"),
        ("PORTONE_API_URL", "api.portone.io"),
        ("FREE_ROOM_LIMIT", "-1"),
        ("SESSION_IDLE_MINUTES", "0"),
        ("SMTP_PORT", "70000"),
        ("ALPHA_INVITE_ONLY", "maybe"),
        ("PORTONE_CSP_SOURCES", "https://pg.example 'unsafe-inline'"),
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


STRONG_KEY = "Vq3xN8d-Lr0Zp2Yk_Tg7Hw5Jm1Sa9Fe4Ub6Oc0Ri8Xn2Ql7Kz3Dy5Gv1Pt9Bh4Ws6"


def production(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("SECRET_KEY", STRONG_KEY)
    monkeypatch.setenv("BASE_URL", "https://codebattle.example")


def test_production_needs_a_secret_key(monkeypatch: pytest.MonkeyPatch) -> None:
    production(monkeypatch)
    monkeypatch.delenv("SECRET_KEY")
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_settings()
    monkeypatch.setenv("SECRET_KEY", STRONG_KEY)
    assert load_settings().ENVIRONMENT == Environment.production


@pytest.mark.parametrize(
    "key",
    [
        "x",
        "s" * 32,  # one repeated character, however long
        "s" * 200,
        "abc" * 40,  # a short pattern repeated
        "abcdefghijklmnop" * 8,
        "correct horse battery staple",
        secrets.token_hex(16),  # 16 random bytes, not 32
        secrets.token_urlsafe(24),
        "".join(secrets.choice("0123456789") for _ in range(40)),  # a short alphabet
    ],
)
def test_a_weak_secret_key_is_refused_in_production(
    monkeypatch: pytest.MonkeyPatch, key: str
) -> None:
    production(monkeypatch)
    monkeypatch.setenv("SECRET_KEY", key)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert message.startswith("SECRET_KEY: ") and "\n" not in message
    assert "secrets.token_urlsafe(48)" in message  # says how to make a good one
    assert key not in message  # and never echoes the secret


def test_a_random_secret_key_is_accepted_in_production(monkeypatch: pytest.MonkeyPatch) -> None:
    production(monkeypatch)
    makers = (
        lambda: secrets.token_urlsafe(32),
        lambda: secrets.token_urlsafe(48),
        lambda: secrets.token_hex(32),
    )
    for make in makers:
        for _ in range(200):
            assert key_weakness(make()) is None
    assert load_settings().secret_key() == STRONG_KEY


def test_a_weak_secret_key_is_allowed_outside_production(monkeypatch: pytest.MonkeyPatch) -> None:
    for environment in ("development", "test"):
        monkeypatch.setenv("ENVIRONMENT", environment)
        monkeypatch.setenv("SECRET_KEY", "x")
        assert load_settings().secret_key() == "x"


def test_production_needs_an_https_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    production(monkeypatch)
    monkeypatch.setenv("BASE_URL", "http://codebattle.example")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert str(caught.value) == "BASE_URL: must start with https:// in production"
    monkeypatch.delenv("BASE_URL")  # the default is http://127.0.0.1:8000
    with pytest.raises(ConfigError, match="^BASE_URL: "):
        load_settings()


def test_nickname_sign_in_never_in_production(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings().nickname_sign_in  # development
    monkeypatch.setenv("GITHUB_CLIENT_ID", "id")
    assert load_settings().nickname_sign_in  # development, even with a provider
    monkeypatch.setenv("ENVIRONMENT", "test")
    assert load_settings().nickname_sign_in  # tests behave like development
    production(monkeypatch)
    assert not load_settings().nickname_sign_in
    monkeypatch.delenv("GITHUB_CLIENT_ID")
    assert not load_settings().nickname_sign_in  # nor without a provider


def test_api_docs_are_off_in_production_unless_asked_for(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings().api_docs
    monkeypatch.setenv("API_DOCS", "false")
    assert not load_settings().api_docs
    monkeypatch.delenv("API_DOCS")
    production(monkeypatch)
    assert not load_settings().api_docs
    monkeypatch.setenv("API_DOCS", "true")
    assert load_settings().api_docs


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


def test_every_setting_is_in_env_example_with_its_default() -> None:
    """`.env.example` lists every setting, and a setting with a default shows that default
    (so copying the file changes nothing)."""
    lines = dict(
        line.split("=", 1)
        for line in (ROOT / ".env.example").read_text().splitlines()
        if line and not line.startswith("#")
    )
    for name, field in Settings.model_fields.items():
        assert name in lines, f"{name} missing from .env.example"
        default = field.default
        if default is None:
            continue
        shown: object = lines[name]
        if isinstance(default, bool):
            shown = lines[name] == "true"
        elif isinstance(default, (int, float)):
            shown = type(default)(lines[name])
        elif isinstance(default, Path):
            shown = Path(lines[name])
        assert shown == default, f"{name}: .env.example says {lines[name]!r}, default {default!r}"


def test_payments_need_every_portone_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORTONE_API_SECRET", "secret")
    monkeypatch.setenv("PORTONE_STORE_ID", "store-1")
    monkeypatch.setenv("PORTONE_CHANNEL_KEY", "channel-key-1")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert str(caught.value) == "PORTONE_WEBHOOK_SECRET: must be set when PORTONE_API_SECRET is set"
    monkeypatch.setenv("PORTONE_WEBHOOK_SECRET", "whsec_c2VjcmV0")
    assert load_settings().fake_payments is False


def test_http_clients_do_not_log_request_urls() -> None:
    """Request URLs can carry secrets (a billing key in a PortOne path): the HTTP clients'
    INFO lines are off once logging is set up."""
    import logging

    from codebattle.logs import configure

    configure(load_settings())
    assert not logging.getLogger("httpx").isEnabledFor(logging.INFO)


def test_the_access_log_shows_no_query_string_nor_consent_link() -> None:
    """uvicorn's access lines would carry an OAuth code, a billing key or a guardian's
    consent link; logging keeps the path only, and no capability in it."""
    import logging

    from codebattle.logs import configure

    configure(load_settings())
    logger = logging.getLogger("uvicorn.access")
    record = logger.makeRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5", "GET", "/checkout/complete?payment=p1&billingKey=secret-key", "1.1", 303),
        None,
    )  # fmt: skip
    for item in logger.filters:
        item.filter(record)  # type: ignore[union-attr]
    consent = logger.makeRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5", "GET", "/consent/eyJ1Ijo1fQ.signed", "1.1", 200), None,
    )  # fmt: skip
    for item in logger.filters:
        item.filter(consent)  # type: ignore[union-attr]
    assert "secret-key" not in record.getMessage() and "/checkout/complete" in record.getMessage()
    assert "eyJ1Ijo1fQ" not in consent.getMessage() and "/consent/" in consent.getMessage()


def test_failpoints_are_refused_in_production(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAILPOINTS", "submit.after_commit")
    assert load_settings().FAILPOINTS == "submit.after_commit"  # development: crash tests
    production(monkeypatch)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert str(caught.value) == "FAILPOINTS: crash tests only; must be empty in production"
    monkeypatch.setenv("FAILPOINTS", " ")
    assert load_settings().ENVIRONMENT == Environment.production


def test_an_armed_failpoint_kills_the_process_as_kill_9_would() -> None:
    script = (
        "from codebattle import failpoints\n"
        "failpoints.hit('b')\n"  # nothing armed yet
        "failpoints.arm(' a, b ,')\n"
        "failpoints.hit('c')\n"
        "print('alive', flush=True)\n"
        "failpoints.hit('b')\n"
        "print('still alive', flush=True)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=30, check=False
    )
    assert done.returncode == 137
    assert done.stdout == "alive\n"
    assert done.stderr == "failpoint b: the process dies here\n"


def test_sessions_stay_in_the_database_unless_redis_is_asked_for(tmp_path: Path) -> None:
    """With REDIS_URL, sessions are still kept in the database (a Redis that restarts empty
    signs nobody out, decision 0024); SESSION_STORE=redis asks for Redis and needs it."""
    from codebattle.accounts.sessions import DatabaseSessionStore, RedisSessionStore, store_for
    from codebattle.db.session import Database

    redis = "redis://127.0.0.1:1/0"  # never contacted: the store connects on first use
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'c.db'}")
    chosen = store_for(load_settings(DATA_DIR=tmp_path, REDIS_URL=redis), db)
    assert isinstance(chosen, DatabaseSessionStore)
    asked = store_for(load_settings(DATA_DIR=tmp_path, REDIS_URL=redis, SESSION_STORE="redis"), db)
    assert isinstance(asked, RedisSessionStore)
    with pytest.raises(ConfigError, match="^SESSION_STORE: redis needs REDIS_URL"):
        load_settings(DATA_DIR=tmp_path, SESSION_STORE="redis")


def test_the_high_flag_level_is_not_below_the_review_level() -> None:
    with pytest.raises(ConfigError, match="FAIRPLAY_HIGH_SCORE"):
        load_settings(FAIRPLAY_REVIEW_SCORE=0.9, FAIRPLAY_HIGH_SCORE=0.5)
    assert (
        load_settings(FAIRPLAY_REVIEW_SCORE=0.5, FAIRPLAY_HIGH_SCORE=0.5).FAIRPLAY_HIGH_SCORE == 0.5
    )
