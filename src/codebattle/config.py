"""Every setting, typed. Names are exactly the deployment playbook's environment variables.

Unset means the embedded default (SQLite under DATA_DIR, in-process queue and pub/sub,
local blob storage, offline AI). `load_settings()` turns a bad value into one clear line.
Nothing else in the code base reads the environment.
"""

from __future__ import annotations

import math
import re
import secrets
import string
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict


class ConfigError(Exception):
    """A setting has a bad value; the message is one line naming it."""


class Environment(StrEnum):
    development = "development"
    production = "production"
    test = "test"
    # A public preview of a release: the mock sandbox and a read-only database (docs/operations.md).
    preview = "preview"


PositiveInt = Annotated[int, Field(gt=0)]


def _http_url(value: str) -> str:
    if not isinstance(value, str) or not value.startswith(("http://", "https://")):
        raise ValueError("must start with http:// or https://")
    return value.rstrip("/")


# A URL kept as a string (an endpoint a client calls), checked to be http(s).
HttpUrl = Annotated[str, AfterValidator(_http_url)]
# A Sentry DSN: http(s)://<public key>[:<secret>]@<host>[/<path>]/<project id>.
SENTRY_DSN_FORM = re.compile(r"https?://[^@/\s:]+(:[^@/\s]*)?@[^/\s@]+(/[^\s]*)?/\d+/?")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        env_ignore_empty=True,  # `NAME=` in .env means unset
        extra="ignore",
        case_sensitive=True,
    )

    # Sign-in providers (OAuth 2.0 / OpenID Connect): a provider is offered when its id and
    # secret are set. Its endpoints default to the real ones; tests and staging point them
    # elsewhere. Google's unset endpoints come from its discovery document.
    GOOGLE_CLIENT_ID: str | None = None
    GOOGLE_CLIENT_SECRET: SecretStr | None = None
    GOOGLE_DISCOVERY_URL: HttpUrl = "https://accounts.google.com/.well-known/openid-configuration"
    GOOGLE_AUTHORIZE_URL: HttpUrl | None = None
    GOOGLE_TOKEN_URL: HttpUrl | None = None
    GOOGLE_USERINFO_URL: HttpUrl | None = None
    GITHUB_CLIENT_ID: str | None = None
    GITHUB_CLIENT_SECRET: SecretStr | None = None
    GITHUB_AUTHORIZE_URL: HttpUrl = "https://github.com/login/oauth/authorize"
    GITHUB_TOKEN_URL: HttpUrl = "https://github.com/login/oauth/access_token"  # noqa: S105 - an endpoint
    GITHUB_USERINFO_URL: HttpUrl = "https://api.github.com/user"
    GITHUB_EMAILS_URL: HttpUrl = "https://api.github.com/user/emails"
    KAKAO_CLIENT_ID: str | None = None
    KAKAO_CLIENT_SECRET: SecretStr | None = None
    KAKAO_AUTHORIZE_URL: HttpUrl = "https://kauth.kakao.com/oauth/authorize"
    KAKAO_TOKEN_URL: HttpUrl = "https://kauth.kakao.com/oauth/token"  # noqa: S105 - an endpoint
    KAKAO_USERINFO_URL: HttpUrl = "https://kapi.kakao.com/v2/user/me"
    NAVER_CLIENT_ID: str | None = None
    NAVER_CLIENT_SECRET: SecretStr | None = None
    NAVER_AUTHORIZE_URL: HttpUrl = "https://nid.naver.com/oauth2.0/authorize"
    NAVER_TOKEN_URL: HttpUrl = "https://nid.naver.com/oauth2.0/token"  # noqa: S105 - an endpoint
    NAVER_USERINFO_URL: HttpUrl = "https://openapi.naver.com/v1/nid/me"
    OAUTH_TIMEOUT_SECONDS: Annotated[float, Field(gt=0)] = 10.0

    # Sessions live on the server (the database, or Redis with REDIS_URL): a session ends
    # after this long unused, and at the latest this long after sign-in.
    SESSION_IDLE_MINUTES: PositiveInt = 7 * 24 * 60
    SESSION_ABSOLUTE_DAYS: PositiveInt = 30
    # Where sessions are kept: the database (the default: they survive a Redis that loses
    # its data), or Redis (needs REDIS_URL; run it with persistence, or every player is
    # signed out when it restarts empty).
    SESSION_STORE: Literal["database", "redis"] = "database"

    # Mail (a guardian's consent request). Without SMTP_HOST mail is written as .eml files
    # under DATA_DIR/mail (the embedded default; an operator can forward them).
    SMTP_HOST: str | None = None
    SMTP_PORT: Annotated[int, Field(gt=0, lt=65536)] = 587
    SMTP_USERNAME: str | None = None
    SMTP_PASSWORD: SecretStr | None = None
    SMTP_STARTTLS: bool = True
    MAIL_FROM: str = "AI Code Battle <no-reply@localhost>"
    # Days a guardian's consent link stays valid.
    GUARDIAN_CONSENT_DAYS: PositiveInt = 7

    # Alpha: a first sign-in needs an invite code (`codebattle invites create`).
    ALPHA_INVITE_ONLY: bool = False

    # AI opponent and review; AI-text detection.
    OPENAI_API_KEY: SecretStr | None = None
    MOCK_GPT5: bool = False
    GPTZERO_API_KEY: SecretStr | None = None
    # GPTZero (fair play): only prose of at least GPTZERO_MIN_CHARS characters is sent.
    GPTZERO_API_URL: str = "https://api.gptzero.me"
    GPTZERO_TIMEOUT_SECONDS: Annotated[float, Field(gt=0)] = 10.0
    GPTZERO_MIN_CHARS: PositiveInt = 250
    # Fair play: an accepted game submission this alike (Dice, 0..1) to another player's or a
    # reference solution is stored for review (fairplay/service.py).
    SIMILARITY_REVIEW_SCORE: Annotated[float, Field(ge=0, le=1)] = 0.5
    # Fair play's risk score (0..1, fairplay/risk.py): at least FAIRPLAY_REVIEW_SCORE is a
    # "review" flag, at least FAIRPLAY_HIGH_SCORE a "high" one, which holds the game's
    # rating change until an operator decides. Calibrated in docs/fairplay.md.
    FAIRPLAY_REVIEW_SCORE: Annotated[float, Field(gt=0, le=1)] = 0.4
    FAIRPLAY_HIGH_SCORE: Annotated[float, Field(gt=0, le=1)] = 0.8
    # Editor telemetry: events one batch may carry, and batches kept per player and game.
    TELEMETRY_EVENTS_PER_BATCH: PositiveInt = 200
    TELEMETRY_BATCHES_PER_GAME: PositiveInt = 400
    # Reports of an opponent a player may file a day (one per game in any case).
    REPORTS_PER_DAY: PositiveInt = 10
    # The log sink's writer: records waiting (past it, new ones are dropped and counted),
    # records per bulk write, tries per batch before it is dropped (counted).
    LOG_SINK_QUEUE: PositiveInt = 10_000
    LOG_SINK_BATCH: PositiveInt = 200
    LOG_SINK_TRIES: PositiveInt = 5

    # Operators (ops/). Appeals: the first answer is due APPEAL_SLA_DAYS after an appeal is
    # filed, the decision APPEAL_DECISION_DAYS after; days are working days (Monday to
    # Friday in PLAN_TIMEZONE, without APPEAL_HOLIDAYS_COUNTRY's public holidays; empty:
    # weekends only) or calendar days. An alert fires when less than APPEAL_SLA_WARN_HOURS
    # is left, and again when a deadline lapses.
    APPEAL_SLA_DAYS: PositiveInt = 3
    APPEAL_DECISION_DAYS: PositiveInt = 7
    APPEAL_DAY_COUNT: Literal["working", "calendar"] = "working"
    APPEAL_HOLIDAYS_COUNTRY: str = "KR"
    APPEAL_SLA_WARN_HOURS: Annotated[float, Field(gt=0)] = 24.0
    # Suspensions an operator can choose from (days; 7 is preselected when listed).
    SUSPENSION_DAYS: str = "1 3 7 14 30 90"
    # Alerts to operators: Slack incoming webhook and Discord webhook (either, both, none).
    SLACK_WEBHOOK_URL: SecretStr | None = None
    DISCORD_WEBHOOK_URL: SecretStr | None = None
    ALERT_TIMEOUT_SECONDS: Annotated[float, Field(gt=0)] = 10.0
    ALERT_TRIES: PositiveInt = 8  # deliveries tried this often (backoff doubling) then failed
    ALERT_SUMMARY_OVER: PositiveInt = 5  # more alerts due at once than this: one summary
    # The IE (judge fault) rate over the last hour above which an alert fires, once at
    # least ALERT_IE_MIN_JUDGED submissions were judged in that hour.
    ALERT_IE_RATE: Annotated[float, Field(gt=0, le=1)] = 0.05
    ALERT_IE_MIN_JUDGED: PositiveInt = 20
    # With Redis: jobs of a language wait and no live worker has served it for this long.
    ALERT_NO_WORKER_SECONDS: Annotated[float, Field(gt=0)] = 60.0

    # Progress and rewards (progress/, rewards/; docs/progress.md). Seasons last
    # SEASON_DAYS (the next starts by itself); a season rating starts from the all-time
    # one, kept SEASON_RESET_KEEP of the way from a new player's; the first
    # SEASON_PLACEMENT_GAMES games of a season are placement games (not yet ranked).
    SEASON_DAYS: PositiveInt = 91
    SEASON_RESET_KEEP: Annotated[float, Field(ge=0, le=1)] = 0.5
    SEASON_PLACEMENT_GAMES: PositiveInt = 3
    # Room podiums earn points only in rooms with at least this many human players.
    ROOM_PODIUM_MIN_PLAYERS: PositiveInt = 5
    # Gift cards for points (rewards/giftcards.py): one point is worth POINT_WON won.
    # Caps per user and calendar month (PLAN_TIMEZONE), lower under 19; the largest card;
    # operator approval for a first exchange and above REWARD_APPROVAL_OVER_WON.
    POINT_WON: Annotated[float, Field(gt=0)] = 1.0
    REWARD_MONTHLY_CAP_WON: Annotated[int, Field(ge=0)] = 30000
    REWARD_MINOR_MONTHLY_CAP_WON: Annotated[int, Field(ge=0)] = 10000
    REWARD_MAX_CARD_WON: PositiveInt = 5000
    REWARD_APPROVAL_OVER_WON: Annotated[int, Field(ge=0)] = 3000
    # Hours a recipient's phone number is kept after the card is sent (or refused).
    REWARD_PHONE_KEEP_HOURS: Annotated[float, Field(ge=0)] = 0.0
    # Giftishow Biz (KT alpha). Without GIFTISHOW_AUTH_CODE, outside production, the
    # built-in fake provider (same protocol, served by this app under /fake-giftishow)
    # issues the cards; in production exchanges are then closed.
    GIFTISHOW_API_URL: HttpUrl = "https://bizapi.giftishow.com/bizApi"
    GIFTISHOW_AUTH_CODE: SecretStr | None = None
    GIFTISHOW_AUTH_TOKEN: SecretStr | None = None
    GIFTISHOW_USER_ID: str | None = None
    GIFTISHOW_CALLBACK_NO: str | None = None  # the sender number shown on the MMS
    GIFTISHOW_DEV: bool = False  # dev_yn=Y: Giftishow's test mode (no business money spent)
    GIFTISHOW_TIMEOUT_SECONDS: Annotated[float, Field(gt=0, le=60)] = 15.0  # claims last 4x

    # Infrastructure. Unset: in-process queue/pub-sub/rate limits, SQLite under DATA_DIR.
    REDIS_URL: str | None = None
    DATABASE_URL: str | None = None

    # Plans. Games (ranked and vs AI) a day, the day counted in PLAN_TIMEZONE; Pro has no
    # daily limit. The largest room a host on each plan can open.
    FREE_MATCH_LIMIT: PositiveInt = 5
    BASIC_MATCH_LIMIT: PositiveInt = 30
    PLAN_TIMEZONE: str = "Asia/Seoul"
    FREE_ROOM_LIMIT: PositiveInt = 10
    BASIC_ROOM_LIMIT: PositiveInt = 50
    PRO_ROOM_LIMIT: PositiveInt = 1000
    BASIC_REVIEW_ENABLED: bool = True
    # Prices (KRW) of one period of a paid plan, and the period's length.
    BASIC_PRICE_KRW: PositiveInt = 4900
    PRO_PRICE_KRW: PositiveInt = 9900
    PLAN_PERIOD_DAYS: PositiveInt = 30

    # Payments through PortOne V2. Without PORTONE_API_SECRET, outside production, the
    # built-in fake provider (same HTTP protocol, served by this app under /fake-portone)
    # takes the payments; in production checkout is then closed.
    PORTONE_API_SECRET: SecretStr | None = None
    PORTONE_STORE_ID: str | None = None
    PORTONE_CHANNEL_KEY: str | None = None
    PORTONE_WEBHOOK_SECRET: SecretStr | None = None
    PORTONE_API_URL: HttpUrl = "https://api.portone.io"
    PORTONE_SDK_URL: HttpUrl = "https://cdn.portone.io/v2/browser-sdk.js"
    # Extra CSP sources (space-separated https://host, "*." allowed) for script, connect
    # and frame on the checkout page only: the card companies' payment pages PortOne's
    # window opens (the SDK's own hosts, *.portone.io and *.iamport.co, are always allowed).
    PORTONE_CSP_SOURCES: str = (
        "https://service.iamport.kr https://*.tosspayments.com https://*.inicis.com "
        "https://*.kcp.co.kr https://*.nicepay.co.kr https://*.kakaopay.com"
    )

    # Per-language runtime images for containerised workers (deployment files). A worker of
    # one pool (`codebattle worker --languages`) names its image in its heartbeat, shown on
    # the fleet page (cli.pool_image; PyPy runs in the Python image).
    SANDBOX_DOCKER_IMAGE_PY: str | None = None
    SANDBOX_DOCKER_IMAGE_CPP: str | None = None
    SANDBOX_DOCKER_IMAGE_JAVA: str | None = None

    # Blob storage: S3-compatible when S3_BUCKET is set, else a local folder.
    S3_ENDPOINT: str | None = None
    S3_ACCESS_KEY_ID: str | None = None
    S3_SECRET_ACCESS_KEY: SecretStr | None = None
    S3_BUCKET: str | None = None
    S3_REGION: str = "auto"  # R2 takes "auto"; AWS wants the bucket's region
    # Uploads at least this large go in parts of this size (S3 multipart upload).
    S3_MULTIPART_BYTES: Annotated[int, Field(ge=5 * 1024 * 1024)] = 8 * 1024 * 1024

    # Seeing what happens (docs/operations.md): traces over OTLP/HTTP, errors to Sentry,
    # Prometheus metrics, log lines as JSON.
    OTEL_EXPORTER_OTLP_ENDPOINT: str | None = None  # e.g. http://collector:4318
    OTEL_SERVICE_NAME: str = "codebattle"  # workers add "-worker"
    SENTRY_DSN: SecretStr | None = None
    RELEASE: str | None = None  # the deployed version's tag (Sentry, traces); the image sets it
    # Sentry's environment when not ENVIRONMENT: the embedded default's judge processes are
    # told their app's (they run without its production settings).
    SENTRY_ENVIRONMENT: str | None = None
    # /metrics: with METRICS_TOKEN it asks for "Authorization: Bearer <token>"; with
    # METRICS_PORT it is served on that port alone (bind it to a private network); with
    # neither it is served openly outside production and not at all in production.
    METRICS_TOKEN: SecretStr | None = None
    METRICS_PORT: Annotated[int, Field(gt=0, lt=65536)] | None = None
    LOG_FORMAT: Literal["auto", "json", "console"] = "auto"  # auto: JSON in production and preview

    # Log sink: OpenSearch when set, else a database table.
    OPENSEARCH_URL: str | None = None
    OPENSEARCH_API_KEY: SecretStr | None = None
    OPENSEARCH_TIMEOUT_SECONDS: Annotated[float, Field(gt=0)] = 5.0

    # Our own.
    ENVIRONMENT: Environment = Environment.development
    SECRET_KEY: SecretStr | None = None  # signs session cookies; required in production
    BASE_URL: str = "http://127.0.0.1:8000"  # https required in production
    API_DOCS: bool | None = None  # /api/docs and /api/openapi.json; unset: on outside production
    DATA_DIR: Path = Path("var")  # SQLite file, blobs, the judge's caches
    SUBMISSIONS_PER_MINUTE: PositiveInt = 12
    JUDGE_WORKERS: PositiveInt = 2  # judge worker processes of the embedded default
    # More of them that take only a duel's submissions and runs and practice runs (the
    # urgent lane, judge/queue.py): one is free for a race however long the practice backlog.
    JUDGE_URGENT_WORKERS: Annotated[int, Field(ge=0)] = 1
    QUEUE_REDELIVERY_SECONDS: Annotated[float, Field(gt=0)] = 30.0
    MAX_CODE_BYTES: PositiveInt = 64 * 1024
    # Names of failpoints where this process dies on purpose (codebattle/failpoints.py):
    # for the crash tests only; refused in production.
    FAILPOINTS: str = ""

    # Battles.
    MATCH_SECONDS: Annotated[float, Field(gt=0)] = 900.0  # a duel's time limit
    MATCH_COUNTDOWN_SECONDS: Annotated[float, Field(ge=0)] = 5.0
    DISCONNECT_GRACE_SECONDS: Annotated[float, Field(gt=0)] = 30.0
    # At most this long after the deadline, a match waits for the verdicts of submissions
    # made before it, then decides with what it has.
    MATCH_JUDGING_WAIT_SECONDS: Annotated[float, Field(ge=0)] = 60.0
    QUEUE_AI_OFFER_SECONDS: Annotated[float, Field(ge=0)] = 60.0  # then offer an AI opponent
    AI_LEVEL: Literal["easy", "medium", "hard"] = "medium"
    AI_SPEED: Annotated[float, Field(gt=0)] = 1.0  # >1 makes the offline AI play faster
    OPENAI_MODEL: str = "gpt-5"
    OPENAI_BASE_URL: str = "https://api.openai.com/v1"
    OPENAI_TIMEOUT_SECONDS: Annotated[float, Field(gt=0)] = 20.0
    # Replays: a player's code snapshots per match (count and bytes; past them the newest is
    # overwritten) and the code one replay page carries. A user may open a match's socket
    # MATCH_SOCKET_OPENS times per window (shorter than the grace, so a refused player is
    # back in time).
    REPLAY_SNAPSHOTS_PER_PLAYER: PositiveInt = 400
    REPLAY_SNAPSHOT_BYTES_PER_PLAYER: PositiveInt = 2 * 1024 * 1024
    REPLAY_PAGE_BYTES: PositiveInt = 512 * 1024
    MATCH_SOCKET_OPENS: PositiveInt = 5
    MATCH_SOCKET_OPENS_SECONDS: Annotated[float, Field(gt=0)] = 10.0

    @field_validator("DATABASE_URL")
    @classmethod
    def _database_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        for prefix, driver in (
            ("postgresql://", "postgresql+asyncpg://"),
            ("postgres://", "postgresql+asyncpg://"),
            ("sqlite:///", "sqlite+aiosqlite:///"),
        ):
            if value.startswith(prefix):
                return driver + value[len(prefix) :]
        if value.startswith(("postgresql+asyncpg://", "sqlite+aiosqlite:///")):
            return value
        raise ValueError("must start with postgresql:// or sqlite:///")

    @field_validator("REDIS_URL")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value

    @field_validator("OTEL_EXPORTER_OTLP_ENDPOINT")
    @classmethod
    def _otlp_endpoint(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None  # no tracing
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https:// (OTLP over HTTP, e.g. :4318)")
        return value.rstrip("/")

    @field_validator("SENTRY_DSN")
    @classmethod
    def _sentry_dsn(cls, value: SecretStr | None) -> SecretStr | None:
        # Checked here so a typo stops start-up with one line, not the SDK's traceback.
        if value is not None and not SENTRY_DSN_FORM.fullmatch(value.get_secret_value()):
            raise ValueError("must look like https://<public key>@<host>/<project id>")
        return value

    @field_validator("BASE_URL")
    @classmethod
    def _base_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("PORTONE_CSP_SOURCES")
    @classmethod
    def _csp_sources(cls, value: str) -> str:
        for source in value.split():
            if not re.fullmatch(r"https://(\*\.)?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+", source):
                raise ValueError(f"{source[:60]!r} is not an https://host source")
        return " ".join(value.split())

    @field_validator("FAIRPLAY_HIGH_SCORE")
    @classmethod
    def _high_above_review(cls, value: float, info: ValidationInfo) -> float:
        review = info.data.get("FAIRPLAY_REVIEW_SCORE")
        if isinstance(review, float) and value < review:
            raise ValueError(f"must be at least FAIRPLAY_REVIEW_SCORE ({review})")
        return value

    @field_validator("APPEAL_DECISION_DAYS")
    @classmethod
    def _decision_after_first_answer(cls, value: int, info: ValidationInfo) -> int:
        first = info.data.get("APPEAL_SLA_DAYS")
        if isinstance(first, int) and value < first:
            raise ValueError(f"must be at least APPEAL_SLA_DAYS ({first})")
        return value

    @field_validator("SUSPENSION_DAYS")
    @classmethod
    def _suspension_days(cls, value: str) -> str:
        days = value.split()
        if not days or not all(d.isdigit() and 0 < int(d) <= 3650 for d in days):
            raise ValueError("give whole days from 1 to 3650, separated by spaces")
        return " ".join(days)

    @field_validator("APPEAL_HOLIDAYS_COUNTRY")
    @classmethod
    def _holidays_country(cls, value: str) -> str:
        value = value.strip().upper()
        if value:
            import holidays

            if value not in holidays.list_supported_countries():
                raise ValueError("unknown country code (e.g. KR, US; empty: weekends only)")
        return value

    @property
    def suspension_days(self) -> list[int]:
        return [int(d) for d in self.SUSPENSION_DAYS.split()]

    @field_validator("PLAN_TIMEZONE")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("unknown time zone (e.g. Asia/Seoul, UTC)") from None
        return value

    @property
    def plan_zone(self) -> ZoneInfo:
        return ZoneInfo(self.PLAN_TIMEZONE)

    @property
    def database_url(self) -> str:
        return self.DATABASE_URL or f"sqlite+aiosqlite:///{self.DATA_DIR / 'codebattle.db'}"

    @property
    def secure_cookies(self) -> bool:
        return self.BASE_URL.startswith("https://")

    @property
    def oauth_providers(self) -> list[str]:
        """The sign-in providers offered: those with both a client id and a secret."""
        return [
            name
            for name in OAUTH_PROVIDERS
            if getattr(self, f"{name.upper()}_CLIENT_ID")
            and getattr(self, f"{name.upper()}_CLIENT_SECRET")
        ]

    @property
    def production_like(self) -> bool:
        """Production or a preview (public too): the same security rules (a set, strong
        SECRET_KEY, https, no failpoints, no fake providers, no nickname sign-in;
        decision 0030)."""
        return self.ENVIRONMENT in (Environment.production, Environment.preview)

    @property
    def preview(self) -> bool:
        """A public preview: the mock sandbox and a read-only database (docs/operations.md)."""
        return self.ENVIRONMENT == Environment.preview

    @property
    def fake_payments(self) -> bool:
        """Whether the built-in fake payment provider takes payments (no PortOne secret,
        outside production and previews)."""
        return self.PORTONE_API_SECRET is None and not self.production_like

    @property
    def fake_giftcards(self) -> bool:
        """Whether the built-in fake Giftishow issues gift cards (no auth code, outside
        production and previews)."""
        return self.GIFTISHOW_AUTH_CODE is None and not self.production_like

    @property
    def nickname_sign_in(self) -> bool:
        """Nickname sign-in has no password: it exists only outside production and previews
        (and never for staff, see accounts.service)."""
        return not self.production_like

    @property
    def api_docs(self) -> bool:
        """Whether /api/docs and /api/openapi.json are served (off in production unless set)."""
        if self.API_DOCS is not None:
            return self.API_DOCS
        return self.ENVIRONMENT != Environment.production

    def secret_key(self) -> str:
        """The cookie-signing key. Outside production an unset key is generated once and
        kept in DATA_DIR, so sessions survive restarts."""
        if self.SECRET_KEY is not None:
            key = self.SECRET_KEY.get_secret_value()
            if self.production_like and (weakness := key_weakness(key)):
                raise ConfigError(f"SECRET_KEY: {weakness}; {MAKE_KEY}")
            return key
        if self.production_like:
            raise ConfigError(f"SECRET_KEY: must be set in {self.ENVIRONMENT}; {MAKE_KEY}")
        path = self.DATA_DIR / "secret_key"
        if not path.exists():
            self.DATA_DIR.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(32))
            path.chmod(0o600)
        return path.read_text().strip()


