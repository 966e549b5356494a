"""Log lines in a test: JSON logging set up for the test process (codebattle/logs.py), and
logging put back as it was found afterwards; the lines a process wrote, parsed."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import structlog

from codebattle import logs


@contextmanager
def logging_as_found() -> Iterator[None]:
    """Whatever sets up logging inside (logs.configure: a command run in-process, a test of
    the log lines) is undone at the end: our stderr handler removed, levels and structlog's
    configuration back. Else the next tests' commands would print log lines among their
    output."""
    saved = structlog.get_config()
    root = logging.getLogger()
    level, fmt = root.level, logs.current_format()
    try:
        yield
    finally:
        for handler in root.handlers[:]:
            if isinstance(handler, logs.StderrHandler):
                root.removeHandler(handler)
        root.setLevel(level)
        logging.captureWarnings(False)
        structlog.configure(**saved)
        logs._format = fmt


@contextmanager
def json_logging() -> Iterator[None]:
    """This process logs JSON lines to stderr (capsys sees them) until the end."""
    with logging_as_found():
        logs.configure_format("json")
        yield


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
