"""Kattis scoring: how test case results add up to group scores and the problem's score.

This is problemtools' default grader. The settings are a group's testdata.yaml settings as
the loader fills them (TestGroup.settings, inherited from the parent groups key by key):

- A test case scores `accept_score` (default 1) when accepted, else `reject_score`
  (default 0). With `validation: custom score` the validator's score.txt value replaces
  `accept_score` for an accepted case.
- A group's items are its own cases, then its subgroups (a subgroup counts as one item: its
  aggregate score), in judging order (TestGroup order, i.e. sorted by name).
- `on_reject: break` (the default) stops at the first rejected item: later items are not
  judged and do not count. `on_reject: continue` counts every item.
- `grader_flags` picks the aggregate: `sum` (default), `min`, `max` or `avg` (the last of
  them given wins; no items scores 0). A group is accepted when every counted item is,
  unless the flags hold `always_accept` or `accept_if_any_accepted`.
- The problem's score is the score of data/secret: samples never score (`ignore_sample`).
- `range` is not enforced here (problemtools only reports scores outside it).
- `grading: custom`: the package's grader program (judge/graders/custom.py) gets the
  group's items as "VERDICT SCORE" lines (a case's verdict as problemtools names it, and its
  score as above; a subgroup's own verdict and score) and the group's `grader_flags`, and
  answers the group's verdict and score. Without a grader: GradingError.

API:

- `case_score(accepted, score, settings) -> float`
- `group_score(results, settings) -> (accepted, score)`: `results` are (accepted, score)
  items in judging order; score None means "use accept_score / reject_score" (a plain test
  case), a number is used as is (a custom validator's score for an accepted case, or a
  subgroup's aggregate). The result has the same shape, so it nests.
- `score_tree(group, accepted, scores=None, *, verdicts=None, grader=None) -> float`: the
  score of a whole TestGroup tree. `accepted` maps case names ("secret/group1/01") to whether
  the case was accepted; missing cases count as rejected. `scores` optionally maps accepted
  case names to validator scores. `verdicts` (case name -> AC, WA, TLE, RTE, MLE, OLE, JE;
  a rejected case without one is WA) and `grader` serve `grading: custom` groups. Given the
  data/ root it returns data/secret's score; given any other group, that group's score.
- `full_score(group) -> float`: the score when every case is accepted.

Example: secret/group1 with `accept_score: 30` and `grader_flags: min`, secret/group2 with
`accept_score: 70` and `grader_flags: min`. All of group1 and one of group2's two cases
pass: group1 scores min(30, 30) = 30, group2 scores min(70, 0) = 0 (with the default
`on_reject: break` its failing case may even end it early), and the problem scores
30 + 0 = 30:

    >>> from pathlib import Path
    >>> from codebattle.judge.package import TestCase, TestGroup
    >>> def cases(group: str) -> list[TestCase]:
    ...     names = [f"secret/{group}/{i}" for i in (1, 2)]
    ...     return [TestCase(n, Path(n + ".in"), Path(n + ".ans"), sample=False) for n in names]
    >>> g1 = TestGroup("data/secret/group1", {"accept_score": 30, "grader_flags": "min"},
    ...                cases("group1"))
    >>> g2 = TestGroup("data/secret/group2", {"accept_score": 70, "grader_flags": "min"},
    ...                cases("group2"))
    >>> data = TestGroup("data", {}, groups=[TestGroup("data/secret", {}, groups=[g1, g2])])
    >>> score_tree(data, {"secret/group1/1": True, "secret/group1/2": True,
    ...                   "secret/group2/1": True, "secret/group2/2": False})
    30.0
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from codebattle.judge import aggregation
from codebattle.judge.graders.custom import GradingError
from codebattle.judge.package import ProblemPackage, TestGroup

__all__ = [
    "GroupGrader",
    "GradingError",
    "case_score",
    "full_score",
    "group_score",
    "package_score",
    "score_tree",
]

# A custom grader: a group's items as (verdict, score), and its grader_flags ->
# the group's (verdict, score). judge/graders/custom.py runs the package's program.
GroupGrader = Callable[[Sequence[tuple[str, float]], Sequence[str]], tuple[str, float]]

_AGGREGATES: dict[str, Callable[[list[float]], float]] = {
    "sum": lambda scores: float(sum(scores)),
    "min": lambda scores: float(min(scores)),
    "max": lambda scores: float(max(scores)),
    "avg": lambda scores: float(sum(scores)) / len(scores),
}


def case_score(accepted: bool, score: float | None, settings: Mapping[str, Any]) -> float:
    """One item's score: `score` if given, else accept_score / reject_score."""
    if score is not None:
        return float(score)
    key, default = ("accept_score", 1.0) if accepted else ("reject_score", 0.0)
    value = settings.get(key)
    return default if value is None else float(value)


