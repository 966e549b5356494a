"""The offline review: built from what was measured, never invented.

Its parts, each a list of notes (a message key and its parameters, translated when shown):
- correctness: the verdict and the first failing test (a secret test by its verdict, time
  and memory only), and lint findings that are known bug risks (an undefined name, a
  mutable default argument, a signed/unsigned comparison, an unchecked raw type...);
- complexity: the player's program and the problem's reference solution run one after
  the other, on this host, on the largest tests (by input size), and compared; plus the
  growth of the player's own times with input size across every test it ran;
- style: the other lint findings;
- approach: a cleaner approach when the reference is much faster on the largest tests
  (a sign that its algorithm is asymptotically better).

The body keeps each test as players see it (`submissions.service.shown_test`): a secret
test's input, answer, output and feedback never enter it. Input sizes are used to choose
and compare, never stored.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from codebattle.reviews.lint import Finding, Lint

# Lint codes that point at a likely bug, not at style.
RISKY = frozenset({
    "F821", "F811", "F823", "F632", "F601", "F602", "F631", "B006", "B008", "B020", "B023",
    "B015", "B018", "syntax",
    "-Wuninitialized", "-Wmaybe-uninitialized", "-Wreturn-type", "-Wsign-compare",
    "-Woverflow", "-Wparentheses", "-Wsequence-point", "-Wunused-value", "-Wtype-limits",
    "-Wimplicit-fallthrough=", "-Wimplicit-fallthrough", "-Wstrict-overflow", "-Wdiv-by-zero",
    "-Xlint:fallthrough", "-Xlint:divzero", "-Xlint:unchecked", "-Xlint:cast", "-Xlint:empty",
    "error",
})  # fmt: skip
# The reference is "much faster" at this ratio, if the player's program takes at least
# SLOW_FLOOR seconds on those tests (below it, start-up noise dominates).
SLOWER_RATIO = 4.0
SLOW_FLOOR = 0.1
LARGEST_TESTS = 3


def note(key: str, **params: Any) -> dict[str, Any]:
    return {"key": key, "params": params}


@dataclass(frozen=True)
class Measured:
    """The largest tests' times, measured here: the player's program and the reference's
    (None when it could not be run), with the reference's language. `names` are the tests'
    names as players see them (`judge.disclosure.secret_name`: `secret/17`), never the
    package's file names, which say what a test holds: they go into the body, the page
    and the prompt."""

    names: list[str]
    player: list[float | None]
    reference: list[float | None]
    reference_language: str | None


def largest(sizes: Mapping[int, int], count: int = LARGEST_TESTS) -> list[int]:
    """The positions of the `count` largest tests by input size (ties: the earlier)."""
    return [name for name, _ in sorted(sizes.items(), key=lambda kv: (-kv[1], kv[0]))[:count]]


def growth(points: Iterable[tuple[int, float]]) -> float | None:
    """The exponent k of time ~ size^k by least squares on logs, over tests that took at
    least 20 ms; None without two such tests whose sizes differ by 4x or more."""
    usable = [(math.log(n), math.log(t)) for n, t in points if n > 0 and t >= 0.02]
    if len(usable) < 2 or max(x for x, _ in usable) - min(x for x, _ in usable) < math.log(4):
        return None
    mean_x = sum(x for x, _ in usable) / len(usable)
    mean_y = sum(y for _, y in usable) / len(usable)
    var = sum((x - mean_x) ** 2 for x, _ in usable)
    cov = sum((x - mean_x) * (y - mean_y) for x, y in usable)
    return round(cov / var, 1) if var > 0 else None


def _first_failure(tests: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    return next((t for t in tests if t.get("verdict") not in ("AC", "OK")), None)


def correctness(
    verdict: str | None, tests: Sequence[Mapping[str, Any]], passed: int, total: int,
    findings: Sequence[Finding],
) -> list[dict[str, Any]]:  # fmt: skip
    notes: list[dict[str, Any]] = []
    if verdict == "AC":
        notes.append(note("review_all_passed", total=total))
    elif verdict == "CE":
        notes.append(note("review_compile_error"))
    elif verdict:
        notes.append(note("review_passed_some", passed=passed, total=total))
        failed = _first_failure(tests)
        if failed is not None:
            key = "review_failed_sample" if failed.get("sample") else "review_failed_secret"
            notes.append(
                note(
                    key,
                    test=int(failed.get("index", 0)) + 1,
                    verdict=str(failed.get("verdict")),
                    time=_seconds(failed.get("time")),
                )
            )
            hint = {"WA": "review_hint_wa", "TLE": "review_hint_tle", "RE": "review_hint_re",
                    "MLE": "review_hint_mle", "OLE": "review_hint_ole"}.get(
                str(failed.get("verdict")))  # fmt: skip
            if hint:
                notes.append(note(hint))
    for finding in findings:
        if finding.code in RISKY:
            notes.append(_finding_note(finding))
    return notes


def style(lint: Lint) -> list[dict[str, Any]]:
    if not lint.available:
        return [note("review_lint_unavailable", tool=lint.tool)]
    rest = [f for f in lint.findings if f.code not in RISKY]
    if not rest:
        return [note("review_lint_clean", tool=lint.tool)]
    return [_finding_note(f) for f in rest]


def _finding_note(finding: Finding) -> dict[str, Any]:
    return note("review_lint_finding", line=finding.line, code=finding.code,
                message=finding.message)  # fmt: skip


def _seconds(value: Any) -> str:
    return f"{float(value or 0):.2f}"


def _total(values: Sequence[float | None]) -> float | None:
    if not values or any(v is None for v in values):
        return None
    return sum(v for v in values if v is not None)


def complexity(
    measured: Measured | None, own_growth: float | None, time_limit: float
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any]]:
    """(complexity notes, approach notes, the figures kept in the body)."""
    notes: list[dict[str, Any]] = []
    approach: list[dict[str, Any]] = []
    figures: dict[str, Any] = {"growth": own_growth, "tests": [], "ratio": None}
    if own_growth is not None:
        notes.append(note("review_growth", k=f"{own_growth:.1f}"))
    if measured is None or not measured.names:
        notes.append(note("review_no_reference"))
        return notes, approach, figures
    figures["reference_language"] = measured.reference_language
    figures["tests"] = [
        {"name": n, "player": p, "reference": r}
        for n, p, r in zip(measured.names, measured.player, measured.reference, strict=True)
    ]
    player = _total(measured.player)
    reference = _total(measured.reference)
    if reference is None:
        notes.append(note("review_no_reference"))
        return notes, approach, figures
    if player is None:  # the player's program failed or ran out of time there
        notes.append(note("review_reference_only", reference=_seconds(reference),
                          limit=_seconds(time_limit)))  # fmt: skip
        approach.append(note("review_approach_faster"))
        return notes, approach, figures
    ratio = player / max(reference, 0.005)
    figures["ratio"] = round(ratio, 2)
    params = {"player": _seconds(player), "reference": _seconds(reference),
              "ratio": f"{ratio:.1f}", "language": measured.reference_language or ""}  # fmt: skip
    if ratio >= SLOWER_RATIO and player >= SLOW_FLOOR:
        notes.append(note("review_slower", **params))
        approach.append(note("review_approach_faster"))
    elif ratio <= 1.5 or player < SLOW_FLOOR:
        notes.append(note("review_similar", **params))
    else:
        notes.append(note("review_somewhat_slower", **params))
    return notes, approach, figures


def build(
    *,
    verdict: str | None,
    passed: int,
    total: int,
    tests: Sequence[Mapping[str, Any]],
    lint: Lint,
    measured: Measured | None,
    own_growth: float | None,
    time_limit: float,
) -> dict[str, Any]:
    """The review's body. `tests` are the tests as players see them (shown_test)."""
    complexity_notes, approach, figures = complexity(measured, own_growth, time_limit)
    if not approach and verdict == "AC" and not lint.findings:
        approach.append(note("review_approach_fine"))
    return {
        "verdict": verdict,
        "passed": passed,
        "total": total,
        "tests": [dict(t) for t in tests],
        "lint": lint.as_json(),
        "complexity": figures,
        "sections": {
            "correctness": correctness(verdict, tests, passed, total, lint.findings),
            "complexity": complexity_notes,
            "style": style(lint),
            "approach": approach,
        },
    }
