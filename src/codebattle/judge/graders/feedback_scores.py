"""A validator's score files: score.txt (an absolute score) and score_multiplier.txt (a
fraction of the case's maximum score, 2025-09 "Scoring test cases"), read from its feedback
folder after it ran, and checked against its verdict.

The same rules hold for an output validator and for an interactor (problemtools reads
score.txt after both). A broken score file is the package's fault: IE, never the player's.
So is a missing one where it is mandatory: legacy `validation: custom score` makes every
accepted case's score.txt mandatory (problemtools: "problem has custom scoring but validator
did not produce score.txt" is a judge error); in 2025-09 only unbounded groups need it, which
judge/aggregation.py checks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from codebattle.judge.package import ProblemPackage
from codebattle.judge.sandbox import Box, read_box_file
from codebattle.judge.verdicts import Verdict

SCORE_BYTES = 64


@dataclass(frozen=True)
class Scores:
    score: float | None = None  # score.txt
    multiplier: float | None = None  # score_multiplier.txt
    error: str = ""  # why the files make the case a judge error


def scores_allowed(package: ProblemPackage) -> bool:
    """Legacy: `validation: custom score`; 2023-07 and 2025-09: any scoring problem."""
    if package.format_version == "legacy":
        return package.custom_score
    return package.custom_score or package.scoring


def read_scores(box: Box, package: ProblemPackage, verdict: Verdict) -> Scores:
    """The scores a validator wrote for a case it judged `verdict` (AC, WA or IE)."""
    if not scores_allowed(package) or verdict == Verdict.IE:
        return Scores()  # problems without scores ignore the files, as before
    score_text = read_box_file(box, "feedback/score.txt", SCORE_BYTES)
    multiplier_text = (
        None
        if package.format_version == "legacy"
        else read_box_file(box, "feedback/score_multiplier.txt", SCORE_BYTES)
    )
    if score_text is None and multiplier_text is None:
        if package.format_version == "legacy" and verdict == Verdict.AC:
            return Scores(
                error="validator accepted the case but wrote no score.txt "
                "(problem.yaml has validation: custom score)"
            )
        return Scores()
    if score_text is not None and multiplier_text is not None:
        return Scores(error="validator wrote both score.txt and score_multiplier.txt")
    written = "score.txt" if score_text is not None else "score_multiplier.txt"
    if verdict != Verdict.AC:
        return Scores(error=f"validator wrote {written} for a rejected case")
    text = score_text if score_text is not None else multiplier_text
    assert text is not None
    try:
        value = float(text.decode("ascii").strip())
    except (UnicodeDecodeError, ValueError):
        return Scores(error=f"validator wrote a bad {written}: {text[:40]!r}")
    if not math.isfinite(value):
        return Scores(error=f"validator wrote a bad {written}: {value}")
    if score_text is not None:
        if value < 0 and package.format_version != "legacy":
            return Scores(error=f"validator wrote a negative score.txt: {value:g}")
        return Scores(score=value)
    if not 0 <= value <= 1:
        return Scores(error=f"score_multiplier.txt must be within [0, 1], got {value:g}")
    return Scores(multiplier=value)
