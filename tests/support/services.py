"""A stand-in for the app's services in tests that call the battle and room layers
directly: the database, the settings and an in-process pub/sub, no background tasks."""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any

from codebattle.config import Settings
from codebattle.db.session import Database
from codebattle.realtime.pubsub import MemoryPubSub
from codebattle.services import blob_store
from codebattle.storage import BlobStore


class FakeServices:
    """What the battle and room layers use of the services. A task they start (the AI's
    play) is closed at once, never run: the test drives every move itself."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings
        self.pubsub = MemoryPubSub()
        self.logsink = KeptLogs()
        self.blobs: BlobStore = blob_store(settings)

    def spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        coroutine.close()


class KeptLogs:
    """The log seam's `emit`, kept in a list (the seam itself is tested in tests/logsink)."""

    def __init__(self) -> None:
        self.records: list[tuple[str, str, dict[str, Any]]] = []

    def emit(self, index: str, doc_id: str, body: dict[str, Any]) -> None:
        self.records.append((index, doc_id, body))
