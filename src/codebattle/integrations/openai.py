"""The LLM behind the AI opponent: a thin client to the OpenAI Responses API, the prompt
that asks for a solution, and the code extraction from the answer.

Every failure becomes an LLMError with a short code ("timeout", "http_401", ...), never the
provider's text, and the API key appears in no message, log line or repr. A caller that
gets None from ai_solution falls back to the offline opponent.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from typing import Any

import httpx
import structlog

log = structlog.get_logger(__name__)

# One retry at most, only for these, after a short pause.
_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_RETRY_BACKOFF = 0.5  # seconds
MAX_CODE_BYTES = 64 * 1024


@dataclass(frozen=True)
class PromptLanguage:
    """The language the model writes in. The caller fills it in from the judge's language
    (judge/languages/<name>.py): this module knows no language of its own."""

    name: str  # the judge's id, also the tag the model is asked to put on its code block
    title: str  # the name the model is told, e.g. "Python 3"
    fence_tags: frozenset[str] = frozenset()  # other code block tags that mark the language
    notes: tuple[str, ...] = ()  # rules of the judge's toolchain, one sentence each


class LLMError(Exception):
    """A failed call; `code` is short and safe to log ("timeout", "http_500", ...)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class OpenAIClient:
    """POST {base_url}/responses; one instance per process, closed with aclose()."""

    def __init__(
        self,
        api_key: str,
        model: str = "gpt-5",
        base_url: str = "https://api.openai.com/v1",
        timeout: float = 20.0,
    ) -> None:
        if not api_key:
            raise ValueError("api_key is empty")
        self.model = model
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        # httpx masks the Authorization header in its reprs.
        self._http = httpx.AsyncClient(
            headers={"Authorization": f"Bearer {api_key}"},
            timeout=httpx.Timeout(timeout),
            follow_redirects=False,
        )

    def __repr__(self) -> str:
        return f"OpenAIClient(model={self.model!r}, base_url={self.base_url!r})"

    async def aclose(self) -> None:
        await self._http.aclose()

    async def respond(self, instructions: str, prompt: str) -> str:
        """The model's output text for one request; raises LLMError on any failure."""
        body = {"model": self.model, "instructions": instructions, "input": prompt}
        for attempt in (1, 2):
            try:
                response = await self._post(body)
            except LLMError as exc:
                if exc.code != "connect" or attempt == 2:
                    raise
                log.info("openai_retry", code=exc.code)
                await asyncio.sleep(_RETRY_BACKOFF)
                continue
            if response.status_code in _RETRY_STATUSES and attempt == 1:
                log.info("openai_retry", code=f"http_{response.status_code}")
                await asyncio.sleep(_RETRY_BACKOFF)
                continue
            if response.status_code != 200:
                raise LLMError(f"http_{response.status_code}")
            return _output_text(response)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _post(self, body: dict[str, str]) -> httpx.Response:
        # httpx's timeout bounds each phase; this bounds the whole attempt.
        try:
            async with asyncio.timeout(self.timeout):
                return await self._http.post(f"{self.base_url}/responses", json=body)
        except (TimeoutError, httpx.TimeoutException):
            raise LLMError("timeout") from None
        except httpx.ConnectError:
            raise LLMError("connect") from None
        except httpx.HTTPError:
            raise LLMError("transport") from None


def _output_text(response: httpx.Response) -> str:
    """The text of a Responses API answer: the output_text convenience field when present,
    else every output_text part of every message in `output`, concatenated."""
    try:
        data: Any = response.json()
    except ValueError:
        raise LLMError("bad_response") from None
    if not isinstance(data, dict):
        raise LLMError("bad_response")
    direct = data.get("output_text")
    if isinstance(direct, str) and direct:
        return direct
    output = data.get("output")
    if not isinstance(output, list):
        raise LLMError("bad_response")
    parts: list[str] = []
    for item in output:
        if not isinstance(item, dict) or item.get("type") != "message":
            continue
        content = item.get("content")
        if not isinstance(content, list):
            continue
        for part in content:
            if isinstance(part, dict) and part.get("type") == "output_text":
                text = part.get("text")
                if isinstance(text, str):
                    parts.append(text)
    if not parts:
        raise LLMError("empty_output")
    return "".join(parts)