def group_score(
    results: Sequence[tuple[bool, float | None]], settings: Mapping[str, Any]
) -> tuple[bool, float]:
    """Aggregate a group's items, in judging order, into (accepted, score)."""
    items = [("AC" if ok else "WA", score) for ok, score in results]
    verdict, score = _grade(items, settings, None)
    return verdict == "AC", score


def _grade(
    results: Sequence[tuple[str, float | None]],
    settings: Mapping[str, Any],
    grader: GroupGrader | None,
) -> tuple[str, float]:
    """A group's (verdict, score) from its items' (verdict, score), in judging order."""
    flags = _flags(settings.get("grader_flags"))
    counted: list[tuple[str, float]] = []
    stop_on_reject = (settings.get("on_reject") or "break") == "break"
    for verdict, score in results:
        counted.append((verdict, case_score(verdict == "AC", score, settings)))
        if stop_on_reject and verdict != "AC":
            break
    grading = settings.get("grading") or "default"
    if grading == "custom":
        if grader is None:
            raise GradingError("a group has grading: custom, but the package has no grader")
        return grader(counted, flags)
    if grading != "default":
        raise GradingError(f"unsupported grading {grading!r}: default or custom")

    aggregate = "sum"
    for flag in flags:
        if flag in _AGGREGATES:
            aggregate = flag
    if "ignore_sample" in flags:  # top level only: sample first, secret last
        counted = counted[-1:]
    if not counted:
        return "AC", 0.0
    rejected = [verdict for verdict, _ in counted if verdict != "AC"]
    verdict = rejected[0] if rejected else "AC"  # problemtools' default: the first error
    if "always_accept" in flags or (
        "accept_if_any_accepted" in flags and len(rejected) < len(counted)
    ):
        verdict = "AC"
    return verdict, _AGGREGATES[aggregate]([score for _, score in counted])


def score_tree(
    group: TestGroup,
    accepted: Mapping[str, bool],
    scores: Mapping[str, float] | None = None,
    *,
    verdicts: Mapping[str, str] | None = None,
    grader: GroupGrader | None = None,
) -> float:
    """The problem's score (data/secret's) given the data/ root, else `group`'s own score."""
    if group.name == "data":
        secret = next((g for g in group.groups if g.name == "data/secret"), None)
        if secret is None:
            return 0.0
        group = secret
    return _Tree(accepted, scores or {}, verdicts or {}, grader).grade(group)[1]


def package_score(
    package: ProblemPackage,
    accepted: Mapping[str, bool],
    scores: Mapping[str, float] | None = None,
    multipliers: Mapping[str, float] | None = None,
    *,
    verdicts: Mapping[str, str] | None = None,
    grader: GroupGrader | None = None,
) -> float:
    """The score of a whole submission under the rules of the package's format version
    (`multipliers`: 2025-09 score_multiplier.txt values, for judge/aggregation.py)."""
    if not package.legacy:  # 2023-07 / 2025-09 "Result aggregation"
        return aggregation.package_score(package, accepted, scores, multipliers)
    return score_tree(package.data, accepted, scores, verdicts=verdicts, grader=grader)


def full_score(group: TestGroup) -> float:
    """The best score without a custom score validator: every case accepted."""
    return score_tree(group, {case.name: True for case in group.all_cases()})


@dataclass(frozen=True)
class _Tree:
    accepted: Mapping[str, bool]
    scores: Mapping[str, float]
    verdicts: Mapping[str, str]
    grader: GroupGrader | None

    def grade(self, group: TestGroup) -> tuple[str, float]:
        items: list[tuple[str, float | None]] = []
        for case in group.cases:
            ok = bool(self.accepted.get(case.name, False))
            verdict = "AC" if ok else self.verdicts.get(case.name, "WA")
            # A validator's score only ever counts for an accepted case, as in problemtools.
            items.append((verdict, self.scores.get(case.name) if ok else None))
        stop_on_reject = (group.settings.get("on_reject") or "break") == "break"
        for sub in group.groups:
            if stop_on_reject and any(verdict != "AC" for verdict, _ in items):
                break  # not judged: _grade would drop it anyway
            items.append(self.grade(sub))
        return _grade(items, group.settings, self.grader)


def _flags(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return value.split()
    return [str(flag) for flag in value]
