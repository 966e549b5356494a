"""The Slack and Discord webhook clients against a local receiver (127.0.0.1 only): the
JSON each service documents, what counts as sent, a retry (with the wait a 429 asks for),
or a permanent failure, and the webhook URL (a secret) kept out of every error and repr."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from codebattle.integrations import webhooks
from codebattle.integrations.webhooks import DiscordWebhook, Message, Outcome, SlackWebhook
from tests.support.fake_webhooks import FakeWebhooks
from tests.support.site import settings_for

AT = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)
MESSAGE = Message(
    title="High fair-play flag #12 · 부정행위 의심 플래그(높음) #12",
    body="Player #7 <@everyone> & co.\n플레이어 #7",
    link="https://codebattle.example/ops/flags/12",
    at=AT,
    urgent=True,
)


@pytest.fixture
def fake() -> Iterator[FakeWebhooks]:
    with FakeWebhooks(retry_after=7.5, hang_seconds=3.0) as server:
        yield server


async def send(client: webhooks.Webhook, message: Message = MESSAGE) -> Outcome:
    try:
        return await client.send(message)
    finally:
        await client.aclose()


async def test_slack_gets_text_and_a_mrkdwn_section_with_the_link(fake: FakeWebhooks) -> None:
    outcome = await send(SlackWebhook(fake.slack_url, 2.0))
    assert outcome == Outcome.sent()
    [request] = fake.requests("slack")
    body = request.body
    assert body["text"].startswith("High fair-play flag #12")
    [section] = body["blocks"]
    assert section["type"] == "section" and section["text"]["type"] == "mrkdwn"
    text = section["text"]["text"]
    assert text.startswith("*High fair-play flag #12")
    assert "&lt;@everyone&gt; &amp; co." in text  # mrkdwn's control characters escaped
    assert "<https://codebattle.example/ops/flags/12|" in text


async def test_discord_gets_content_an_embed_and_no_mentions(fake: FakeWebhooks) -> None:
    outcome = await send(DiscordWebhook(fake.discord_url, 2.0))
    assert outcome.status == "sent"
    [request] = fake.requests("discord")
    assert request.query == {"wait": ["true"]}
    body = request.body
    assert body["content"] == MESSAGE.title
    assert body["allowed_mentions"] == {"parse": []}
    [embed] = body["embeds"]
    assert embed["title"] == MESSAGE.title and embed["description"] == MESSAGE.body
    assert embed["url"] == MESSAGE.link and isinstance(embed["color"], int)
    assert datetime.fromisoformat(embed["timestamp"]) == AT


@pytest.mark.parametrize("channel", ["slack", "discord"])
async def test_a_429_is_a_retry_after_the_wait_asked(fake: FakeWebhooks, channel: str) -> None:
    fake.queue(channel, "429")
    client = SlackWebhook(fake.slack_url, 2.0) if channel == "slack" else None
    client = client or DiscordWebhook(fake.discord_url, 2.0)
    outcome = await send(client)
    assert outcome.status == "retry" and outcome.retry_after == 7.5
    assert outcome.error.startswith("http_429")


@pytest.mark.parametrize(
    ("mode", "status", "error"),
    [
        ("500", "retry", "http_500"),
        ("404", "failed", "http_404"),
        ("400", "failed", "http_400"),
    ],
)
@pytest.mark.parametrize("channel", ["slack", "discord"])
async def test_server_errors_retry_and_a_deleted_webhook_fails(
    fake: FakeWebhooks, channel: str, mode: str, status: str, error: str
) -> None:
    fake.queue(channel, mode)  # type: ignore[arg-type]
    url = fake.slack_url if channel == "slack" else fake.discord_url
    client: webhooks.Webhook = (SlackWebhook if channel == "slack" else DiscordWebhook)(url, 2.0)
    outcome = await send(client)
    assert outcome.status == status and outcome.error.startswith(error)
    assert outcome.retry_after is None
    assert "secret-token" not in outcome.error and "127.0.0.1" not in outcome.error


async def test_slack_says_the_code_of_its_refusal(fake: FakeWebhooks) -> None:
    fake.queue("slack", "404")
    assert (await send(SlackWebhook(fake.slack_url, 2.0))).error == "http_404 no_service"
    fake.queue("discord", "404")
    assert (await send(DiscordWebhook(fake.discord_url, 2.0))).error == "http_404 10015"


async def test_a_hanging_webhook_is_a_timeout_to_retry(fake: FakeWebhooks) -> None:
    fake.queue("discord", "hang")
    outcome = await send(DiscordWebhook(fake.discord_url, 0.3))
    assert outcome == Outcome.retry("timeout")


async def test_a_webhook_nobody_listens_on_is_a_connect_retry() -> None:
    with FakeWebhooks() as gone:
        url = gone.slack_url
    outcome = await send(SlackWebhook(url, 1.0))
    assert outcome == Outcome.retry("connect")


def test_the_url_is_never_shown(tmp_path: Path) -> None:
    settings = settings_for(
        tmp_path,
        SLACK_WEBHOOK_URL="https://hooks.slack.com/services/T1/B1/slack-secret-token",
        DISCORD_WEBHOOK_URL="https://discord.com/api/webhooks/1/discord-secret-token",
    )
    clients = webhooks.clients_for(settings)
    assert set(clients) == {"slack", "discord"}
    for client in clients.values():
        assert "secret-token" not in repr(client)
    assert "secret-token" not in repr(settings)


def test_only_configured_channels_get_a_client(tmp_path: Path) -> None:
    assert webhooks.clients_for(settings_for(tmp_path)) == {}
    settings = settings_for(tmp_path, DISCORD_WEBHOOK_URL="https://discord.com/api/webhooks/1/t")
    assert webhooks.configured(settings) == ["discord"]


def test_long_texts_are_cut_to_the_services_limits() -> None:
    long = Message(title="t" * 5000, body="b" * 9000, link="https://x/ops", at=AT)
    discord = webhooks.discord_payload(long)
    assert len(discord["content"]) <= 2000
    assert len(discord["embeds"][0]["title"]) <= 256
    assert len(discord["embeds"][0]["description"]) <= 4096
    slack = webhooks.slack_payload(long)
    assert len(slack["text"]) <= 3000 and len(slack["blocks"][0]["text"]["text"]) <= 3000
