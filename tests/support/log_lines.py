"""Log lines in a test: JSON logging set up for the test process (codebattle/logs.py), and
put back as it was afterwards; the lines a process wrote, parsed."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import structlog

from codebattle import logs


@contextmanager
def json_logging() -> Iterator[None]:
    """This process logs JSON lines to stderr (capsys sees them) until the end."""
    saved = structlog.get_config()
    root = logging.getLogger()
    handlers, level, fmt = root.handlers[:], root.level, logs.current_format()
    logs.configure_format("json")
    try:
        yield
    finally:
        logging.captureWarnings(False)
        root.handlers[:] = handlers
        root.setLevel(level)
        structlog.configure(**saved)
        logs._format = fmt


def parsed(text: str) -> list[dict[str, Any]]:
    """Every non-empty line of `text` as JSON (a line that is not fails the test)."""
    lines = []
    for line in text.splitlines():
        if line.strip():
            try:
                lines.append(json.loads(line))
            except ValueError:
                raise AssertionError(f"not a JSON line: {line!r}") from None
    return lines
