"""The explainable risk score: weak signals, each with its evidence, combined into one score
and a level. Pure: no database, no clock.

Each signal has a strength in 0..1 (how strongly it alone suggests cheating) and a weight
(how much we trust it); its contribution is weight × strength, and the score combines the
contributions as independent odds, 1 − Π(1 − contribution): one strong signal is enough to
ask for a review, two agreeing ones reach "high", and a signal that cannot be measured
(status "unavailable": no telemetry, no GPTZero key) contributes nothing and says so. The
weights and the default thresholds are calibrated on tests/fairplay/corpus (docs/fairplay.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

# Signal names.
SIMILARITY = "similarity"  # much like another player's accepted code or a reference solution
PASTE = "paste"  # code pasted from outside the page
BURST = "burst"  # code that appeared without the typing to write it
SOLVE_TIME = "solve_time"  # solved far faster than others solve this problem
AI_TEXT = "ai_text"  # GPTZero: the comments and prose read as machine-written
REPORTS = "reports"  # opponents reported this player in this game

OK, UNAVAILABLE, NOT_APPLICABLE = "ok", "unavailable", "not_applicable"
NONE, REVIEW, HIGH = "none", "review", "high"

# How much each signal is trusted at full strength. Similarity to another player's code in
# the same game is the strongest evidence we have; GPTZero is weak on code and a report is
# an accusation, so neither reaches a review alone.
WEIGHTS: dict[str, float] = {
    SIMILARITY: 0.85,
    PASTE: 0.6,
    BURST: 0.4,
    SOLVE_TIME: 0.25,
    AI_TEXT: 0.3,
    REPORTS: 0.2,
}


@dataclass(frozen=True)
class Signal:
    """One signal as measured. `evidence` is JSON a reviewer reads (which fragments matched
    whom, which paste, which GPTZero result); `summary` a short reason, as a text key of
    the locale catalogues (`fairplay.reason.<name>`) with its parameters."""

    name: str
    status: str = OK  # OK | UNAVAILABLE | NOT_APPLICABLE
    strength: float = 0.0
    evidence: dict[str, Any] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)

    def contribution(self) -> float:
        if self.status != OK:
            return 0.0
        return WEIGHTS.get(self.name, 0.0) * _clamp(self.strength)

    def to_dict(self) -> dict[str, Any]:
        return {
            "signal": self.name,
            "status": self.status,
            "strength": round(_clamp(self.strength), 4),
            "weight": WEIGHTS.get(self.name, 0.0),
            "contribution": round(self.contribution(), 4),
            "evidence": self.evidence,
            "params": self.params,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Signal:
        return cls(
            data["signal"], data.get("status", OK), float(data.get("strength", 0.0)),
            dict(data.get("evidence") or {}), dict(data.get("params") or {}),
        )  # fmt: skip


@dataclass(frozen=True)
class Thresholds:
    review: float = 0.4  # config.FAIRPLAY_REVIEW_SCORE's default
    high: float = 0.8  # config.FAIRPLAY_HIGH_SCORE's default


@dataclass(frozen=True)
class Assessment:
    score: float
    level: str
    signals: tuple[Signal, ...]

    def reasons(self) -> list[dict[str, Any]]:
        """The contributing signals, strongest first: what a flag lists."""
        ranked = sorted(self.signals, key=lambda s: s.contribution(), reverse=True)
        return [
            {"signal": s.name, "contribution": round(s.contribution(), 4), "params": s.params}
            for s in ranked
            if s.contribution() > 0
        ]


def combine(contributions: Iterable[float]) -> float:
    remaining = 1.0
    for c in contributions:
        remaining *= 1.0 - _clamp(c)
    return round(1.0 - remaining, 4)


def level_of(score: float, thresholds: Thresholds) -> str:
    if score >= thresholds.high:
        return HIGH
    if score >= thresholds.review:
        return REVIEW
    return NONE


def assess(signals: Iterable[Signal], thresholds: Thresholds = Thresholds()) -> Assessment:
    found = tuple(signals)
    score = combine(s.contribution() for s in found)
    return Assessment(score, level_of(score, thresholds), found)


def _clamp(value: float) -> float:
    return max(0.0, min(1.0, float(value)))
