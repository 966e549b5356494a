"""What every log sink does: write records in bulk, find them again by exact field values,
count them. The table and OpenSearch implement it; the writer (`writer.LogWriter`) is what
the app calls, and it is the only one that writes.

A record is (index, doc_id, body). `doc_id` is chosen by the caller so that writing the same
event twice (a retry, a replay after a crash) is one record, not two. Bodies are JSON
objects with an `at` (ISO 8601, UTC) the writer fills in when missing, which is what
`sort="-at"` orders by."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

SUBMISSION_LOG = "submission-log"
PASTE_EVENTS = "paste-events"
APPEALS = "appeals"
INDICES = (SUBMISSION_LOG, PASTE_EVENTS, APPEALS)

# The table's columns (logsink/models.py): longer ids are refused at `emit`, not at a flush.
MAX_DOC_ID = 64

Sort = Literal["-at", "at"]


@dataclass(frozen=True)
class Record:
    index: str
    doc_id: str
    body: dict[str, Any]


@dataclass
class Outcome:
    """What became of a batch that reached the sink. `retry`: records refused for now
    (OpenSearch's 429 or 5xx per item), tried again by the writer; `rejected`: records
    refused for good (a body its mapping cannot take), counted as dropped."""

    retry: list[Record] = field(default_factory=list)
    rejected: int = 0


Filters = dict[str, Any]
"""Field -> value: a record matches when each field equals its value (a list: any of its
values). Fields are top-level keys of the bodies, compared exactly (keywords, numbers,
booleans), never as analysed text."""


class Sink(Protocol):
    async def start(self) -> None:
        """Prepare the store (OpenSearch: put the index templates); may raise, retried."""

    async def write_batch(self, records: list[Record]) -> Outcome:
        """Write the records at once. Raises when the store cannot be reached (the
        writer retries the whole batch)."""

    async def search(
        self, index: str, filters: Filters, limit: int = 50, sort: Sort = "-at"
    ) -> list[dict[str, Any]]:
        """The bodies of the matching records, newest first by default."""

    async def count(self, index: str, filters: Filters) -> int: ...

    async def refresh(self, index: str) -> None:
        """Make what was written searchable now (OpenSearch: within a second anyway)."""

    async def close(self) -> None: ...
