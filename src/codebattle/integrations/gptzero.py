"""AI-text detection for fair play: a thin client to GPTZero's text prediction API and the
extraction of the prose (comments and docstrings) it is made for.

GPTZero judges prose, not code, so only a submission's comments and docstrings are sent,
and only when there are at least `min_chars` of them. The signal is one of "ok" (with the
result), "not_enough_text", "unavailable" (no key: nothing is invented) or "error" (a short
code). Every failure becomes a GPTZeroError with a short code ("timeout", "http_401", ...),
never the provider's text, and the API key appears in no message, log line or repr.

Results are cached by the SHA-256 of the document in a bounded in-process LRU, so one
process never sends the same text twice; a cache shared between processes comes with the
fair-play storage. One retry at most (429 within the Retry-After cap, 5xx, connect), and a
small circuit stops calling for a while after consecutive failures: no retry storms.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal

import httpx
import structlog

from codebattle.config import Settings

log = structlog.get_logger(__name__)

_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_RETRY_BACKOFF = 0.5  # seconds before the one retry of a 5xx or a refused connection
_RETRY_AFTER_CAP = 5.0  # a 429 asking to wait longer is not retried: it is an error
MAX_DOCUMENT_CHARS = 50_000  # GPTZero truncates longer documents anyway


@dataclass(frozen=True)
class GPTZeroResult:
    """The document-level prediction (`documents[0]` of the answer)."""

    completely_generated_prob: float
    class_probabilities: Mapping[str, float]  # e.g. {"ai": .9, "human": .05, "mixed": .05}
    predicted_class: str | None
    model_version: str | None


SignalStatus = Literal["ok", "not_enough_text", "unavailable", "error"]


@dataclass(frozen=True)
class AITextSignal:
    """What fair play learns about a submission's prose."""

    status: SignalStatus
    result: GPTZeroResult | None = None
    error: str | None = None  # the short code when status is "error"


