"""The OpenSearch client of the log sink (`logsink.opensearch`), built from the settings:
opensearch-py's `AsyncOpenSearch` (aiohttp underneath) with an API key header when
OPENSEARCH_API_KEY is set.

The key travels only in the `Authorization: ApiKey <key>` header: opensearch-py's reprs
show hosts, not headers, and its request logs show the URL, not the headers. Its own
retries are kept to one, after a refused connection (none after a time-out or an error
status): the log writer retries a batch itself, with backoff, and retries inside retries
are a storm against a store that is already struggling. Its per-request log lines are
quieted to errors, since the writer says once that the store is down and once that it is
back."""

from __future__ import annotations

import logging

from opensearchpy import AsyncOpenSearch

from codebattle.config import Settings

CLIENT_RETRIES = 1


def opensearch_client(settings: Settings) -> AsyncOpenSearch:
    if not settings.OPENSEARCH_URL:
        raise ValueError("OPENSEARCH_URL is not set")
    headers: dict[str, str] = {}
    if settings.OPENSEARCH_API_KEY is not None:
        headers["Authorization"] = f"ApiKey {settings.OPENSEARCH_API_KEY.get_secret_value()}"
    logging.getLogger("opensearch").setLevel(logging.ERROR)
    return AsyncOpenSearch(
        hosts=[settings.OPENSEARCH_URL],
        headers=headers,
        timeout=settings.OPENSEARCH_TIMEOUT_SECONDS,
        max_retries=CLIENT_RETRIES,
        retry_on_timeout=False,
        retry_on_status=(),  # statuses are the writer's to retry, with backoff
    )
