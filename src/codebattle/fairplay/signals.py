"""Each fair-play signal measured from what was stored, with its evidence (risk.Signal).
Pure: the assessment (fairplay/assess.py) reads the rows and calls these.

Telemetry events are those of docs/protocol.md ("telemetry"): paste, typing, blur, focus,
run, each with `at` in server milliseconds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from codebattle.fairplay.risk import (
    AI_TEXT,
    BURST,
    NOT_APPLICABLE,
    OK,
    PASTE,
    REPORTS,
    SIMILARITY,
    SOLVE_TIME,
    UNAVAILABLE,
    Signal,
)
from codebattle.integrations.gptzero import AITextSignal

# A match resting on fewer distinct hashes than this is scaled down: a short program (say,
# reading two numbers and printing their sum) is written alike by everyone.
SIMILARITY_FULL_SHARED = 15
REFERENCE_SHARE = 0.6  # a reference solution is what careful players converge on
SMALL_PASTE = 40  # characters: a name or a line pasted is editing, not importing code
PASTE_FREE_SHARE, PASTE_FULL_SHARE = 0.2, 0.8  # of the code pasted from outside: 0 → 1
TYPED_FULL_SHARE, TYPED_NONE_SHARE = 0.5, 0.2  # of the code typed: no burst → full burst
MIN_CODE_CHARS = 60  # shorter code proves nothing either way
MIN_SOLVE_SAMPLES = 10  # other solves of the problem before solve time says anything
FAST_SHARE, SLOW_SHARE = 0.2, 0.5  # of the median solve time: full strength → none


@dataclass(frozen=True)
class Alike:
    """One stored comparison (fairplay.models.SimilarityMatch) worth showing."""

    other_kind: str  # "submission" | "reference"
    other_submission_id: int | None
    other_user_id: int | None
    other_language: str
    score: float
    shared: int
    fragments: Mapping[str, Sequence[Sequence[int]]]
    same_game: bool = False  # the other player's code in this very game

    def to_dict(self) -> dict[str, Any]:
        return {
            "other_kind": self.other_kind,
            "other_submission_id": self.other_submission_id,
            "other_user_id": self.other_user_id,
            "other_language": self.other_language,
            "score": round(self.score, 4),
            "shared": self.shared,
            "same_game": self.same_game,
            "fragments": {k: [list(r) for r in v] for k, v in self.fragments.items()},
        }


def similarity(alike: Sequence[Alike]) -> Signal:
    """The strongest comparison: its score, scaled down when it rests on few hashes and
    when the other side is a reference solution."""
    if not alike:
        return Signal(SIMILARITY, OK, 0.0, {"matches": []}, {"score": 0})

    def strength(a: Alike) -> float:
        size = min(1.0, a.shared / SIMILARITY_FULL_SHARED)
        return a.score * size * (REFERENCE_SHARE if a.other_kind == "reference" else 1.0)

    ranked = sorted(alike, key=strength, reverse=True)
    best = ranked[0]
    params = {
        "score": round(best.score * 100),
        "kind": best.other_kind,
        "same_game": best.same_game,
    }
    return Signal(
        SIMILARITY, OK, strength(best), {"matches": [a.to_dict() for a in ranked[:5]]}, params
    )


def _code_chars(code: str) -> int:
    return len("".join(code.split()))  # what was written, not how it was laid out


def paste(events: Sequence[Mapping[str, Any]] | None, code: str) -> Signal:
    """Code pasted from outside the page, as a share of the submitted code."""
    if events is None:
        return Signal(PASTE, UNAVAILABLE, 0.0, {"events": 0}, {})
    chars = max(len(code), 1)  # pastes are measured with their whitespace, so the code is
    pastes = [e for e in events if e.get("kind") == "paste"]
    external = sum(
        int(e["chars"]) for e in pastes if not e.get("internal") and e["chars"] >= SMALL_PASTE
    )
    evidence = {
        "pastes": [
            {k: e.get(k) for k in ("at", "chars", "lines", "internal")} for e in pastes[:50]
        ],
        "external_chars": external,
        "code_chars": chars,
    }
    if chars < MIN_CODE_CHARS:
        return Signal(PASTE, NOT_APPLICABLE, 0.0, evidence, {})
    share = min(1.0, external / chars)
    strength = (share - PASTE_FREE_SHARE) / (PASTE_FULL_SHARE - PASTE_FREE_SHARE)
    return Signal(PASTE, OK, max(0.0, min(1.0, strength)), evidence, {"share": round(share * 100)})


def burst(events: Sequence[Mapping[str, Any]] | None, code: str) -> Signal:
    """Code that appeared without the typing to write it (pasted from inside the page
    counts as written: it was typed there first)."""
    if events is None:
        return Signal(BURST, UNAVAILABLE, 0.0, {"events": 0}, {})
    chars = _code_chars(code)
    typed = sum(int(e["chars"]) for e in events if e.get("kind") == "typing")
    internal = sum(
        int(e["chars"]) for e in events if e.get("kind") == "paste" and e.get("internal")
    )
    written = typed + internal
    evidence = {"typed_chars": typed, "internal_paste_chars": internal, "code_chars": chars,
                "events": len(events)}  # fmt: skip
    if chars < MIN_CODE_CHARS:
        return Signal(BURST, NOT_APPLICABLE, 0.0, evidence, {})
    share = written / chars
    strength = (TYPED_FULL_SHARE - share) / (TYPED_FULL_SHARE - TYPED_NONE_SHARE)
    return Signal(
        BURST, OK, max(0.0, min(1.0, strength)), evidence, {"share": round(min(share, 9.99) * 100)}
    )


def solve_time(seconds: float | None, others: Sequence[float]) -> Signal:
    """Solved far faster than this problem's other solves in games."""
    if seconds is None:
        return Signal(SOLVE_TIME, NOT_APPLICABLE, 0.0, {}, {})
    ordered = sorted(others)
    evidence: dict[str, Any] = {"seconds": round(seconds, 1), "samples": len(ordered)}
    if len(ordered) < MIN_SOLVE_SAMPLES:
        return Signal(SOLVE_TIME, UNAVAILABLE, 0.0, evidence, {})
    middle = len(ordered) // 2
    median = ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
    faster = sum(1 for t in ordered if t < seconds)
    evidence.update(median=round(median, 1), percentile=round(100 * faster / len(ordered), 1))
    if median <= 0:
        return Signal(SOLVE_TIME, NOT_APPLICABLE, 0.0, evidence, {})
    share = seconds / median
    strength = (SLOW_SHARE - share) / (SLOW_SHARE - FAST_SHARE)
    return Signal(
        SOLVE_TIME, OK, max(0.0, min(1.0, strength)), evidence,
        {"seconds": round(seconds), "median": round(median)},
    )  # fmt: skip


def ai_text(found: AITextSignal, chars: int = 0) -> Signal:
    """GPTZero's view of the submission's prose; its strength is the probability that the
    prose is entirely machine-written. Without a key: unavailable, never guessed."""
    evidence: dict[str, Any] = {"status": found.status, "chars": chars}
    if found.status != "ok" or found.result is None:
        if found.error:
            evidence["error"] = found.error
        status = NOT_APPLICABLE if found.status == "not_enough_text" else UNAVAILABLE
        return Signal(AI_TEXT, status, 0.0, evidence, {})
    result = found.result
    evidence.update(
        completely_generated_prob=result.completely_generated_prob,
        predicted_class=result.predicted_class,
        class_probabilities=dict(result.class_probabilities),
    )
    probability = result.completely_generated_prob
    return Signal(AI_TEXT, OK, probability, evidence, {"probability": round(probability * 100)})


def reports(rows: Sequence[Mapping[str, Any]]) -> Signal:
    """Opponents' reports of this player in this game: {id, reporter_id, reason, text}."""
    if not rows:
        return Signal(REPORTS, OK, 0.0, {"reports": []}, {"count": 0})
    return Signal(REPORTS, OK, 1.0, {"reports": [dict(r) for r in rows]}, {"count": len(rows)})
