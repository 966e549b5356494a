"""The review by the model (OpenAI, through integrations/openai.py's client).

The prompt carries the player's code, the statement (public), the tests as players see them
(a secret test: verdict, time and memory; never its data) and the lint findings. The model
answers with a JSON object of four lists of short sentences; they replace the offline
review's sections, and the measured parts (tests, lint, complexity figures) stay as the
offline review found them. Any failure (the call, or an answer that is not that object)
returns None: the caller keeps the offline review and logs the reason.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

import structlog

from codebattle.integrations.openai import LLMError, OpenAIClient

log = structlog.get_logger(__name__)

SECTIONS = ("correctness", "complexity", "style", "approach")
MAX_ITEMS = 8
MAX_ITEM_CHARS = 600
LOCALE_NAMES = {"ko": "Korean", "en": "English"}


def prompt(
    *,
    statement: str,
    language_title: str,
    code: str,
    tests: Sequence[Mapping[str, Any]],
    lint: Mapping[str, Any],
    figures: Mapping[str, Any],
    locale: str,
) -> tuple[str, str]:
    """(instructions, input) for one review."""
    answer_in = LOCALE_NAMES.get(locale, "English")
    instructions = "\n".join([
        "You review a competitive programming submission for the player who wrote it.",
        "Be concrete and kind; refer to line numbers; do not rewrite the whole program.",
        "Cover: correctness risks, time/space complexity, style, and a cleaner or faster "
        "approach if there is one.",
        "Answer with one JSON object and nothing else: {\"correctness\": [...], "
        "\"complexity\": [...], \"style\": [...], \"approach\": [...]}, each a list of at "
        f"most {MAX_ITEMS} short sentences, written in {answer_in}.",
        "Hidden tests are hidden: never guess or describe their data.",
    ])  # fmt: skip
    body = {
        "tests": [dict(t) for t in tests],
        "lint": dict(lint),
        "largest_tests_timing": dict(figures),
    }
    text = (
        f"Problem statement (Markdown):\n\n{statement.strip()}\n\n"
        f"Submission ({language_title}):\n\n```\n{code.rstrip()}\n```\n\n"
        f"Judge results and analysis (JSON):\n{json.dumps(body, ensure_ascii=False)}\n"
    )
    return instructions, text


_OBJECT = re.compile(r"\{.*\}", re.DOTALL)


def parse(text: str) -> dict[str, list[dict[str, Any]]] | None:
    """The four sections from the model's answer, as notes {"text": ...}; None when the
    answer is not the object asked for."""
    found = _OBJECT.search(text or "")
    if found is None:
        return None
    try:
        data = json.loads(found.group(0))
    except ValueError:
        return None
    if not isinstance(data, dict) or not any(isinstance(data.get(s), list) for s in SECTIONS):
        return None
    sections: dict[str, list[dict[str, Any]]] = {}
    for name in SECTIONS:
        items = data.get(name)
        items = items if isinstance(items, list) else []
        sections[name] = [
            {"text": item.strip()[:MAX_ITEM_CHARS]}
            for item in items[:MAX_ITEMS]
            if isinstance(item, str) and item.strip()
        ]
    return sections


async def review(
    client: OpenAIClient, offline_body: Mapping[str, Any], **prompt_args: Any
) -> dict[str, Any] | None:
    """The offline body with its sections written by the model, or None on any failure."""
    instructions, text = prompt(
        tests=offline_body.get("tests", []),
        lint=offline_body.get("lint", {}),
        figures=offline_body.get("complexity", {}),
        **prompt_args,
    )
    try:
        answer = await client.respond(instructions, text)
    except LLMError as exc:
        log.warning("review_model_failed", code=exc.code)
        return None
    sections = parse(answer)
    if sections is None:
        log.warning("review_model_failed", code="bad_answer")
        return None
    return {**offline_body, "sections": sections}
