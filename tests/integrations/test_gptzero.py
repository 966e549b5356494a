"""The GPTZero client against a local fake of its text prediction API (127.0.0.1 only),
and the extraction of a submission's prose."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator

import pytest
import structlog

from codebattle.config import load_settings
from codebattle.integrations.gptzero import (
    GPTZeroClient,
    GPTZeroError,
    GPTZeroResult,
    client_from_settings,
    detect_ai_text,
    detection_document,
    submission_prose,
)
from tests.support.fake_gptzero import TEST_KEY, FakeGPTZero, Prediction

PROSE = (
    "This solution reads the whole input at once and keeps a running prefix sum, because "
    "every query asks for the total of a contiguous range. Sorting first would lose the "
    "order the statement depends on, so instead we walk the array a single time and store "
    "what we need. The answer for each query is then a difference of two stored sums."
)
PYTHON_SUBMISSION = f'''"""{PROSE}"""
import sys


def main() -> None:
    data = sys.stdin.read().split()  # read everything at once
    print(sum(map(int, data)))


main()
'''


@pytest.fixture
def fake() -> Iterator[FakeGPTZero]:
    with FakeGPTZero() as server:
        yield server


@pytest.fixture
async def client(fake: FakeGPTZero) -> AsyncIterator[GPTZeroClient]:
    c = GPTZeroClient(TEST_KEY, base_url=fake.base_url, timeout=2.0)
    yield c
    await c.aclose()


async def test_a_prediction_is_parsed_and_the_request_is_the_documented_one(
    fake: FakeGPTZero, client: GPTZeroClient
) -> None:
    signal = await detect_ai_text(client, PYTHON_SUBMISSION, "python", 250)
    assert signal.status == "ok" and signal.error is None
    assert signal.result == GPTZeroResult(
        completely_generated_prob=0.91,
        class_probabilities={"ai": 0.91, "human": 0.06, "mixed": 0.03},
        predicted_class="ai",
        model_version="2025-01-09-base",
    )
    [request] = fake.requests
    assert request.method == "POST"
    assert request.path == "/v2/predict/text"
    assert request.headers["x-api-key"] == TEST_KEY
    assert request.headers["Content-Type"].startswith("application/json")
    assert isinstance(request.body, dict) and set(request.body) == {"document"}
    document = request.body["document"]
    assert PROSE in document and "read everything at once" in document
    assert "import sys" not in document and "print(" not in document  # no code


async def test_a_result_without_optional_fields_still_parses() -> None:
    prediction = Prediction(completely_generated_prob=0.02, predicted_class="human")
    with FakeGPTZero(prediction=prediction) as fake:
        c = GPTZeroClient(TEST_KEY, base_url=fake.base_url, timeout=2.0)
        try:
            result = await c.predict(PROSE)
        finally:
            await c.aclose()
    assert result.completely_generated_prob == 0.02
    assert result.predicted_class == "human"


async def test_401_is_an_error_code_without_retry(fake: FakeGPTZero) -> None:
    c = GPTZeroClient("wrong-key-aaaaaaaaaaaaaaaa", base_url=fake.base_url, timeout=2.0)
    try:
        with structlog.testing.capture_logs() as logs:
            signal = await detect_ai_text(c, PYTHON_SUBMISSION, "python", 250)
    finally:
        await c.aclose()
    assert signal.status == "error" and signal.error == "http_401" and signal.result is None
    assert len(fake.requests) == 1
    assert logs == [{"event": "gptzero_failed", "code": "http_401", "log_level": "warning"}]


async def test_429_with_retry_after_is_retried_once(
    fake: FakeGPTZero, client: GPTZeroClient
) -> None:
    fake.set_retry_after("0")
    fake.queue("429")
    with structlog.testing.capture_logs() as logs:
        result = await client.predict(PROSE)
    assert result.predicted_class == "ai"
    assert len(fake.requests) == 2
    assert [(e["event"], e["code"], e["seconds"]) for e in logs] == [
        ("gptzero_retry", "http_429", 0.0)
    ]


async def test_429_twice_is_an_error_after_one_retry(
    fake: FakeGPTZero, client: GPTZeroClient
) -> None:
    fake.set_default("429")
    with pytest.raises(GPTZeroError) as info:
        await client.predict(PROSE)
    assert info.value.code == "http_429"
    assert len(fake.requests) == 2


async def test_429_asking_for_a_long_wait_is_not_retried(
    fake: FakeGPTZero, client: GPTZeroClient
) -> None:
    fake.set_retry_after("3600")  # past the cap: waiting would hold the caller too long
    fake.queue("429")
    with pytest.raises(GPTZeroError) as info:
        await client.predict(PROSE)
    assert info.value.code == "http_429"
    assert len(fake.requests) == 1


async def test_500_twice_is_an_error(fake: FakeGPTZero, client: GPTZeroClient) -> None:
    fake.set_default("500")
    with pytest.raises(GPTZeroError) as info:
        await client.predict(PROSE)
    assert info.value.code == "http_500"
    assert len(fake.requests) == 2  # one retry, no more


async def test_500_then_ok_succeeds(fake: FakeGPTZero, client: GPTZeroClient) -> None:
    fake.queue("500")
    assert (await client.predict(PROSE)).predicted_class == "ai"
    assert len(fake.requests) == 2


async def test_timeout_is_the_timeout_code_and_not_retried(fake: FakeGPTZero) -> None:
    fake.set_default("sleep")  # the fake sleeps 2 s
    c = GPTZeroClient(TEST_KEY, base_url=fake.base_url, timeout=0.3)
    try:
        with structlog.testing.capture_logs() as logs:
            signal = await detect_ai_text(c, PYTHON_SUBMISSION, "python", 250)
    finally:
        await c.aclose()
    assert signal.status == "error" and signal.error == "timeout"
    assert [entry["code"] for entry in logs] == ["timeout"]
    assert len(fake.requests) == 1


async def test_malformed_answer_is_bad_response(fake: FakeGPTZero, client: GPTZeroClient) -> None:
    fake.queue("malformed")
    with pytest.raises(GPTZeroError) as info:
        await client.predict(PROSE)
    assert info.value.code == "bad_response"


async def test_a_cached_text_is_sent_once(fake: FakeGPTZero, client: GPTZeroClient) -> None:
    first = await detect_ai_text(client, PYTHON_SUBMISSION, "python", 250)
    second = await detect_ai_text(client, PYTHON_SUBMISSION, "python", 250)
    assert first == second and first.status == "ok"
    assert len(fake.requests) == 1
    # Concurrent callers with one new text share one request too.
    results = await asyncio.gather(*(client.predict(PROSE + " again") for _ in range(5)))
    assert all(result is results[0] for result in results)
    assert len(fake.requests) == 2


async def test_a_waiter_calls_itself_when_the_caller_it_waited_for_is_cancelled(
    fake: FakeGPTZero, client: GPTZeroClient
) -> None:
    fake.queue("sleep")  # the first request hangs until the test cancels its caller
    first = asyncio.create_task(client.predict(PROSE))
    for _ in range(200):  # bounded: until the fake has the first request
        if fake.requests:
            break
        await asyncio.sleep(0.01)
    second = asyncio.create_task(client.predict(PROSE))
    await asyncio.sleep(0)  # the second now waits for the first
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    result = await asyncio.wait_for(second, timeout=5)
    assert result.predicted_class == "ai"
    assert len(fake.requests) == 2


async def test_the_cache_is_bounded(fake: FakeGPTZero) -> None:
    c = GPTZeroClient(TEST_KEY, base_url=fake.base_url, timeout=2.0, cache_size=2)
    try:
        for text in ("one", "two", "three", "one"):  # "one" was evicted by "three"
            await c.predict(text)
        await c.predict("three")  # still cached
    finally:
        await c.aclose()
    assert [r.body["document"] for r in fake.requests] == ["one", "two", "three", "one"]


async def test_failures_are_not_cached(fake: FakeGPTZero, client: GPTZeroClient) -> None:
    fake.queue("500", "500")
    with pytest.raises(GPTZeroError):
        await client.predict(PROSE)
    assert (await client.predict(PROSE)).predicted_class == "ai"
    assert len(fake.requests) == 3


async def test_the_circuit_stops_calling_after_consecutive_failures(fake: FakeGPTZero) -> None:
    now = [100.0]
    c = GPTZeroClient(
        TEST_KEY,
        base_url=fake.base_url,
        timeout=2.0,
        failure_threshold=2,
        open_seconds=30.0,
        clock=lambda: now[0],
    )
    fake.set_default("401")  # not retried: one request per failure
    try:
        for text in ("a", "b"):
            with pytest.raises(GPTZeroError):
                await c.predict(text)
        with pytest.raises(GPTZeroError) as info:
            await c.predict("c")
        assert info.value.code == "circuit_open"
        assert len(fake.requests) == 2  # the open circuit made no call
        now[0] += 31.0
        fake.set_default("ok")
        assert (await c.predict("c")).predicted_class == "ai"
    finally:
        await c.aclose()
    assert len(fake.requests) == 3


async def test_too_short_text_makes_no_request(fake: FakeGPTZero, client: GPTZeroClient) -> None:
    code = "import sys\n# sum of the input\nprint(sum(map(int, sys.stdin.read().split())))\n"
    signal = await detect_ai_text(client, code, "python", 250)
    assert signal.status == "not_enough_text" and signal.result is None
    assert detection_document(code, "python", 250) is None
    assert detection_document(code, "python", 5) == "sum of the input"
    assert fake.requests == []


async def test_no_key_is_unavailable_and_makes_no_request(
    fake: FakeGPTZero, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GPTZERO_API_KEY", raising=False)
    assert client_from_settings(load_settings(GPTZERO_API_KEY=None)) is None
    assert client_from_settings(load_settings(GPTZERO_API_KEY="")) is None
    signal = await detect_ai_text(None, PYTHON_SUBMISSION, "python", 250)
    assert signal.status == "unavailable" and signal.result is None and signal.error is None
    assert fake.requests == []


async def test_client_from_settings_uses_the_settings(fake: FakeGPTZero) -> None:
    settings = load_settings(
        GPTZERO_API_KEY=TEST_KEY, GPTZERO_API_URL=fake.base_url, GPTZERO_TIMEOUT_SECONDS=3
    )
    c = client_from_settings(settings)
    assert c is not None and c.timeout == 3 and c.base_url == fake.base_url
    try:
        assert (await c.predict(PROSE)).predicted_class == "ai"
    finally:
        await c.aclose()
    assert fake.requests[0].headers["x-api-key"] == TEST_KEY


def test_the_settings_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("GPTZERO_API_URL", "GPTZERO_TIMEOUT_SECONDS", "GPTZERO_MIN_CHARS"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings()
    assert settings.GPTZERO_API_URL == "https://api.gptzero.me"
    assert settings.GPTZERO_TIMEOUT_SECONDS == 10
    assert settings.GPTZERO_MIN_CHARS == 250


async def test_the_key_never_appears_in_errors_logs_or_repr(
    fake: FakeGPTZero, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    secret = "gz-secret-DO-NOT-LEAK-42424242"
    caplog.set_level(logging.DEBUG)
    c = GPTZeroClient(secret, base_url=fake.base_url, timeout=2.0)
    errors: list[GPTZeroError] = []
    try:
        with structlog.testing.capture_logs() as logs:
            with pytest.raises(GPTZeroError) as refused:  # the fake echoes part of the key
                await c.predict("a")
            errors.append(refused.value)
            fake.set_default("500")
            with pytest.raises(GPTZeroError) as failed:
                await c.predict("b")
            errors.append(failed.value)
            signal = await detect_ai_text(c, PYTHON_SUBMISSION, "python", 250)
        assert secret not in repr(c) and secret not in str(c)
    finally:
        await c.aclose()
    assert signal.status == "error"
    for err in errors:
        text = f"{err} {err!r} {err.args} {err.__cause__!r} {err.__context__!r}"
        assert "LEAK" not in text and "4242" not in text  # not even the masked echo
    assert "LEAK" not in repr(logs) and "4242" not in repr(logs)
    assert "LEAK" not in caplog.text
    captured = capsys.readouterr()
    assert "LEAK" not in captured.out + captured.err


# --- Prose extraction per language ----------------------------------------------------


def test_python_comments_and_docstrings() -> None:
    code = '''"""Module docstring."""
import sys

x = """not a docstring: an assigned string"""
s = "# not a comment"


class Solver:
    r"""Class docstring."""

    def solve(self) -> int:
        \'\'\'Function docstring
        over two lines.\'\'\'
        return 1  # trailing comment


# a comment line
'''
    assert submission_prose(code, "python").splitlines() == [
        "Module docstring.",
        "Class docstring.",
        "Function docstring over two lines.",
        "trailing comment",
        "a comment line",
    ]
    assert submission_prose(code, "pypy") == submission_prose(code, "python")


def test_python_code_that_does_not_parse_still_gives_its_prose() -> None:
    code = 'def f(:\n    """Half written."""\n    # still thinking\n    return "#x'
    assert submission_prose(code, "python").splitlines() == ["Half written.", "still thinking"]


def test_cpp_comments() -> None:
    code = r"""#include <bits/stdc++.h>
// Line comment.
/* Block
 * comment. */
int main() {
    const char* s = "// not a comment /* nor this */";
    char c = '"';  // after a quote character
    auto raw = R"x(raw "// not a comment")x";
    long big = 1'000'000;  // digit separators
    return 0;
}
"""
    assert submission_prose(code, "cpp").splitlines() == [
        "Line comment.",
        "Block comment.",
        "after a quote character",
        "digit separators",
    ]


def test_java_comments() -> None:
    code = '''/**
 * Javadoc for the class.
 * @author someone
 */
public class Main {
    static String text = """
        // inside a text block
        """;
    public static void main(String[] args) {
        String s = "/* not a comment */"; // real comment
    }
}
'''
    assert submission_prose(code, "java").splitlines() == [
        "Javadoc for the class. @author someone",
        "real comment",
    ]


def test_an_unknown_language_has_no_prose() -> None:
    assert submission_prose("// hello\n# hello", "brainfuck") == ""
    assert detection_document("// hello", "brainfuck", 1) is None
