"""The log sink on OpenSearch (when OPENSEARCH_URL is set): one index per kind of record,
created from index templates with explicit mappings that `start` puts once, records written
with `_bulk` index operations whose `_id` is the record's doc_id (so a record written again
replaces itself rather than adding a second), and read with `bool`/`filter`/`term` queries.

Mappings are explicit so that ids and codes are `keyword` (exact filters, no analysis),
`at` is a `date` (sorting), sizes are `integer`, and free text (a paste's excerpt) is
`text`. A string field no mapping names is a `keyword` too (a dynamic template), so a new
field can be filtered on at once without waiting for a mapping change; such fields are
listed here when they settle."""

from __future__ import annotations

import contextlib
from typing import Any

import structlog
from opensearchpy import AsyncOpenSearch, AuthorizationException, NotFoundError

from codebattle.logsink.sink import (
    APPEALS,
    INDICES,
    PASTE_EVENTS,
    SUBMISSION_LOG,
    Filters,
    Outcome,
    Record,
    Sort,
)

log = structlog.get_logger(__name__)

TEMPLATE_PREFIX = "codebattle-"  # template names: codebattle-submission-log, ...

_KEYWORD = {"type": "keyword", "ignore_above": 256}
_TEXT = {"type": "text"}
_INTEGER = {"type": "integer"}

# Fields every index has: ids of what a record is about, and when it happened.
_COMMON: dict[str, Any] = {
    "at": {"type": "date"},
    "user_id": _KEYWORD,
    "match_id": _KEYWORD,
    "room_id": _KEYWORD,
    "problem_id": _KEYWORD,
    "submission_id": _KEYWORD,
    "event": _KEYWORD,
}

FIELDS: dict[str, dict[str, Any]] = {
    SUBMISSION_LOG: {
        "version_id": _KEYWORD,
        "kind": _KEYWORD,
        "made_at": {"type": "date"},
        "language": _KEYWORD,
        "verdict": _KEYWORD,
        "status": _KEYWORD,
        "code_sha256": _KEYWORD,
        "code_bytes": _INTEGER,
        "tests_passed": _INTEGER,
        "tests_total": _INTEGER,
        "time_ms": _INTEGER,
        "memory_kb": _INTEGER,
    },
    PASTE_EVENTS: {
        "source": _KEYWORD,
        "sha256": _KEYWORD,
        "chars": _INTEGER,
        "lines": _INTEGER,
        "excerpt": _TEXT,
    },
    APPEALS: {  # one record per change of an appeal (ops/appeals.document)
        "id": _KEYWORD,
        "kind": _KEYWORD,
        "flag_id": _KEYWORD,
        "status": _KEYWORD,
        "outcome": _KEYWORD,
        "assigned_to": _KEYWORD,
        "created_at": {"type": "date"},
        "first_response_due": {"type": "date"},
        "decision_due": {"type": "date"},
        "first_response_at": {"type": "date"},
        "decided_at": {"type": "date"},
        "messages": _INTEGER,
    },
}

_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


def template(index: str) -> dict[str, Any]:
    """The index template of one index: one shard (these are small, append-mostly logs),
    explicit mappings, other strings as keywords."""
    return {
        "index_patterns": [index, f"{index}-*"],
        "priority": 100,
        "template": {
            "settings": {"number_of_shards": 1},
            "mappings": {
                "dynamic": True,
                "dynamic_templates": [
                    {"strings_as_keywords": {"match_mapping_type": "string", "mapping": _KEYWORD}}
                ],
                "properties": {**_COMMON, **FIELDS[index]},
            },
        },
    }


def _query(filters: Filters) -> dict[str, Any]:
    clauses: list[dict[str, Any]] = []
    for name, value in filters.items():
        if isinstance(value, list | tuple | set | frozenset):
            clauses.append({"terms": {name: list(value)}})
        else:
            clauses.append({"term": {name: value}})
    return {"bool": {"filter": clauses}} if clauses else {"match_all": {}}


class OpenSearchSink:
    def __init__(self, client: AsyncOpenSearch) -> None:
        self.client = client

    async def start(self) -> None:
        """Put the index templates (again: a put replaces, so a changed mapping lands at
        the next start, for indices created after it). A key not allowed to put templates
        (403) does not stop the logs: the indices then get the cluster's own mappings, and
        that is said once. Any other failure (the store down, a wrong key) is raised: the
        writer tries again with its batch."""
        try:
            info = await self.client.info()
            version = info.get("version", {}).get("number")
        except AuthorizationException:
            version = None  # cluster info is not ours to read: no matter
        try:
            for index in INDICES:
                await self.client.indices.put_index_template(
                    name=f"{TEMPLATE_PREFIX}{index}", body=template(index)
                )
        except AuthorizationException:
            log.warning("log_sink_templates_not_put", reason="forbidden for this API key")
        log.info("log_sink_opensearch_ready", version=version)

    async def write_batch(self, records: list[Record]) -> Outcome:
        """One `_bulk` request; items refused with 429 or 5xx are retried, other refused
        items (a body the mapping cannot take) are given up."""
        if not records:
            return Outcome()
        lines: list[dict[str, Any]] = []
        for record in records:
            lines.append({"index": {"_index": record.index, "_id": record.doc_id}})
            lines.append(record.body)
        response = await self.client.bulk(body=lines)
        outcome = Outcome()
        if not response.get("errors"):
            return outcome
        for record, item in zip(records, response.get("items", []), strict=False):
            result: dict[str, Any] = next(iter(item.values()), {}) if isinstance(item, dict) else {}
            status = int(result.get("status", 500))
            if status < 300:
                continue
            if status in _RETRY_STATUSES:
                outcome.retry.append(record)
            else:
                outcome.rejected += 1
                error = result.get("error")
                reason = error.get("type") if isinstance(error, dict) else error
                log.warning(
                    "log_sink_record_rejected",
                    index=record.index,
                    doc_id=record.doc_id,
                    status=status,
                    reason=reason,
                )
        return outcome

    async def search(
        self, index: str, filters: Filters, limit: int = 50, sort: Sort = "-at"
    ) -> list[dict[str, Any]]:
        order = "desc" if sort == "-at" else "asc"
        at = {"order": order, "unmapped_type": "date"}  # an index made before its template
        body = {"query": _query(filters), "sort": [{"at": at}], "size": limit}
        try:
            response = await self.client.search(index=index, body=body)
        except NotFoundError:
            return []  # nothing was written to it yet
        return [dict(hit["_source"]) for hit in response["hits"]["hits"]]

    async def count(self, index: str, filters: Filters) -> int:
        try:
            response = await self.client.count(index=index, body={"query": _query(filters)})
        except NotFoundError:
            return 0
        return int(response["count"])

    async def refresh(self, index: str) -> None:
        """Make what was written searchable now (OpenSearch does it within a second)."""
        with contextlib.suppress(NotFoundError):
            await self.client.indices.refresh(index=index)

    async def close(self) -> None:
        await self.client.close()
