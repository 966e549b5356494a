"""The OpenAI client against a local fake of the Responses API (127.0.0.1 only)."""

from __future__ import annotations

import socket
import time
from collections.abc import AsyncIterator, Iterator

import pytest
import structlog

from codebattle.battles.ai_player import prompt_language
from codebattle.integrations.openai import (
    MAX_CODE_BYTES,
    LLMError,
    OpenAIClient,
    ai_solution,
    extract_code,
    solution_prompt,
)
from codebattle.judge import languages
from tests.support.fake_openai import TEST_KEY, FakeOpenAI

STATEMENT = "# A+B\n\nRead two integers and print their sum."
PYTHON = prompt_language("python")  # what the AI player passes: the judge's language
EXPECTED = "import sys\n\na, b = map(int, sys.stdin.read().split())\nprint(a + b)\n"


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server


@pytest.fixture
async def client(fake: FakeOpenAI) -> AsyncIterator[OpenAIClient]:
    c = OpenAIClient(TEST_KEY, model="gpt-5", base_url=fake.base_url, timeout=2.0)
    yield c
    await c.aclose()


async def test_happy_path_sends_the_responses_request_and_extracts_code(
    fake: FakeOpenAI, client: OpenAIClient
) -> None:
    code = await ai_solution(client, STATEMENT, PYTHON)
    assert code == EXPECTED
    [request] = fake.requests
    assert request.method == "POST"
    assert request.path == "/v1/responses"
    assert request.headers["Authorization"] == f"Bearer {TEST_KEY}"
    assert request.headers["Content-Type"].startswith("application/json")
    body = request.body
    assert isinstance(body, dict)
    assert set(body) == {"model", "instructions", "input"}
    assert body["model"] == "gpt-5"
    assert "Python" in body["instructions"]
    assert "standard input" in body["instructions"]
    assert "fenced code block" in body["instructions"]
    assert STATEMENT in body["input"]


async def test_respond_concatenates_output_text_parts(
    fake: FakeOpenAI, client: OpenAIClient
) -> None:
    fake.set_answer("plain text")
    assert await client.respond("be brief", "hi") == "plain text"


async def test_401_gives_none_without_retry(fake: FakeOpenAI) -> None:
    wrong = "sk-wrong-key-aaaaaaaaaaaaaaaa"
    c = OpenAIClient(wrong, base_url=fake.base_url, timeout=2.0)
    try:
        with structlog.testing.capture_logs() as logs:
            assert await ai_solution(c, STATEMENT, PYTHON) is None
    finally:
        await c.aclose()
    assert len(fake.requests) == 1
    assert logs == [{"event": "ai_solution_failed", "code": "http_401", "log_level": "warning"}]


async def test_forced_401_raises_http_401(fake: FakeOpenAI, client: OpenAIClient) -> None:
    fake.queue("401")
    with pytest.raises(LLMError) as info:
        await client.respond("i", "p")
    assert info.value.code == "http_401"


async def test_500_then_200_retries_once_and_succeeds(
    fake: FakeOpenAI, client: OpenAIClient
) -> None:
    fake.queue("500", "ok")
    assert await ai_solution(client, STATEMENT, PYTHON) == EXPECTED
    assert len(fake.requests) == 2


async def test_429_then_200_retries_once_and_succeeds(
    fake: FakeOpenAI, client: OpenAIClient
) -> None:
    fake.queue("429", "ok")
    assert await client.respond("i", "p")
    assert len(fake.requests) == 2


async def test_500_twice_fails_after_exactly_two_requests(
    fake: FakeOpenAI, client: OpenAIClient
) -> None:
    fake.queue("500", "500", "ok")
    with pytest.raises(LLMError) as info:
        await client.respond("i", "p")
    assert info.value.code == "http_500"
    assert len(fake.requests) == 2


async def test_timeout_gives_none_quickly(fake: FakeOpenAI) -> None:
    fake.set_default("sleep")  # the fake sleeps 2 s
    c = OpenAIClient(TEST_KEY, base_url=fake.base_url, timeout=0.3)
    try:
        with pytest.raises(LLMError) as info:
            start = time.monotonic()
            await c.respond("i", "p")
        assert info.value.code == "timeout"
        assert time.monotonic() - start < 1.5
        with structlog.testing.capture_logs() as logs:
            start = time.monotonic()
            assert await ai_solution(c, STATEMENT, PYTHON) is None
            assert time.monotonic() - start < 1.5
    finally:
        await c.aclose()
    assert [entry["code"] for entry in logs] == ["timeout"]
    assert len(fake.requests) == 2  # one per call: a time-out is not retried


async def test_malformed_json_gives_none(fake: FakeOpenAI, client: OpenAIClient) -> None:
    fake.queue("malformed")
    with structlog.testing.capture_logs() as logs:
        assert await ai_solution(client, STATEMENT, PYTHON) is None
    assert [entry["code"] for entry in logs] == ["bad_response"]
    fake.queue("malformed")
    with pytest.raises(LLMError) as info:
        await client.respond("i", "p")
    assert info.value.code == "bad_response"


