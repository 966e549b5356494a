"""Failpoints: named places where a test can make this process die on the spot, as a
crash or a kill -9 would, to prove that nothing is lost there (tests/chaos/).

Armed only by the FAILPOINTS setting (comma-separated names), which production refuses
(config.py). `hit(name)` costs a set lookup when nothing is armed."""

from __future__ import annotations

import os
import sys

_armed: frozenset[str] = frozenset()


def arm(names: str | None) -> None:
    global _armed
    _armed = frozenset(n.strip() for n in (names or "").split(",") if n.strip())


def hit(name: str) -> None:
    """Die here, at once and without cleaning up, if `name` is armed."""
    if name in _armed:
        sys.stderr.write(f"failpoint {name}: the process dies here\n")
        sys.stderr.flush()
        os._exit(137)
