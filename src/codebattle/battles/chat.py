"""Match chat: two channels that never mix. Players talk in "players" (spectators may read
it); spectators talk in "spectators", which players never see during the game (no hints
from the crowd). At most 500 characters a message; moderators delete messages and mute
users."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from codebattle.accounts.models import User
from codebattle.battles.models import ChatMessage
from codebattle.errors import UserError
from codebattle.text import printable

MAX_CHARS = 500
PLAYERS, SPECTATORS = "players", "spectators"
MODERATORS = ("moderator", "operator", "admin")
HISTORY = 50  # messages sent to a client when it connects


def visible_channels(role: str) -> tuple[str, ...]:
    return (PLAYERS,) if role == "player" else (PLAYERS, SPECTATORS)


def check_text(text: object) -> str:
    """A chat message or a room announcement, cleaned (text.printable), or a 422."""
    if not isinstance(text, str):
        raise UserError(422, "chat_empty")
    cleaned = printable(text, newlines=True)
    if len(cleaned) > MAX_CHARS:
        raise UserError(422, "chat_too_long", limit=MAX_CHARS)
    if not cleaned:
        raise UserError(422, "chat_empty")
    return cleaned


def is_muted(user: User, now: datetime | None = None) -> bool:
    return user.muted_until is not None and user.muted_until > (now or datetime.now(UTC))


async def post(
    session: AsyncSession, match_id: int, user: User, channel: str, text: object
) -> dict[str, Any]:
    checked = check_text(text)
    fresh = await session.get(User, user.id, populate_existing=True)
    if fresh is None or is_muted(fresh):
        raise UserError(403, "muted")
    message = ChatMessage(
        match_id=match_id, channel=channel, user_id=user.id, text=checked, at=time.time()
    )
    session.add(message)
    await session.commit()
    return message_json(message, user.nickname)


def message_json(message: ChatMessage, nickname: str) -> dict[str, Any]:
    return {
        "type": "chat",
        "id": message.id,
        "channel": message.channel,
        "user": message.user_id,
        "nickname": nickname,
        "text": message.text,
        "at": message.at,
    }


async def history(
    session: AsyncSession, match_id: int, channels: tuple[str, ...]
) -> list[dict[str, Any]]:
    rows = (
        await session.execute(
            select(ChatMessage, User.nickname)
            .join(User, User.id == ChatMessage.user_id)
            .where(
                ChatMessage.match_id == match_id,
                ChatMessage.channel.in_(channels),
                ChatMessage.deleted.is_(False),
            )
            .order_by(ChatMessage.id.desc())
            .limit(HISTORY)
        )
    ).all()
    return [message_json(m, nickname) for m, nickname in reversed(rows)]


def require_moderator(user: User) -> None:
    if user.role not in MODERATORS:
        raise UserError(403, "moderators_only")


async def delete(
    session: AsyncSession, moderator: User, match_id: int, message_id: int
) -> ChatMessage:
    """A moderator removes a message of this match's chat."""
    require_moderator(moderator)
    message = await session.get(ChatMessage, message_id)
    if message is None or message.match_id != match_id:
        raise UserError(404, "not_found")
    message.deleted = True
    await session.commit()
    return message


async def mute(session: AsyncSession, moderator: User, user_id: int, minutes: int) -> User:
    require_moderator(moderator)
    user = await session.get(User, user_id)
    if user is None:
        raise UserError(404, "not_found")
    if not 0 <= minutes <= 60 * 24 * 30:
        raise UserError(422, "bad_request")
    user.muted_until = datetime.now(UTC) + timedelta(minutes=minutes) if minutes else None
    await session.commit()
    return user