async def test_answer_without_code_block_gives_none(fake: FakeOpenAI, client: OpenAIClient) -> None:
    fake.set_answer("I cannot solve this problem.")
    with structlog.testing.capture_logs() as logs:
        assert await ai_solution(client, STATEMENT, PYTHON) is None
    assert [entry["code"] for entry in logs] == ["no_code"]


async def test_connection_refused_retries_once_then_fails() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    c = OpenAIClient(TEST_KEY, base_url=f"http://127.0.0.1:{port}/v1", timeout=1.0)
    try:
        with structlog.testing.capture_logs() as logs, pytest.raises(LLMError) as info:
            await c.respond("i", "p")
    finally:
        await c.aclose()
    assert info.value.code == "connect"
    assert [entry["event"] for entry in logs] == ["openai_retry"]


async def test_no_client_gives_none() -> None:
    assert await ai_solution(None, STATEMENT, PYTHON) is None


async def test_api_key_never_appears_in_errors_or_logs(
    fake: FakeOpenAI, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = "sk-secret-DO-NOT-LEAK-42424242"
    c = OpenAIClient(secret, base_url=fake.base_url, timeout=2.0)
    try:
        with pytest.raises(LLMError) as info:
            await c.respond("i", "p")
        with structlog.testing.capture_logs() as logs:
            assert await ai_solution(c, STATEMENT, PYTHON) is None
        fake.set_default("500")
        with pytest.raises(LLMError) as retried:
            await c.respond("i", "p")
        assert secret not in repr(c)
    finally:
        await c.aclose()
    for err in (info.value, retried.value):
        text = f"{err} {err!r} {err.args} {err.__cause__!r} {err.__context__!r}"
        assert secret not in text
        assert "LEAK" not in text and "4242" not in text  # not even the masked echo
    assert secret not in repr(logs)
    captured = capsys.readouterr()
    assert secret not in captured.out + captured.err


def test_empty_key_is_refused() -> None:
    with pytest.raises(ValueError):
        OpenAIClient("")


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("```python\nprint(1)\n```", "python", "print(1)\n"),
        ("```py\nprint(1)\n```", "python", "print(1)\n"),
        ("Sure!\n```\nprint(2)\n```\nDone.", "python", "print(2)\n"),
        # A block tagged for the language wins over an earlier one.
        ("```text\n3 4\n```\n```c++\nint main() {}\n```", "cpp", "int main() {}\n"),
        ("```cpp\nint main() {}\n```", "cpp", "int main() {}\n"),
        (
            "```java\npublic class Main {\n}\n```\n```java\nclass Other {}\n```",
            "java",
            "public class Main {\n}\n",
        ),
        # No block for the language: the first block.
        ("```bash\necho hi\n```\n```json\n{}\n```", "java", "echo hi\n"),
        ("~~~python\nx = 1\n~~~", "python", "x = 1\n"),
        # A longer fence holds a shorter one.
        ("````python\ns = '''\n```\n'''\n````", "python", "s = '''\n```\n'''\n"),
        ("```python\r\nprint(1)\r\n```\r\n", "python", "print(1)\n"),
        ("  ```python\n  if x:\n      y()\n  ```", "python", "if x:\n    y()\n"),
        ("no code here", "python", None),
        ("```python\nprint(1)\n", "python", None),  # unclosed: truncated
        ("```python\n\n```", "python", None),
        ("inline ```print(1)``` only", "python", None),
    ],
)
def test_extract_code(text: str, language: str, expected: str | None) -> None:
    assert extract_code(text, prompt_language(language)) == expected


def test_extract_code_caps_at_64_kib() -> None:
    fits = "x" * (MAX_CODE_BYTES - 1)
    assert extract_code(f"```python\n{fits}\n```", PYTHON) == fits + "\n"
    assert extract_code(f"```python\n{fits}xx\n```", PYTHON) is None


@pytest.mark.parametrize("language", ["python", "cpp", "java"])
def test_solution_prompt(language: str) -> None:
    instructions, prompt = solution_prompt(STATEMENT, prompt_language(language), None)
    assert "standard input" in instructions and "standard output" in instructions
    assert f"fenced code block tagged {language}" in instructions
    assert ("class must be named Main" in instructions) == (language == "java")
    assert STATEMENT in prompt


def test_solution_prompt_includes_template_in_a_safe_fence() -> None:
    template = "public class Main {\n    // ```tricky```\n}\n"
    java = prompt_language("java")
    _, prompt = solution_prompt(STATEMENT, java, template)
    assert "````java\npublic class Main {" in prompt
    assert extract_code(prompt, java) == template


def test_solution_prompt_refuses_unknown_language() -> None:
    with pytest.raises(languages.UnknownLanguage):
        prompt_language("cobol")