class GPTZeroError(Exception):
    """A failed call; `code` is short and safe to log ("timeout", "http_401", ...)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class GPTZeroClient:
    """POST {base_url}/v2/predict/text; one instance per process, closed with aclose()."""

    def __init__(
        self,
        api_key: str,
        base_url: str = "https://api.gptzero.me",
        timeout: float = 10.0,
        *,
        cache_size: int = 1024,
        failure_threshold: int = 5,
        open_seconds: float = 60.0,
        retry_after_cap: float = _RETRY_AFTER_CAP,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not api_key:
            raise ValueError("api_key is empty")
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._http = httpx.AsyncClient(
            headers={"x-api-key": api_key, "Accept": "application/json"},
            timeout=httpx.Timeout(timeout),
            follow_redirects=False,
        )
        self._cache: OrderedDict[str, GPTZeroResult] = OrderedDict()
        self._cache_size = cache_size
        # Concurrent callers with the same text share one request.
        self._inflight: dict[str, asyncio.Future[GPTZeroResult]] = {}
        self._failure_threshold = failure_threshold
        self._open_seconds = open_seconds
        self._retry_after_cap = retry_after_cap
        self._clock = clock
        self._failures = 0
        self._open_until = 0.0

    def __repr__(self) -> str:
        # httpx would not mask x-api-key: never show the client's headers.
        return f"GPTZeroClient(base_url={self.base_url!r})"

    async def aclose(self) -> None:
        await self._http.aclose()

    async def predict(self, document: str) -> GPTZeroResult:
        """The prediction for one document, from the cache when this process has seen the
        same text; raises GPTZeroError on any failure (failures are not cached)."""
        key = hashlib.sha256(document.encode()).hexdigest()
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return cached
        pending = self._inflight.get(key)
        if pending is not None:
            try:
                return await asyncio.shield(pending)
            except asyncio.CancelledError:
                task = asyncio.current_task()
                if not pending.cancelled() or (task is not None and task.cancelling()):
                    raise
                return await self.predict(document)  # the caller we waited for gave up
        future: asyncio.Future[GPTZeroResult] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            result = await self._call(document)
        except Exception as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: no "never retrieved" warning without waiters
            raise
        except BaseException:
            future.cancel()  # cancelled: a waiter makes the call itself
            raise
        finally:
            del self._inflight[key]
        future.set_result(result)
        self._cache[key] = result
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return result

    async def _call(self, document: str) -> GPTZeroResult:
        """One prediction through the circuit: open after `failure_threshold` failures in
        a row, it fails fast ("circuit_open") for `open_seconds`."""
        if self._clock() < self._open_until:
            raise GPTZeroError("circuit_open")
        try:
            result = await self._request(document)
        except GPTZeroError as exc:
            self._failures += 1
            if self._failures >= self._failure_threshold:
                self._open_until = self._clock() + self._open_seconds
                self._failures = 0
                log.warning("gptzero_circuit_open", code=exc.code, seconds=self._open_seconds)
            raise
        self._failures = 0
        return result

    async def _request(self, document: str) -> GPTZeroResult:
        body = {"document": document}
        for attempt in (1, 2):
            try:
                response = await self._post(body)
            except GPTZeroError as exc:
                if exc.code != "connect" or attempt == 2:
                    raise
                log.info("gptzero_retry", code=exc.code)
                await asyncio.sleep(_RETRY_BACKOFF)
                continue
            status = response.status_code
            if status in _RETRY_STATUSES and attempt == 1:
                pause = self._pause(response)
                if pause is not None:
                    log.info("gptzero_retry", code=f"http_{status}", seconds=pause)
                    await asyncio.sleep(pause)
                    continue
            if status != 200:
                raise GPTZeroError(f"http_{status}")
            return _parse(response)
        raise AssertionError("unreachable")  # pragma: no cover

    def _pause(self, response: httpx.Response) -> float | None:
        """Seconds to wait before the retry, or None not to retry: a 429 waits as long as
        Retry-After says (the backoff when absent or unreadable), unless that is past the
        cap; a 5xx waits the backoff."""
        if response.status_code != 429:
            return _RETRY_BACKOFF
        header = response.headers.get("Retry-After")
        if header is None:
            return _RETRY_BACKOFF
        try:
            seconds = float(header)
        except ValueError:
            return _RETRY_BACKOFF  # an HTTP date: rare here, not worth parsing
        if seconds < 0:
            return _RETRY_BACKOFF
        return seconds if seconds <= self._retry_after_cap else None

    async def _post(self, body: dict[str, str]) -> httpx.Response:
        # httpx's timeout bounds each phase; this bounds the whole attempt.
        try:
            async with asyncio.timeout(self.timeout):
                return await self._http.post(f"{self.base_url}/v2/predict/text", json=body)
        except (TimeoutError, httpx.TimeoutException):
            raise GPTZeroError("timeout") from None
        except httpx.ConnectError:
            raise GPTZeroError("connect") from None
        except httpx.HTTPError:
            raise GPTZeroError("transport") from None


def _probability(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise GPTZeroError("bad_response")
    return float(value)


def _parse(response: httpx.Response) -> GPTZeroResult:
    """`documents[0]` of a prediction: completely_generated_prob, class_probabilities,
    predicted_class; the model version from the top-level `version`."""
    try:
        data: Any = response.json()
    except ValueError:
        raise GPTZeroError("bad_response") from None
    if not isinstance(data, dict):
        raise GPTZeroError("bad_response")
    documents = data.get("documents")
    if not isinstance(documents, list) or not documents or not isinstance(documents[0], dict):
        raise GPTZeroError("bad_response")
    document = documents[0]
    generated = _probability(document.get("completely_generated_prob"))
    raw_classes = document.get("class_probabilities") or {}
    if not isinstance(raw_classes, dict):
        raise GPTZeroError("bad_response")
    classes = {str(name): _probability(p) for name, p in raw_classes.items()}
    predicted = document.get("predicted_class")
    version = data.get("version", document.get("version"))
    return GPTZeroResult(
        completely_generated_prob=generated,
        class_probabilities=MappingProxyType(classes),  # shared from the cache: read-only
        predicted_class=predicted if isinstance(predicted, str) else None,
        model_version=version if isinstance(version, str) else None,
    )


def client_from_settings(settings: Settings) -> GPTZeroClient | None:
    """The process's client, or None without GPTZERO_API_KEY (the signal is then
    "unavailable")."""
    if settings.GPTZERO_API_KEY is None or not settings.GPTZERO_API_KEY.get_secret_value():
        return None
    return GPTZeroClient(
        settings.GPTZERO_API_KEY.get_secret_value(),
        base_url=settings.GPTZERO_API_URL,
        timeout=settings.GPTZERO_TIMEOUT_SECONDS,
    )


# --- The prose of a submission -------------------------------------------------------

_PYTHON_LANGUAGES = frozenset({"python", "pypy"})
_C_LIKE_LANGUAGES = frozenset({"cpp", "java"})


def _python_prose(code: str) -> list[str]:
    """`#` comments and docstrings (a triple-quoted string alone on its line, which is
    what a docstring or a string used as a comment looks like). A scanner rather than
    the tokenizer, so that code in progress that does not parse still gives its prose."""
    parts: list[str] = []
    i, n = 0, len(code)
    line_start = 0
    while i < n:
        ch = code[i]
        if ch == "\n":
            line_start = i + 1
            i += 1
        elif ch == "#":
            end = code.find("\n", i)
            end = n if end == -1 else end
            parts.append(code[i + 1 : end])
            i = end
        elif ch in "'\"":
            quote = code[i : i + 3] if code[i : i + 3] in ("'''", '"""') else ch
            start = i + len(quote)
            j = start
            while j < n and not code.startswith(quote, j):
                if code[j] == "\\":
                    j += 1
                elif code[j] == "\n" and len(quote) == 1:
                    break  # an unterminated one-line string ends with its line
                j += 1
            end = min(j, n)
            if len(quote) == 3:
                # Only string prefix letters (r, b, u, f) may stand before it on its line.
                before = code[line_start:i].strip()
                if before.lower() in ("", "r", "u"):
                    parts.append(code[start:end])
            i = end + len(quote)
        else:
            i += 1
    return parts


