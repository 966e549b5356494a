"""The log seam: `submission-log`, `paste-events` and `appeals` records go through one
writer (`LogWriter.emit`, never blocking a request) to one sink, chosen from the settings:
the `log_records` table by default, OpenSearch when OPENSEARCH_URL is set."""

from __future__ import annotations

from codebattle.config import Settings
from codebattle.db.session import Database
from codebattle.integrations.opensearch import opensearch_client
from codebattle.logsink.opensearch import OpenSearchSink
from codebattle.logsink.sink import (
    APPEALS,
    INDICES,
    PASTE_EVENTS,
    SUBMISSION_LOG,
    Filters,
    Outcome,
    Record,
    Sink,
)
from codebattle.logsink.table import TableSink
from codebattle.logsink.writer import LogWriter

__all__ = [
    "APPEALS",
    "INDICES",
    "PASTE_EVENTS",
    "SUBMISSION_LOG",
    "Filters",
    "LogWriter",
    "OpenSearchSink",
    "Outcome",
    "Record",
    "Sink",
    "TableSink",
    "make_sink",
    "make_writer",
]


def make_sink(settings: Settings, db: Database) -> Sink:
    """OpenSearch when OPENSEARCH_URL is set, else the database's `log_records` table."""
    if settings.OPENSEARCH_URL:
        return OpenSearchSink(opensearch_client(settings))
    return TableSink(db)


def make_writer(settings: Settings, db: Database) -> LogWriter:
    return LogWriter(
        make_sink(settings, db),
        capacity=settings.LOG_SINK_QUEUE,
        batch=settings.LOG_SINK_BATCH,
        tries=settings.LOG_SINK_TRIES,
    )
