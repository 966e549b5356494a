"""Precision and recall of the fair-play risk level on the labelled corpus
(tests/fairplay/corpus, its README.md says what is in it and how to add a case).

Each case's signals are built as the assessment builds them from what is stored: its
similarity matches as `examine` stores them (compared, minus the problem's starter code and
the language's boilerplate, with its opponent in the game, the problem's earlier cases as
other players' recent submissions, and the problem's reference solutions; only matches
scoring at least SIMILARITY_REVIEW_SCORE are stored), paste and burst from its telemetry,
solve time against the problem's clean cases, GPTZero unavailable (no key in tests) and no
reports; then `risk.assess` with the configured default thresholds. The floors the figures
must reach are read from docs/fairplay.md ("Calibration: the corpus"), so the doc and the
test cannot drift apart. `pytest -s` prints the table; nothing is written to disk.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from codebattle.config import Settings
from codebattle.fairplay import signals
from codebattle.fairplay.risk import HIGH, NONE, REVIEW, Assessment, Thresholds, assess
from codebattle.fairplay.service import prepared_fingerprint
from codebattle.fairplay.similarity import Fingerprint, compare
from codebattle.fairplay.tokens import grammar_of
from codebattle.integrations.gptzero import AITextSignal
from codebattle.judge.loader import load_package
from codebattle.problems.importer import reference_solutions
from codebattle.problems.templates import templates_for

ROOT = Path(__file__).resolve().parents[2]
CORPUS = Path(__file__).resolve().parent / "corpus"
DOC = ROOT / "docs" / "fairplay.md"
EXTENSIONS = {"python": "py", "cpp": "cpp", "java": "java"}
LABELS = ("clean", "cheat")
KINDS = {
    "clean": ("typed", "ide"),
    "cheat": ("pasted", "renamed_copy", "llm"),
}
FLOOR = re.compile(r"`(flagged|high) (precision|recall) >= ([01]\.\d+)`")


@dataclass(frozen=True)
class Case:
    problem: str
    id: str
    label: str
    kind: str
    language: str
    code: str
    solve_seconds: float
    opponent: str | None
    events: list[dict[str, Any]] | None


@dataclass(frozen=True)
class Problem:
    slug: str
    starters: dict[str, str]
    references: dict[str, str]


def load_case(path: Path) -> Case:
    meta = tomllib.loads((path / "case.toml").read_text(encoding="utf-8"))
    language = meta["language"]
    telemetry = path / "telemetry.json"
    return Case(
        problem=path.parent.name,
        id=path.name,
        label=meta["label"],
        kind=meta["kind"],
        language=language,
        code=(path / f"code.{EXTENSIONS[language]}").read_text(encoding="utf-8"),
        solve_seconds=float(meta["solve_seconds"]),
        opponent=meta.get("opponent"),
        events=json.loads(telemetry.read_text(encoding="utf-8")) if telemetry.exists() else None,
    )


@cache
def corpus() -> tuple[Case, ...]:
    return tuple(load_case(p.parent) for p in sorted(CORPUS.glob("*/*/case.toml")))


@cache
def problem(slug: str) -> Problem:
    package = load_package(ROOT / "problems" / slug)
    return Problem(
        slug, templates_for(package.root, package.languages), reference_solutions(package)
    )


@cache
def fingerprint_of(slug: str, language: str, code: str) -> Fingerprint:
    return prepared_fingerprint(language, code, problem(slug).starters.get(language))


def _alike(
    case: Case, kind: str, index: int | None, language: str, code: str, same_game: bool
) -> signals.Alike | None:
    """One comparison as `examine` stores it, or None when it would not be stored."""
    if grammar_of(language) != grammar_of(case.language):
        return None
    mine = fingerprint_of(case.problem, case.language, case.code)
    match = compare(mine, fingerprint_of(case.problem, language, code))
    if match.score <= 0 or match.score < _default("SIMILARITY_REVIEW_SCORE"):
        return None
    fragments = {
        "submission": [[r.start, r.end] for r in match.a_lines],
        "other": [[r.start, r.end] for r in match.b_lines],
    }
    return signals.Alike(
        kind, index, None, language, match.score, match.shared, fragments, same_game
    )


def similarity_of(case: Case, cases: Sequence[Case]) -> list[signals.Alike]:
    """Its opponent in the game, the problem's earlier cases (examined before it, as other
    players' recent submissions are) and the problem's reference solutions."""
    same = [c for c in cases if c.problem == case.problem]
    earlier = same[: same.index(case)]
    found = []
    for index, other in enumerate(earlier):
        found.append(
            _alike(case, "submission", index, other.language, other.code, other.id == case.opponent)
        )
    for language, code in sorted(problem(case.problem).references.items()):
        found.append(_alike(case, "reference", None, language, code, False))
    return [a for a in found if a is not None]


def assessment_of(case: Case, cases: Sequence[Case], thresholds: Thresholds) -> Assessment:
    clean_times = [
        c.solve_seconds
        for c in cases
        if c.problem == case.problem and c.label == "clean" and c is not case
    ]
    return assess(
        [
            signals.similarity(similarity_of(case, cases)),
            signals.paste(case.events, case.code),
            signals.burst(case.events, case.code),
            signals.solve_time(case.solve_seconds, clean_times),
            signals.ai_text(AITextSignal("unavailable")),
            signals.reports([]),
        ],
        thresholds,
    )


def _default(name: str) -> float:
    """The setting's default, whatever the environment says: what the corpus calibrates."""
    return float(Settings.model_fields[name].default)


