"""Progress as stored: ratings and their changes, seasons, the points ledger."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Float,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from codebattle.db.base import Base, UTCDateTime, utcnow


class PlayerRating(Base):
    __tablename__ = "ratings"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    mu: Mapped[float] = mapped_column(Float)
    sigma: Mapped[float] = mapped_column(Float)
    display: Mapped[int] = mapped_column(Integer, index=True)
    games: Mapped[int] = mapped_column(Integer, default=0)


class RatingChange(Base):
    """One rated game's change for one player, with the reason shown next to it."""

    __tablename__ = "rating_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    match_id: Mapped[int] = mapped_column(ForeignKey("matches.id", ondelete="CASCADE"))
    before: Mapped[int] = mapped_column(Integer)
    after: Mapped[int] = mapped_column(Integer)
    mu: Mapped[float] = mapped_column(Float)
    sigma: Mapped[float] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# ---- Seasons (progress/seasons.py) -------------------------------------------------------


class Season(Base):
    """A season: from `starts_at` to `ends_at`; the next begins where it ends. Once it is
    over its final table is written (`archived_at`, never recomputed) and its rewards
    granted (`rewarded_at`), by the season-end job (rewards/season_end.py)."""

    __tablename__ = "seasons"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[int] = mapped_column(Integer, unique=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    rewarded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class SeasonRating(Base):
    """A player's rating in one season: a soft reset of the all-time rating at their first
    rated game of the season, moved by every later change exactly as the all-time one."""

    __tablename__ = "season_ratings"

    season_id: Mapped[int] = mapped_column(
        ForeignKey("seasons.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    mu: Mapped[float] = mapped_column(Float)
    sigma: Mapped[float] = mapped_column(Float)
    display: Mapped[int] = mapped_column(Integer, index=True)
    games: Mapped[int] = mapped_column(Integer, default=0)
    # Rated games per language this season ({"python": 3, ...}): the ranking's filter.
    languages: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SeasonStanding(Base):
    """One line of a past season's final table, written once when the season ended."""

    __tablename__ = "season_standings"

    season_id: Mapped[int] = mapped_column(
        ForeignKey("seasons.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    rank: Mapped[int] = mapped_column(Integer)
    display: Mapped[int] = mapped_column(Integer)
    tier: Mapped[str] = mapped_column(String(24))
    games: Mapped[int] = mapped_column(Integer)
    languages: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)


# ---- The points ledger (progress/points.py) ----------------------------------------------


class PointAccount(Base):
    """An account of the ledger: a user's spendable points ("user", never below zero: the
    database refuses it too), what a user owes after a reversal took more than they had
    ("owed", zero or below; earnings pay it back first), or one of the system's accounts
    ("system": where points come from and go to: "earnings", "shop", "giftcards").
    `balance` is a cache of the sum of the account's entries (`points verify` checks it)."""

    __tablename__ = "point_accounts"
    __table_args__ = (
        UniqueConstraint("code", name="uq_point_accounts_code"),
        CheckConstraint("kind != 'user' OR balance >= 0", name="user_nonneg"),
        CheckConstraint("kind != 'owed' OR balance <= 0", name="owed_nonpos"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40))  # "user:12", "owed:12", "system:shop"
    kind: Mapped[str] = mapped_column(String(8))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True, index=True)
    balance: Mapped[int] = mapped_column(BigInteger, default=0)


class PointTransaction(Base):
    """One movement of points: balanced entries (they sum to zero), a reason, and an
    idempotency key (the same key twice is one transaction). Never updated nor deleted
    (triggers, migration 0020); a mistake is undone by a compensating transaction that
    names the one it `reverses` (at most one each)."""

    __tablename__ = "point_transactions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    reason: Mapped[str] = mapped_column(String(32), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True, index=True)
    match_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    reverses_id: Mapped[int | None] = mapped_column(
        ForeignKey("point_transactions.id"), nullable=True, unique=True
    )
    params: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class PointEntry(Base):
    __tablename__ = "point_entries"
    __table_args__ = (CheckConstraint("amount != 0", name="nonzero"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("point_transactions.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("point_accounts.id"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)


class PointDaily(Base):
    """Points a user earned by one rule on one day (PLAN_TIMEZONE): the daily cap, taken
    by a conditional UPDATE so that two games ending at once cannot both pass it."""

    __tablename__ = "point_daily"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    rule: Mapped[str] = mapped_column(String(32), primary_key=True)
    amount: Mapped[int] = mapped_column(Integer, default=0)