def _c_like_prose(code: str) -> list[str]:
    """`//` and `/* */` comments, outside string and character literals (Java text
    blocks and C++ raw strings included)."""
    parts: list[str] = []
    i, n = 0, len(code)
    while i < n:
        if code.startswith("//", i):
            end = code.find("\n", i)
            end = n if end == -1 else end
            parts.append(code[i + 2 : end])
            i = end
        elif code.startswith("/*", i):
            end = code.find("*/", i + 2)
            end = n if end == -1 else end
            parts.append(code[i + 2 : end])
            i = end + 2
        elif code.startswith('"""', i):  # Java text block
            end = code.find('"""', i + 3)
            i = n if end == -1 else end + 3
        elif code.startswith('R"', i) and (
            i == 0 or not (code[i - 1].isalnum() or code[i - 1] == "_")
        ):
            paren = code.find("(", i + 2)
            if paren == -1:
                i += 2
                continue
            closing = ")" + code[i + 2 : paren] + '"'
            end = code.find(closing, paren + 1)
            i = n if end == -1 else end + len(closing)
        elif code[i] in "'\"":
            quote = code[i]
            j = i + 1
            while j < n and code[j] != quote and code[j] != "\n":
                j += 2 if code[j] == "\\" else 1
            i = j + 1
        else:
            i += 1
    return parts


def _clean(part: str) -> str:
    """A comment's text without the leading `*` of block-comment lines and extra blanks."""
    lines = (line.strip().lstrip("*").strip() for line in part.splitlines())
    return " ".join(line for line in lines if line)


def submission_prose(code: str, language: str) -> str:
    """The comments and docstrings of a submission, one per line; "" for a language this
    module does not know (the judge's ids: python, pypy, cpp, java)."""
    if language in _PYTHON_LANGUAGES:
        parts = _python_prose(code)
    elif language in _C_LIKE_LANGUAGES:
        parts = _c_like_prose(code)
    else:
        return ""
    cleaned = (_clean(part) for part in parts)
    return "\n".join(text for text in cleaned if text)


def detection_document(code: str, language: str, min_chars: int) -> str | None:
    """The text to send for a submission, or None when its prose is shorter than
    `min_chars` (too little for a meaningful prediction: no call is made)."""
    prose = submission_prose(code, language)
    if len(prose) < min_chars:
        return None
    return prose[:MAX_DOCUMENT_CHARS]


async def detect_ai_text(
    client: GPTZeroClient | None, code: str, language: str, min_chars: int
) -> AITextSignal:
    """The AI-text signal for a submission's prose; never raises for a failed call."""
    if client is None:
        return AITextSignal("unavailable")
    document = detection_document(code, language, min_chars)
    if document is None:
        return AITextSignal("not_enough_text")
    try:
        result = await client.predict(document)
    except GPTZeroError as exc:
        log.warning("gptzero_failed", code=exc.code)
        return AITextSignal("error", error=exc.code)
    return AITextSignal("ok", result=result)
