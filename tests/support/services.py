"""A stand-in for the app's services in tests that call the battle and room layers
directly: the database, the settings and an in-process pub/sub, no background tasks."""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any

from codebattle.config import Settings
from codebattle.db.session import Database
from codebattle.realtime.pubsub import MemoryPubSub


class FakeServices:
    """What the battle and room layers use of the services. A task they start (the AI's
    play) is closed at once, never run: the test drives every move itself."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings
        self.pubsub = MemoryPubSub()

    def spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        coroutine.close()
