"""Each fair-play signal measured from what was stored (fairplay/signals.py), and the score
that combines them (fairplay/risk.py): strengths at their bounds and between, evidence, and
what is unavailable said so rather than guessed."""

from __future__ import annotations

from typing import Any

import pytest

from codebattle.fairplay import risk, signals
from codebattle.fairplay.risk import HIGH, NONE, OK, REVIEW, UNAVAILABLE, Signal, Thresholds
from codebattle.integrations.gptzero import AITextSignal, GPTZeroResult

CODE = "x" * 100  # 100 characters, none of them blank


def alike(score: float, shared: int, kind: str = "submission", **more: Any) -> signals.Alike:
    return signals.Alike(
        kind, 7 if kind == "submission" else None, 3 if kind == "submission" else None,
        "python", score, shared, {"submission": [[1, 5]], "other": [[2, 6]]}, **more,
    )  # fmt: skip


def test_similarity_is_the_best_match_scaled_by_its_evidence() -> None:
    assert signals.similarity([]).strength == 0 and signals.similarity([]).status == OK
    full = signals.similarity([alike(0.9, 30, same_game=True), alike(0.5, 30)])
    assert full.strength == pytest.approx(0.9)
    assert full.params == {"score": 90, "kind": "submission", "same_game": True}
    assert full.evidence["matches"][0]["fragments"] == {"submission": [[1, 5]], "other": [[2, 6]]}
    # A short program rests on few hashes: everyone writes it alike.
    assert signals.similarity([alike(1.0, 3)]).strength == pytest.approx(3 / 15)
    # A reference solution is what careful players converge on.
    assert signals.similarity([alike(1.0, 30, "reference")]).strength == pytest.approx(0.6)
    # The strongest after scaling wins, not the highest raw score.
    best = signals.similarity([alike(1.0, 30, "reference"), alike(0.8, 30)])
    assert best.params["kind"] == "submission" and best.strength == pytest.approx(0.8)


def paste(chars: int, internal: bool = False) -> dict[str, Any]:
    return {"kind": "paste", "at": 1, "chars": chars, "lines": 3, "internal": internal}


def typing(chars: int) -> dict[str, Any]:
    return {"kind": "typing", "at": 1, "span": 5000, "chars": chars, "deletes": 0}


@pytest.mark.parametrize(
    ("events", "strength"),
    [
        ([paste(100)], 1.0),  # the whole code from outside
        ([paste(80)], 1.0),
        ([paste(50)], 0.5),  # (0.5 - 0.2) / 0.6
        ([paste(20)], 0.0),  # under 40 characters: editing, not importing
        ([paste(100, internal=True)], 0.0),  # copied inside the page
        ([typing(100)], 0.0),
    ],
)
def test_paste_is_the_share_of_the_code_pasted_from_outside(
    events: list[dict[str, Any]], strength: float
) -> None:
    found = signals.paste(events, CODE)
    assert found.status == OK and found.strength == pytest.approx(strength)


def test_paste_without_telemetry_or_with_little_code() -> None:
    assert signals.paste(None, CODE).status == UNAVAILABLE
    assert signals.paste([paste(50)], "x" * 30).status == risk.NOT_APPLICABLE
    found = signals.paste([paste(100), paste(5)], CODE)
    assert [p["chars"] for p in found.evidence["pastes"]] == [100, 5]
    assert found.evidence["external_chars"] == 100 and found.evidence["code_chars"] == 100


@pytest.mark.parametrize(
    ("events", "strength"),
    [
        ([typing(100)], 0.0),  # typed it all
        ([typing(50)], 0.0),  # half typed: no burst
        ([typing(35)], 0.5),  # (0.5 - 0.35) / 0.3
        ([typing(10)], 1.0),  # a fifth or less: a full burst
        ([paste(100, internal=True)], 0.0),  # moved inside the page: it was written here
        ([paste(100)], 1.0),
    ],
)
def test_burst_is_code_that_appeared_without_typing(
    events: list[dict[str, Any]], strength: float
) -> None:
    found = signals.burst(events, CODE)
    assert found.status == OK and found.strength == pytest.approx(strength)


def test_burst_counts_the_code_without_its_blanks() -> None:
    spaced = "x " * 100 + "\n" * 50  # 100 characters written, the rest layout
    assert signals.burst([typing(100)], spaced).strength == 0
    assert signals.burst([typing(100)], spaced).evidence["code_chars"] == 100
    assert signals.burst(None, CODE).status == UNAVAILABLE


def test_solve_time_against_the_problems_other_solves() -> None:
    others = [float(s) for s in range(100, 1100, 100)]  # 10 solves, median 550
    assert signals.solve_time(None, others).status == risk.NOT_APPLICABLE
    assert signals.solve_time(50, others[:9]).status == UNAVAILABLE  # too few to say
    fast = signals.solve_time(55, others)  # a tenth of the median
    assert fast.strength == 1.0 and fast.evidence["median"] == 550
    assert fast.evidence["percentile"] == 0
    assert signals.solve_time(550 * 0.35, others).strength == pytest.approx(0.5)
    assert signals.solve_time(300, others).strength == 0


def test_ai_text_is_gptzeros_probability_or_says_why_not() -> None:
    result = GPTZeroResult(0.83, {"ai": 0.83, "human": 0.17}, "ai", "v1")
    found = signals.ai_text(AITextSignal("ok", result=result), 400)
    assert found.status == OK and found.strength == pytest.approx(0.83)
    assert found.evidence["predicted_class"] == "ai" and found.evidence["chars"] == 400
    assert signals.ai_text(AITextSignal("unavailable")).status == UNAVAILABLE
    assert signals.ai_text(AITextSignal("not_enough_text")).status == risk.NOT_APPLICABLE
    failed = signals.ai_text(AITextSignal("error", error="timeout"))
    assert failed.status == UNAVAILABLE and failed.evidence["error"] == "timeout"


def test_reports_carry_the_reporters_words() -> None:
    assert signals.reports([]).strength == 0
    one = signals.reports([{"id": 1, "reporter_id": 2, "reason": "copied", "text": "same"}])
    assert one.strength == 1 and one.evidence["reports"][0]["text"] == "same"


def test_the_score_combines_contributions_as_independent_odds() -> None:
    copied = Signal(risk.SIMILARITY, strength=1.0)
    pasted = Signal(risk.PASTE, strength=1.0)
    missing = Signal(risk.AI_TEXT, status=UNAVAILABLE, strength=1.0)
    assert missing.contribution() == 0  # unavailable: contributes nothing, whatever it says
    alone = risk.assess([copied, missing])
    assert alone.score == pytest.approx(0.85) and alone.level == HIGH
    both = risk.assess([copied, pasted])
    assert both.score == pytest.approx(1 - 0.15 * 0.4)
    assert [r["signal"] for r in both.reasons()] == ["similarity", "paste"]
    assert risk.assess([pasted]).level == REVIEW  # one whole paste alone asks for a review
    assert risk.assess([]).level == NONE
    assert risk.level_of(0.5, Thresholds(review=0.6, high=0.9)) == NONE
    again = Signal.from_dict(both.signals[1].to_dict())
    assert again == pasted