def load_settings(*, serving: bool = True, **overrides: object) -> Settings:
    """Read the settings; a bad value raises ConfigError naming the setting. A judge worker
    (`serving=False`) serves no pages and holds no session key (it must not: it runs next to
    untrusted code), so the rules for cookies and the session key are not its own."""
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        error = exc.errors()[0]
        name = ".".join(str(part) for part in error["loc"]) or "settings"
        message = error["msg"].removeprefix("Value error, ")
        raise ConfigError(f"{name}: {message}") from None
    if settings.production_like and serving:  # a preview is public: the same rules (0030)
        settings.secret_key()  # fail at start-up, not at the first request
        if not settings.secure_cookies:  # session cookies must never travel in clear text
            raise ConfigError(f"BASE_URL: must start with https:// in {settings.ENVIRONMENT}")
    if settings.SESSION_STORE == "redis" and not settings.REDIS_URL:
        raise ConfigError("SESSION_STORE: redis needs REDIS_URL")
    if settings.FAILPOINTS.strip() and settings.production_like:
        raise ConfigError(f"FAILPOINTS: crash tests only; must be empty in {settings.ENVIRONMENT}")
    if settings.PORTONE_API_SECRET is not None:
        # Half a payment setup would take money it cannot confirm by webhook or open a
        # checkout the browser cannot start: all or nothing.
        for name in ("PORTONE_STORE_ID", "PORTONE_CHANNEL_KEY", "PORTONE_WEBHOOK_SECRET"):
            if getattr(settings, name) is None:
                raise ConfigError(f"{name}: must be set when PORTONE_API_SECRET is set")
    if settings.GIFTISHOW_AUTH_CODE is not None:
        for name in ("GIFTISHOW_AUTH_TOKEN", "GIFTISHOW_USER_ID", "GIFTISHOW_CALLBACK_NO"):
            if getattr(settings, name) is None:
                raise ConfigError(f"{name}: must be set when GIFTISHOW_AUTH_CODE is set")
    if settings.S3_BUCKET is not None:
        # Half an S3 set-up would quietly keep blobs on one host's disk: all or nothing.
        for name in ("S3_ENDPOINT", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY"):
            if getattr(settings, name) is None:
                raise ConfigError(f"{name}: must be set when S3_BUCKET is set")
        if not str(settings.S3_ENDPOINT).startswith(("http://", "https://")):
            raise ConfigError("S3_ENDPOINT: must start with http:// or https://")
    if settings.REWARD_MINOR_MONTHLY_CAP_WON > settings.REWARD_MONTHLY_CAP_WON:
        raise ConfigError("REWARD_MINOR_MONTHLY_CAP_WON: must not exceed REWARD_MONTHLY_CAP_WON")
    return settings


OAUTH_PROVIDERS = ("google", "github", "kakao", "naver")
MAKE_KEY = 'make one with: python3 -c "import secrets; print(secrets.token_urlsafe(48))"'
KEY_BITS = 256  # 32 bytes of randomness: the session cookie's HMAC key is not brute-forced
_CLASSES = (string.digits, string.ascii_lowercase, string.ascii_uppercase, string.punctuation + " ")


def key_weakness(key: str) -> str | None:
    """Why a production SECRET_KEY is too weak, or None. The estimate is generous (as if
    every character were random over the alphabets the key uses), so it refuses only keys
    that are short, use few characters, or repeat themselves."""
    alphabet = sum(len(chars) for chars in _CLASSES if any(c in chars for c in key))
    if any(not any(c in chars for chars in _CLASSES) for c in key):
        alphabet += 128  # anything else (non-ASCII, control characters), generously
    if set(key) <= set(string.hexdigits):
        alphabet = min(alphabet, 16)
    elif set(key) & set(string.ascii_lowercase) and set(key) & set(string.ascii_uppercase):
        # Mixed case: taken as base64 (a token_urlsafe(32) may happen to lack digits).
        alphabet = max(alphabet, 64)
    if len(key) * math.log2(max(alphabet, 2)) < KEY_BITS:
        return f"too short or too few kinds of characters for {KEY_BITS // 8} random bytes"
    # A random key rarely repeats a run of three characters; a pattern ("abcabc...",
    # "aaaa...") repeats almost all of them.
    trigrams = [key[i : i + 3] for i in range(len(key) - 2)]
    if len(set(trigrams)) < 0.75 * len(trigrams):
        return "too repetitive to be random"
    return None
