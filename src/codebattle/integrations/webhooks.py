"""Operators' alerts out to chat: thin clients to a Slack incoming webhook and a Discord
webhook. Each send makes one POST and says what happened: SENT, RETRY (with how long the
service asked us to wait, on 429) or FAILED for good (the webhook was deleted, the payload
refused). Nothing here sleeps or retries: the delivery loop (ops/alerts.py) schedules the
next try, so no request path ever waits on a chat service.

A webhook's URL carries its token: it is never logged, put in an error, or shown by repr.
Errors are short codes ("timeout", "http_404", ...)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

import httpx

from codebattle.config import Settings

SLACK, DISCORD = "slack", "discord"
CHANNELS = (SLACK, DISCORD)
# Statuses worth another try later; any other non-success is permanent (400 a payload the
# service refuses, 401/403/404/410 a webhook revoked, deleted or archived).
_RETRY_STATUSES = frozenset({408, 409, 425, 429, 500, 502, 503, 504})
_SAFE_WORD = re.compile(r"[A-Za-z0-9_ .-]{1,40}")
_DISCORD_BLUE = 0x3B82F6
_DISCORD_RED = 0xDC2626
# The services' limits (Slack: 3000 characters a section; Discord: 2000 content, 256 title,
# 4096 description).
_SLACK_SECTION = 2900
_DISCORD_CONTENT, _DISCORD_TITLE, _DISCORD_DESCRIPTION = 1900, 250, 4000


@dataclass(frozen=True)
class Message:
    """One chat message: a one-line title, a body (plain text, a few lines), the dashboard
    link, when it happened, and whether it is urgent (red in Discord)."""

    title: str
    body: str
    link: str
    at: datetime
    urgent: bool = False


@dataclass(frozen=True)
class Outcome:
    """What one send did. `retry_after` (seconds) is set when the service asked for a wait
    (429); `error` is a short code safe to log and store."""

    status: Literal["sent", "retry", "failed"]
    retry_after: float | None = None
    error: str = ""

    @classmethod
    def sent(cls) -> Outcome:
        return cls("sent")

    @classmethod
    def retry(cls, error: str, after: float | None = None) -> Outcome:
        return cls("retry", after, error)

    @classmethod
    def failed(cls, error: str) -> Outcome:
        return cls("failed", None, error)


class Webhook(Protocol):
    channel: str

    async def send(self, message: Message) -> Outcome: ...

    async def aclose(self) -> None: ...


@dataclass(repr=False)
class _Client:
    """The HTTP part both services share: one POST with the whole attempt bounded by
    `timeout`; transport failures become short codes."""

    url: str
    timeout: float
    transport: httpx.AsyncBaseTransport | None = None
    _http: httpx.AsyncClient = field(init=False)

    def __post_init__(self) -> None:
        self._http = httpx.AsyncClient(
            timeout=httpx.Timeout(self.timeout), follow_redirects=False, transport=self.transport
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(url=<secret>)"

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _post(self, url: str, payload: dict[str, Any]) -> httpx.Response | Outcome:
        try:
            async with asyncio.timeout(self.timeout):
                return await self._http.post(url, json=payload)
        except (TimeoutError, httpx.TimeoutException):
            return Outcome.retry("timeout")
        except httpx.ConnectError:
            return Outcome.retry("connect")
        except httpx.HTTPError:
            return Outcome.retry("transport")


class SlackWebhook(_Client):
    """A Slack incoming webhook: `{"text", "blocks"}`; success is 200 with the body "ok"."""

    channel = SLACK

    async def send(self, message: Message) -> Outcome:
        answer = await self._post(self.url, slack_payload(message))
        if isinstance(answer, Outcome):
            return answer
        if answer.status_code == 200 and answer.text.strip() == "ok":
            return Outcome.sent()
        return _failure(answer, _slack_code(answer))


class DiscordWebhook(_Client):
    """A Discord webhook: `{"content", "embeds", "allowed_mentions"}` with `?wait=true` (so
    a refused message is an error, not a silent 204); any 2xx is success."""

    channel = DISCORD

    async def send(self, message: Message) -> Outcome:
        separator = "&" if "?" in self.url else "?"
        answer = await self._post(f"{self.url}{separator}wait=true", discord_payload(message))
        if isinstance(answer, Outcome):
            return answer
        if 200 <= answer.status_code < 300:
            return Outcome.sent()
        return _failure(answer, _discord_code(answer))


def _failure(response: httpx.Response, code: str) -> Outcome:
    status = response.status_code
    error = f"http_{status}" + (f" {code}" if code else "")
    if status == 429:
        return Outcome.retry(error, retry_after(response))
    if status in _RETRY_STATUSES:
        return Outcome.retry(error)
    return Outcome.failed(error)


def retry_after(response: httpx.Response) -> float | None:
    """Seconds to wait, from Discord's JSON `retry_after` (seconds, may be fractional) or
    the Retry-After header (seconds); None when neither is readable."""
    with contextlib.suppress(ValueError):
        body = json.loads(response.text)
        if isinstance(body, dict):
            value = body.get("retry_after")
            if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
                return float(value)
    header = response.headers.get("Retry-After")
    if header is not None:
        with contextlib.suppress(ValueError):
            seconds = float(header)
            if seconds >= 0:
                return seconds
    return None


def _slack_code(response: httpx.Response) -> str:
    """Slack answers errors in plain text ("no_service", "invalid_payload")."""
    text = response.text.strip()
    return text if _SAFE_WORD.fullmatch(text) else ""


def _discord_code(response: httpx.Response) -> str:
    """Discord answers errors as JSON with a numeric `code` ("10015": unknown webhook)."""
    with contextlib.suppress(ValueError):
        body = json.loads(response.text)
        if isinstance(body, dict) and isinstance(body.get("code"), int):
            return str(body["code"])
    return ""


def _slack_escape(text: str) -> str:
    # Slack's mrkdwn: only these three are control characters.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_payload(message: Message) -> dict[str, Any]:
    """`text` is the notification's fallback; one mrkdwn section carries the same with
    the link."""
    title, body = _slack_escape(message.title), _slack_escape(message.body)
    section = f"*{title}*\n{body}".strip()[:_SLACK_SECTION]
    link = f"<{_slack_escape(message.link)}|Open the dashboard · 대시보드 열기>"
    return {
        "text": f"{message.title}\n{message.body}".strip()[:_SLACK_SECTION],
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": f"{section}\n{link}"}}],
    }


def discord_payload(message: Message) -> dict[str, Any]:
    """`content` is the notification line; the embed has the details and the link. No
    mention is ever parsed (a nickname saying @everyone pings nobody)."""
    return {
        "content": message.title[:_DISCORD_CONTENT],
        "embeds": [
            {
                "title": message.title[:_DISCORD_TITLE],
                "description": message.body[:_DISCORD_DESCRIPTION],
                "url": message.link,
                "color": _DISCORD_RED if message.urgent else _DISCORD_BLUE,
                "timestamp": message.at.isoformat(),
            }
        ],
        "allowed_mentions": {"parse": []},
    }


def configured(settings: Settings) -> list[str]:
    """The channels that have a webhook URL, in CHANNELS order."""
    return [channel for channel in CHANNELS if _url(settings, channel)]


def _url(settings: Settings, channel: str) -> str:
    secret = settings.SLACK_WEBHOOK_URL if channel == SLACK else settings.DISCORD_WEBHOOK_URL
    return secret.get_secret_value() if secret is not None else ""


def clients_for(settings: Settings) -> dict[str, Webhook]:
    """A client per configured channel (the caller closes them)."""
    timeout = settings.ALERT_TIMEOUT_SECONDS
    clients: dict[str, Webhook] = {}
    if url := _url(settings, SLACK):
        clients[SLACK] = SlackWebhook(url, timeout)
    if url := _url(settings, DISCORD):
        clients[DISCORD] = DiscordWebhook(url, timeout)
    return clients


ClientFactory = Callable[[Settings], dict[str, Webhook]]
