"""The rewards' hooks in runtime.py: a gift card that failed raises one operators' alert
(`gift_failed`, linking to the rewards queue), however often it is reported."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from codebattle import runtime
from codebattle.db.session import Database
from codebattle.ops import alerts
from codebattle.ops.models import Alert
from codebattle.rewards.giftcards import Failure
from tests.support.services import FakeServices
from tests.support.site import settings_for


async def test_a_failed_gift_card_raises_one_alert(sqlite_url: str, tmp_path: Path) -> None:
    db = Database(sqlite_url)
    try:
        services = FakeServices(db, settings_for(tmp_path))
        failed = [Failure(exchange_id=7, why="refused", code="E0004")]
        for _ in range(2):  # reported twice (two instances): alerted once
            await runtime.gifts_failed(services, failed)  # type: ignore[arg-type]
        async with db.reading() as session:
            found = list(await session.scalars(select(Alert)))
        assert [(a.key, a.kind, a.link) for a in found] == [
            ("gift:7:failed", alerts.GIFT_FAILED, "/ops/rewards")
        ]
        assert found[0].params == {"exchange_id": 7, "why": "refused", "code": "E0004"}
    finally:
        await db.dispose()
