"""Rewards as stored: achievements earned, items owned and worn, gift-card exchanges."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from codebattle.db.base import Base, UTCDateTime, utcnow


class UserAchievement(Base):
    """An achievement a user earned (the catalogue is data: rewards/data/achievements.toml).
    One row per user and achievement: awarding it again does nothing."""

    __tablename__ = "user_achievements"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    code: Mapped[str] = mapped_column(String(48), primary_key=True)
    awarded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    source: Mapped[str] = mapped_column(String(64), default="")  # "match:12", "submission:3"


class AchievementCursor(Base):
    """How far the achievement pass has read each event stream ("matches", "submissions"):
    the pass resumes there after a restart; replaying from 0 awards nothing twice."""

    __tablename__ = "achievement_cursors"

    stream: Mapped[str] = mapped_column(String(32), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


class OwnedItem(Base):
    """A shop item a user bought (the catalogue: rewards/data/shop.toml)."""

    __tablename__ = "owned_items"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    item: Mapped[str] = mapped_column(String(48), primary_key=True)
    bought_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    transaction_id: Mapped[int | None] = mapped_column(Integer, nullable=True)


class EquippedItem(Base):
    """What a user wears in each slot ("avatar", "frame", "theme", "name_color")."""

    __tablename__ = "equipped_items"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    slot: Mapped[str] = mapped_column(String(16), primary_key=True)
    item: Mapped[str] = mapped_column(String(48))


class ItemStock(Base):
    """How many of a limited item were sold: a conditional UPDATE takes one, so a limited
    item is never oversold."""

    __tablename__ = "item_stock"

    item: Mapped[str] = mapped_column(String(48), primary_key=True)
    sold: Mapped[int] = mapped_column(Integer, default=0)


class GiftExchange(Base):
    """Points exchanged for a mobile gift card. States: "pending" (awaiting an operator),
    "approved" (to be issued), "issuing" (sent to the provider, answer not yet known),
    "issued", "rejected" (by an operator: points given back), "failed" (the provider
    refused: points given back), "cancelled" (cancelled at the provider: points back).
    `tr_id` is our idempotency key at the provider: a retried issue never makes two cards.
    The phone number is kept only until the card is sent or refused."""

    __tablename__ = "gift_exchanges"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    goods_code: Mapped[str] = mapped_column(String(32))
    won: Mapped[int] = mapped_column(Integer)
    points: Mapped[int] = mapped_column(Integer)
    month: Mapped[str] = mapped_column(String(7), index=True)  # "2026-12" in PLAN_TIMEZONE
    tr_id: Mapped[str] = mapped_column(String(40), unique=True)
    request_key: Mapped[str] = mapped_column(String(80), unique=True)  # the form's, per user
    state: Mapped[str] = mapped_column(String(12), index=True)
    needs_approval: Mapped[bool] = mapped_column(Boolean, default=False)
    approval_reason: Mapped[str] = mapped_column(String(32), default="")  # "first", "over"
    phone: Mapped[str | None] = mapped_column(String(20), nullable=True)
    phone_consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    phone_erase_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    hold_txn_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    refund_txn_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    decision_note: Mapped[str] = mapped_column(String(1000), default="")
    tries: Mapped[int] = mapped_column(Integer, default=0)
    next_try_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    order_no: Mapped[str | None] = mapped_column(String(64), nullable=True)
    provider_code: Mapped[str | None] = mapped_column(String(16), nullable=True)
    provider_message: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class GiftMonth(Base):
    """Won a user has exchanged (or has pending) in one month: the monthly cap, taken by a
    conditional UPDATE in the exchange's transaction; a refused exchange gives it back."""

    __tablename__ = "gift_months"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    won: Mapped[int] = mapped_column(Integer, default=0)