def default_thresholds() -> Thresholds:
    return Thresholds(_default("FAIRPLAY_REVIEW_SCORE"), _default("FAIRPLAY_HIGH_SCORE"))


@dataclass(frozen=True)
class Figures:
    true_pos: int
    false_pos: int
    false_neg: int

    @property
    def precision(self) -> float:
        flagged = self.true_pos + self.false_pos
        return self.true_pos / flagged if flagged else 1.0

    @property
    def recall(self) -> float:
        cheats = self.true_pos + self.false_neg
        return self.true_pos / cheats if cheats else 1.0


def figures(results: Iterable[tuple[Case, str]], levels: set[str]) -> Figures:
    tp = fp = fn = 0
    for case, level in results:
        hit = level in levels
        if case.label == "cheat":
            tp, fn = tp + hit, fn + (not hit)
        else:
            fp += hit
    return Figures(tp, fp, fn)


FLAGGED = {REVIEW, HIGH}


def floors() -> dict[tuple[str, str], float]:
    """{("flagged" | "high", "precision" | "recall"): floor} as docs/fairplay.md states them."""
    text = DOC.read_text(encoding="utf-8")
    return {(m[1], m[2]): float(m[3]) for m in FLOOR.finditer(text)}


def table(results: Sequence[tuple[Case, Assessment]]) -> str:
    lines = [f"{'kind':<14}{'label':<7}{'n':>4}{'none':>6}{'review':>8}{'high':>6}"]
    kinds = sorted({(c.label, c.kind) for c, _ in results}, key=lambda k: (k[0] != "clean", k))
    for label, kind in kinds:
        levels = [a.level for c, a in results if (c.label, c.kind) == (label, kind)]
        none, review, high = (levels.count(level) for level in (NONE, REVIEW, HIGH))
        lines.append(f"{kind:<14}{label:<7}{len(levels):>4}{none:>6}{review:>8}{high:>6}")
    pairs = [(c, a.level) for c, a in results]
    for name, levels_ in (("flagged", FLAGGED), ("high", {HIGH})):
        f = figures(pairs, levels_)
        lines.append(f"{name}: precision {f.precision:.3f} recall {f.recall:.3f} "
                     f"(tp {f.true_pos}, fp {f.false_pos}, fn {f.false_neg})")  # fmt: skip
    return "\n".join(lines)


def test_the_corpus_is_well_formed() -> None:
    cases = corpus()
    assert len(cases) >= 80
    assert len({c.problem for c in cases}) >= 6
    assert {c.language for c in cases} == set(EXTENSIONS)
    for case in cases:
        where = f"{case.problem}/{case.id}"
        assert case.label in LABELS and case.kind in KINDS[case.label], where
        assert (ROOT / "problems" / case.problem).is_dir(), where
        if case.opponent is not None:
            same = [c.id for c in cases if c.problem == case.problem]
            assert case.opponent in same[: same.index(case.id)], f"{where}: opponent earlier"
        for event in case.events or []:
            assert event["kind"] in {"paste", "typing", "blur", "focus", "run"}, where
    for label in LABELS:
        for kind in KINDS[label]:
            assert any(c.kind == kind for c in cases), kind


def test_the_doc_states_the_floors() -> None:
    assert set(floors()) == {(n, m) for n in ("flagged", "high") for m in ("precision", "recall")}


def test_precision_and_recall_reach_the_floors() -> None:
    cases = corpus()
    thresholds = default_thresholds()
    results = [(case, assessment_of(case, cases, thresholds)) for case in cases]
    print("\n" + table(results))
    for case, found in results:
        print(f"  {case.problem}/{case.id}: {found.level} {found.score:.3f} "
              f"{[(r['signal'], r['contribution']) for r in found.reasons()]}")  # fmt: skip
    pairs = [(c, a.level) for c, a in results]
    measured = {"flagged": figures(pairs, FLAGGED), "high": figures(pairs, {HIGH})}
    stated = floors()
    assert stated, "docs/fairplay.md states no floors"
    for (name, metric), floor in stated.items():
        value = getattr(measured[name], metric)
        assert value >= floor, f"{name} {metric} {value:.3f} below the floor {floor}"


def test_original_code_pasted_whole_is_at_most_reviewed() -> None:
    """A player who wrote elsewhere and pasted once is asked about, never held."""
    cases = corpus()
    for case in (c for c in cases if c.kind == "ide"):
        assert assessment_of(case, cases, default_thresholds()).level != HIGH, case.id
