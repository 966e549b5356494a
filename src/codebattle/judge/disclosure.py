"""What a player may learn about each test of their submission.

A sample (under `data/sample`) is public: everything the judge saw is shown. A secret test
shows its verdict, CPU time and memory, and nothing else: not its input, its answer, the
program's output or stderr, a validator's feedback, the exit code or signal (a program picks
those, so they carry its input out eight bits a test), the wall time (a program can sleep to
encode its input in it) nor the test's file name (authors name tests after their content).
Without this a duel could be won without solving: print a hash of each input to stderr, read
it back from the feedback, answer from a lookup table.

The judge library itself (`judge verify`, `judge run`) keeps full detail: it is the
operator's tool. Jobs judged for players pass every test through `for_player`.
"""

from __future__ import annotations

from typing import Any

# The only fields of a secret test a player receives (with its position and whether it is a
# sample, which say nothing of its content).
SECRET_TEST_FIELDS = ("verdict", "time", "memory", "score")


def secret_name(name: str, index: int) -> str:
    """A secret test's name as players see it: its groups kept (scoring problems show per
    group results), its file name replaced by its position."""
    groups = name.rsplit("/", 1)[0] if "/" in name else "secret"
    return f"{groups}/{index + 1}"


def for_player(test: dict[str, Any], index: int) -> dict[str, Any]:
    """A test result (`TestResult.to_json()` or a stored row's dict) as a player may see it."""
    if test.get("sample") is True:
        return test
    shown = {key: test[key] for key in SECRET_TEST_FIELDS if key in test}
    shown.update(name=secret_name(str(test.get("name", "")), index), sample=False)
    return shown
