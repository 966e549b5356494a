"""Alerts on SQLite and PostgreSQL, delivered to a local Slack and Discord receiver
(127.0.0.1): raised once per key, one delivery per configured channel, sent with the
documented JSON, tried again with doubling backoff (time injected, never slept), a 429's
wait honoured, a deleted webhook failed for good, a summary when many are due at once,
and each alert received exactly once when two instances deliver at the same moment."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from codebattle.config import Settings
from codebattle.db.session import Database
from codebattle.integrations import webhooks
from codebattle.ops import alerts
from codebattle.ops.models import DUE, FAILED, SENT, Alert, AlertDelivery
from tests.support.fake_webhooks import FakeWebhooks
from tests.support.site import settings_for

T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
BASE = "https://codebattle.example"


async def connected(url: str) -> Database:
    """A Database that has connected once: SQLite sets its pragmas (WAL) on a connection's
    first use, before its busy timeout, so two engines' first connections racing would
    test that rather than the claims."""
    db = Database(url)
    await db.ping()
    return db


@pytest.fixture
def fake() -> Iterator[FakeWebhooks]:
    with FakeWebhooks(retry_after=42.0, hang_seconds=3.0) as server:
        yield server


def settings(tmp_path: Path, fake: FakeWebhooks, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "SLACK_WEBHOOK_URL": fake.slack_url,
        "DISCORD_WEBHOOK_URL": fake.discord_url,
        "BASE_URL": BASE,
        "ALERT_TIMEOUT_SECONDS": 2.0,
    }
    values.update(overrides)
    return settings_for(tmp_path, **values)


async def raise_flags(db: Database, s: Settings, *ids: int, now: datetime = T0) -> list[bool]:
    async with db.session() as session:
        new = [
            await alerts.raise_alert(
                session,
                f"flag:{i}:high",
                alerts.FLAG_HIGH,
                {"flag_id": i, "user_id": 7, "score": 0.93, "match_id": 3},
                f"/ops/flags/{i}",
                s,
                now,
            )  # fmt: skip
            for i in ids
        ]
        await session.commit()
    return new


async def deliver(db: Database, s: Settings, now: datetime, instance: str = "a") -> int:
    return await alerts.deliver_due(db, s, webhooks.clients_for, instance, now)


async def deliveries(db: Database) -> dict[str, AlertDelivery]:
    async with db.reading() as session:
        rows = await session.scalars(select(AlertDelivery).order_by(AlertDelivery.id))
        return {f"{d.alert_id}:{d.channel}": d for d in rows}


async def test_an_alert_is_raised_once_with_a_delivery_per_channel(
    db: Database, tmp_path: Path, fake: FakeWebhooks
) -> None:
    s = settings(tmp_path, fake)
    assert await raise_flags(db, s, 12) == [True]
    assert await raise_flags(db, s, 12, now=T0 + timedelta(minutes=5)) == [False]
    async with db.reading() as session:
        assert await session.scalar(select(func.count()).select_from(Alert)) == 1
    rows = await deliveries(db)
    assert sorted(d.channel for d in rows.values()) == ["discord", "slack"]
    assert all(d.status == DUE and d.next_try_at == T0 for d in rows.values())

    assert await deliver(db, s, T0) == 2
    assert await deliver(db, s, T0 + timedelta(hours=1)) == 0  # sent once, not again
    [slack] = fake.requests("slack")
    [discord] = fake.requests("discord")
    assert "High fair-play flag #12" in slack.body["text"]
    assert f"<{BASE}/ops/flags/12|" in slack.body["blocks"][0]["text"]["text"]
    assert discord.body["embeds"][0]["url"] == f"{BASE}/ops/flags/12"
    assert "부정행위" in discord.body["content"]  # Korean in the same message
    assert all(d.status == SENT and d.sent_at == T0 for d in (await deliveries(db)).values())


async def test_without_webhooks_an_alert_is_kept_and_nothing_is_sent(
    db: Database, tmp_path: Path
) -> None:
    s = settings_for(tmp_path)
    assert await raise_flags(db, s, 1) == [True]
    assert await deliveries(db) == {}
    assert await alerts.deliver_due(db, s, webhooks.clients_for, "a", T0) == 0


async def test_a_failed_try_waits_a_doubling_backoff(
    db: Database, tmp_path: Path, fake: FakeWebhooks
) -> None:
    s = settings(tmp_path, fake, DISCORD_WEBHOOK_URL=None)
    await raise_flags(db, s, 5)
    fake.queue("slack", "500", "500")
    assert await deliver(db, s, T0) == 0
    [row] = (await deliveries(db)).values()
    assert row.status == DUE and row.tries == 1 and row.last_error == "http_500 rollup_error"
    assert row.next_try_at == T0 + timedelta(seconds=5)

    assert await deliver(db, s, T0 + timedelta(seconds=4)) == 0  # not yet
    assert len(fake.requests()) == 1
    assert await deliver(db, s, T0 + timedelta(seconds=5)) == 0  # the second 500
    [row] = (await deliveries(db)).values()
    assert row.tries == 2 and row.next_try_at == T0 + timedelta(seconds=15)  # 5 s + 10 s
    assert await deliver(db, s, T0 + timedelta(seconds=15)) == 1
    [row] = (await deliveries(db)).values()
    assert row.status == SENT and len(fake.requests()) == 3


def test_the_backoff_doubles_to_ten_minutes_and_waits_what_a_429_asks() -> None:
    assert [alerts.backoff(n) for n in (1, 2, 3, 4)] == [5, 10, 20, 40]
    assert alerts.backoff(8) == 600 and alerts.backoff(30) == 600
    assert alerts.backoff(1, retry_after=42.0) == 42.0
    assert alerts.backoff(4, retry_after=1.0) == 40


async def test_a_429_holds_the_channel_for_the_wait_it_asks(
    db: Database, tmp_path: Path, fake: FakeWebhooks
) -> None:
    s = settings(tmp_path, fake, SLACK_WEBHOOK_URL=None)
    await raise_flags(db, s, 1, 2, 3)
    fake.queue("discord", "ok", "429")
    assert await deliver(db, s, T0) == 1
    assert len(fake.requests("discord")) == 2  # the third was not tried after the 429
    rows = list((await deliveries(db)).values())
    assert [r.status for r in rows] == [SENT, DUE, DUE]
    assert rows[1].tries == 1 and rows[1].next_try_at == T0 + timedelta(seconds=42)
    assert rows[2].tries == 0 and rows[2].next_try_at == T0 + timedelta(seconds=42)

    assert await deliver(db, s, T0 + timedelta(seconds=41)) == 0
    assert len(fake.requests("discord")) == 2
    assert await deliver(db, s, T0 + timedelta(seconds=42)) == 2
    assert len(fake.requests("discord")) == 4


async def test_a_deleted_webhook_fails_at_once_and_the_fleet_page_says_so(
    db: Database, tmp_path: Path, fake: FakeWebhooks
) -> None:
    s = settings(tmp_path, fake)
    await raise_flags(db, s, 1)
    fake.queue("slack", "404")
    assert await deliver(db, s, T0) == 1  # Discord's
    rows = await deliveries(db)
    slack = next(d for d in rows.values() if d.channel == "slack")
    assert slack.status == FAILED and slack.tries == 1 and slack.last_error.startswith("http_404")
    assert "secret-token" not in slack.last_error
    assert await deliver(db, s, T0 + timedelta(days=1)) == 0
    assert len(fake.requests("slack")) == 1  # never tried again

    async with db.reading() as session:
        health = {h["channel"]: h for h in await alerts.channel_health(session, s, T0)}
    assert health["slack"]["configured"] and health["slack"]["failing"]
    assert health["slack"]["last_error"].startswith("http_404")
    assert health["slack"]["last_error_at"] == T0 and health["slack"]["failed_day"] == 1
    assert health["slack"]["last_sent_at"] is None
    assert not health["discord"]["failing"] and health["discord"]["last_sent_at"] == T0
    assert health["discord"]["due"] == 0 and health["discord"]["failed_day"] == 0


async def test_a_delivery_fails_after_alert_tries(
    db: Database, tmp_path: Path, fake: FakeWebhooks
) -> None:
    s = settings(tmp_path, fake, DISCORD_WEBHOOK_URL=None, ALERT_TRIES=3)
    await raise_flags(db, s, 1)
    fake.set_default("slack", "500")
    now = T0
    for _ in range(3):
        await deliver(db, s, now)
        now += timedelta(minutes=10)
    [row] = (await deliveries(db)).values()
    assert row.status == FAILED and row.tries == 3
    await deliver(db, s, now + timedelta(days=1))
    assert len(fake.requests()) == 3


async def test_a_hanging_webhook_times_out_and_is_tried_again(
    db: Database, tmp_path: Path, fake: FakeWebhooks
) -> None:
    s = settings(tmp_path, fake, DISCORD_WEBHOOK_URL=None, ALERT_TIMEOUT_SECONDS=0.3)
    await raise_flags(db, s, 1)
    fake.queue("slack", "hang")
    assert await deliver(db, s, T0) == 0
    [row] = (await deliveries(db)).values()
    assert row.status == DUE and row.last_error == "timeout"
    assert await deliver(db, s, T0 + timedelta(seconds=5)) == 1


async def test_many_alerts_at_once_make_one_summary_per_channel(
    db: Database, tmp_path: Path, fake: FakeWebhooks
) -> None:
    s = settings(tmp_path, fake, ALERT_SUMMARY_OVER=2)
    await raise_flags(db, s, 1, 2)
    async with db.session() as session:
        await alerts.raise_alert(
            session, "worker_died:w1:100", alerts.WORKER_DIED,
            {"name": "w1", "languages": ["python"], "started_at": "x", "died_at": "y"},
            "/ops/fleet", s, T0,
        )  # fmt: skip
        await session.commit()
    assert await deliver(db, s, T0) == 6  # three alerts on two channels
    [slack] = fake.requests("slack")
    [discord] = fake.requests("discord")
    assert slack.body["text"].startswith("3 alerts · 알림 3건")
    text = slack.body["blocks"][0]["text"]["text"]
    assert "High fair-play flags · 부정행위 의심(높음): 2" in text
    assert "Judge workers died · 채점 워커 중단: 1" in text
    assert "High fair-play flag #1" in text and f"<{BASE}/ops|" in text
    assert discord.body["embeds"][0]["url"] == f"{BASE}/ops"
    rows = (await deliveries(db)).values()
    assert all(d.status == SENT and d.summary for d in rows)


@pytest.mark.parametrize("many", [False, True], ids=["each", "summary"])
async def test_two_instances_deliver_each_alert_exactly_once(
    database_url: str, tmp_path: Path, fake: FakeWebhooks, many: bool
) -> None:
    """Two instances (their own Database on one PostgreSQL database or one SQLite file)
    deliver at the same moment: the receiver gets each alert once."""
    s = settings(tmp_path, fake, ALERT_SUMMARY_OVER=3)
    first, second = await connected(database_url), await connected(database_url)
    try:
        ids = list(range(1, 9 if many else 4))
        await raise_flags(first, s, *ids)
        sent = await asyncio.gather(
            *(deliver(db, s, T0, name) for db, name in ((first, "a"), (second, "b")))
        )
        assert sum(sent) == 2 * len(ids)
        assert await deliver(second, s, T0 + timedelta(minutes=1), "b") == 0
        for channel in ("slack", "discord"):
            got = fake.requests(channel)
            if many:
                assert len(got) == 1  # one summary
            else:
                texts = sorted(r.body["text"] if channel == "slack" else r.body["content"]
                               for r in got)  # fmt: skip
                assert len(texts) == len(ids) and len(set(texts)) == len(ids)
    finally:
        await first.dispose()
        await second.dispose()


async def test_a_claim_left_by_a_dead_instance_is_taken_once_it_runs_out(
    db: Database, tmp_path: Path, fake: FakeWebhooks, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = settings(tmp_path, fake, DISCORD_WEBHOOK_URL=None)
    await raise_flags(db, s, 1)

    def dead(_: Settings) -> dict[str, webhooks.Webhook]:
        raise SystemExit("died after its claim")

    with pytest.raises(SystemExit):
        await alerts.deliver_due(db, s, dead, "a", T0)
    assert await deliver(db, s, T0 + timedelta(seconds=30), "b") == 0  # still claimed
    later = T0 + timedelta(seconds=alerts.claim_seconds(s))
    assert await deliver(db, s, later, "b") == 1
    assert len(fake.requests()) == 1


def test_each_kind_has_a_message_with_its_link() -> None:
    cases = {
        alerts.FLAG_HIGH: ({"flag_id": 4, "user_id": 2, "score": 0.9}, "/ops/flags/4"),
        alerts.IE_VERDICT: ({"submission_id": 9, "language": "cpp", "problem_id": 1,
                             "message": "sandbox failed"}, "/ops/fleet"),
        alerts.IE_RATE: ({"ie": 3, "judged": 20, "rate": 0.15, "threshold": 0.05}, "/ops/fleet"),
        alerts.WORKER_DIED: ({"name": "w1", "languages": ["python"], "started_at": "a",
                              "died_at": "b"}, "/ops/fleet"),
        alerts.APPEAL_SLA_WARN: ({"appeal_id": 3, "deadline": "first_response",
                                  "due": "2026-12-08 09:00", "hours_left": 5.0},
                                 "/ops/appeals/3"),
        alerts.APPEAL_SLA_LAPSED: ({"appeal_id": 3, "deadline": "decision",
                                    "due": "2026-12-08 09:00"}, "/ops/appeals/3"),
        alerts.GIFT_FAILED: ({"exchange_id": 7, "why": "refused", "code": "E0004"},
                             "/ops/rewards"),
        alerts.NO_WORKER: ({"language": "cpp", "title": "C++17 (g++)", "depth": 3, "taken": 1,
                            "oldest_seconds": 75.2, "last_seen": None}, "/ops/fleet"),
        alerts.NO_WORKER_CLEARED: ({"language": "cpp", "title": "C++17 (g++)", "depth": 0,
                                    "taken": 2, "workers": ["w-cpp-1"]}, "/ops/fleet"),
    }  # fmt: skip
    expected = {
        alerts.FLAG_HIGH: "High fair-play flag #4",
        alerts.IE_VERDICT: "Judge fault (IE) on submission #9",
        alerts.IE_RATE: "IE rate 15.0% over the last hour",
        alerts.WORKER_DIED: "Judge worker w1 died",
        alerts.APPEAL_SLA_WARN: "Appeal #3: first response due in 5.0 h",
        alerts.APPEAL_SLA_LAPSED: "Appeal #3: the decision deadline has lapsed",
        alerts.GIFT_FAILED: "Gift card exchange #7 failed",
        alerts.NO_WORKER: "No live C++17 (g++) worker: 4 job(s) waiting",
        alerts.NO_WORKER_CLEARED: "C++17 (g++) is judged again",
    }
    assert set(cases) == set(alerts.KINDS)
    for kind, (params, link) in cases.items():
        alert = Alert(key=kind, kind=kind, params=params, link=link, created_at=T0)
        message = alerts.message_of(alert, BASE + "/")
        assert message.title.startswith(expected[kind]), message.title
        assert " · " in message.title  # English, then Korean
        assert message.link == BASE + link