def _fence_for(text: str) -> str:
    """A backtick fence longer than any backtick run inside text."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def solution_prompt(
    statement_markdown: str, language: PromptLanguage, template: str | None
) -> tuple[str, str]:
    """(instructions, input) asking for a complete solution in `language`."""
    title = language.title
    rules = [
        "You are a strong competitive programmer taking part in a timed programming duel.",
        f"Write a complete, correct and efficient program in {title} that solves the problem.",
        "The program reads the input from standard input and writes the answer to standard "
        "output, exactly in the format the statement asks for, with no prompts or extra text.",
    ]
    rules.extend(language.notes)
    rules.append(
        f"Answer with exactly one fenced code block tagged {language.name} that holds the whole "
        "program, and nothing before or after it."
    )
    instructions = "\n".join(rules)
    prompt = f"Problem statement (Markdown):\n\n{statement_markdown.strip()}\n"
    if template and template.strip():
        fence = _fence_for(template)
        prompt += (
            f"\nStart from this {title} template and keep its input/output handling:\n\n"
            f"{fence}{language.name}\n{template.rstrip()}\n{fence}\n"
        )
    return instructions, prompt


_OPEN_FENCE = re.compile(r"^( {0,3})(`{3,}|~{3,})(.*)$")


def _code_blocks(text: str) -> list[tuple[str, str]]:
    """(info word, content) of each closed fenced code block, in order."""
    blocks: list[tuple[str, str]] = []
    lines = text.replace("\r\n", "\n").split("\n")
    i = 0
    while i < len(lines):
        opening = _OPEN_FENCE.match(lines[i])
        i += 1
        if opening is None:
            continue
        indent, fence, info = len(opening[1]), opening[2], opening[3].strip()
        if fence[0] == "`" and "`" in info:
            continue  # not a fence: inline code such as ```x```
        closing = re.compile(rf"^ {{0,3}}{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$")
        body: list[str] = []
        while i < len(lines) and closing.match(lines[i]) is None:
            line = lines[i]
            strip = min(indent, len(line) - len(line.lstrip(" ")))
            body.append(line[strip:])
            i += 1
        if i == len(lines):
            break  # unclosed: a truncated answer, not a program
        i += 1
        word = info.split()[0].lower() if info else ""
        blocks.append((word, "\n".join(body)))
    return blocks


def extract_code(text: str, language: PromptLanguage) -> str | None:
    """The program in an answer: the first fenced block tagged for `language`, else the
    first fenced block; None when there is none, it is empty, or it exceeds 64 KiB."""
    blocks = _code_blocks(text)
    if not blocks:
        return None
    names = language.fence_tags | {language.name}
    code = next((body for word, body in blocks if word in names), blocks[0][1])
    if not code.strip():
        return None
    code = code.strip("\n") + "\n"
    if len(code.encode()) > MAX_CODE_BYTES:
        return None
    return code


async def ai_solution(
    client: OpenAIClient | None,
    statement: str,
    language: PromptLanguage,
    template: str | None = None,
) -> str | None:
    """The model's program for a problem, or None (no client, a failed call, no code) so
    that the caller falls back to the offline opponent."""
    if client is None:
        return None
    instructions, prompt = solution_prompt(statement, language, template)
    try:
        text = await client.respond(instructions, prompt)
    except LLMError as exc:
        log.warning("ai_solution_failed", code=exc.code)
        return None
    code = extract_code(text, language)
    if code is None:
        log.warning("ai_solution_failed", code="no_code")
    return code
