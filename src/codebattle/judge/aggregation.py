"""Scores of 2023-07 and 2025-09 scoring problems ("Result aggregation" of the 2025-09 spec).

The settings are those test_data.py fills in from test_group.yaml (the draft's `scoring:`
map read as the same keys): data/secret and each of its test data groups have
`max_score` (None: unbounded; secret 100 by default, groups unbounded), `score_aggregation`
(`sum` for secret, `pass-fail` for groups by default) and `require_pass` (group names).

- A failed case scores 0. An accepted case in a `sum` or `min` group scores its maximum
  (`max_score / N` under `sum`, `max_score` under `min`), or what its validator said:
  score.txt is the score itself, score_multiplier.txt a fraction of the maximum. Cases of
  unbounded groups must have a score.txt.
- A `pass-fail` group scores its max_score if every case is accepted, else 0; `sum` adds
  its cases' scores, `min` takes the least (0 for no cases).
- data/secret is scored like a group from its own cases, or from its groups' scores; the
  submission's score is data/secret's. Samples never score (their score files are ignored).
- A group (or secret) whose `require_pass` groups (earlier pass-fail groups, or `sample`)
  were not all accepted is not run: it scores 0 and its cases count as not accepted. The
  engine does not run its cases at all (`Dependencies`, asked before each case).
- What the spec calls a judge error (a score above the maximum, both files, a score for a
  failed case or in a pass-fail group, a multiplier outside [0, 1] or for an unbounded case,
  no score.txt in an unbounded group) raises ScoringError; the engine reports it as IE.

`check_groups(secret)` checks the load-time rules (the loader turns them into
PackageError): pass-fail needs a bounded max_score, groups are bounded when secret is, and
a pass-fail secret has pass-fail groups.

The spec's scoring example: subtask1 (max_score 30, min) and subtask2 (70, min), secret
summing them; an accepted submission scores 30 + 70 = 100:

    >>> from pathlib import Path
    >>> from codebattle.judge.package import TestCase, TestGroup
    >>> def group(name: str, top: float) -> TestGroup:
    ...     cases = [TestCase(f"secret/{name}/{i}", Path("in"), Path("ans"), False)
    ...              for i in (1, 2, 3)]
    ...     settings = {"max_score": top, "score_aggregation": "min", "require_pass": []}
    ...     return TestGroup(f"data/secret/{name}", settings, cases)
    >>> settings = {"max_score": 100.0, "score_aggregation": "sum", "require_pass": []}
    >>> secret = TestGroup("data/secret", settings, groups=[group("subtask1", 30),
    ...                                                     group("subtask2", 70)])
    >>> data = TestGroup("data", {}, groups=[secret])
    >>> secret_score(data, {case.name: True for case in data.all_cases()})
    100.0
    >>> secret_score(data, {"secret/subtask1/1": True, "secret/subtask1/2": True,
    ...                     "secret/subtask1/3": True})
    30.0
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from codebattle.judge.package import ProblemPackage, TestCase, TestGroup

__all__ = [
    "Dependencies",
    "ScoringError",
    "check_groups",
    "full_score",
    "group_scores",
    "package_score",
    "secret_score",
]

_TOLERANCE = 1e-6  # relative slack when comparing a score with its maximum


class ScoringError(ValueError):
    """A judge error in scoring: the validator or the package broke the spec's rules."""


def package_score(
    package: ProblemPackage,
    accepted: Mapping[str, bool],
    scores: Mapping[str, float] | None = None,
    multipliers: Mapping[str, float] | None = None,
) -> float:
    """The submission's score: data/secret's. Raises ScoringError (a judge error)."""
    return secret_score(package.data, accepted, scores, multipliers)


def full_score(package: ProblemPackage) -> float | None:
    """The best possible score: data/secret's max_score (None when unbounded). Legacy
    packages: every case accepted under problemtools' rules."""
    if package.legacy:
        from codebattle.judge.scoring import full_score as legacy_full_score

        return legacy_full_score(package.data)
    secret = _secret(package.data)
    return None if secret is None else secret.settings.get("max_score", 100.0)


def secret_score(
    data: TestGroup,
    accepted: Mapping[str, bool],
    scores: Mapping[str, float] | None = None,
    multipliers: Mapping[str, float] | None = None,
) -> float:
    """data/secret's score given the data/ root; see the module's rules."""
    return group_scores(data, accepted, scores, multipliers).get("secret", 0.0)


class Dependencies:
    """2025-09 "Group dependencies" while judging: a case of secret, or of a test data group,
    whose `require_pass` groups did not all pass is not run. Ask `runs` before each case, in
    judging order (required groups come earlier, so their cases are judged by then)."""

    def __init__(self, package: ProblemPackage, cases: Sequence[TestCase]) -> None:
        planned = {case.name for case in cases}
        self.required: dict[str, list[str]] = {}  # case name -> the groups it needs passed
        self.members: dict[str, list[str]] = {}  # group name -> its cases in this judging
        secret = _secret(package.data)
        if package.legacy or not package.scoring or secret is None:
            return
        for group in package.data.groups:
            self.members[group.name] = [c.name for c in group.all_cases() if c.name in planned]
        top = list(secret.settings.get("require_pass", []))
        for case in secret.cases:
            self.required[case.name] = top
        for group in secret.groups:
            self.members[group.name] = [c.name for c in group.all_cases() if c.name in planned]
            needs = top + list(group.settings.get("require_pass", []))
            for case in group.all_cases():
                self.required[case.name] = needs

    def runs(self, case: TestCase, accepted: Mapping[str, bool]) -> bool:
        """Whether `case` is run, given the cases judged so far (name -> accepted); a case
        not run counts as not accepted, so a group behind it is not run either."""
        return all(
            all(accepted.get(name, False) for name in self.members.get(group, ()))
            for group in self.required.get(case.name, ())
        )


def group_scores(
    data: TestGroup,
    accepted: Mapping[str, bool],
    scores: Mapping[str, float] | None = None,
    multipliers: Mapping[str, float] | None = None,
) -> dict[str, float]:
    """The score of data/secret and of each of its test data groups, by name relative to
    data/ ("secret", "secret/g1"): what submissions.yaml's `score` under a group key is
    checked against. Raises ScoringError as secret_score does."""
    secret = _secret(data)
    if secret is None:
        return {}
    scorer = _Scorer(accepted, scores or {}, multipliers or {})
    sample = next((g for g in data.groups if g.name == "data/sample"), None)
    scorer.passed["data/sample"] = sample is None or all(
        scorer.accepted(case) for case in sample.all_cases()
    )
    scorer.secret(secret)
    return {name.removeprefix("data/"): score for name, score in scorer.totals.items()}


def check_groups(secret: TestGroup) -> None:
    """The load-time rules of scoring settings; ValueError names the group."""
    top = secret.settings.get("max_score", 100.0)
    aggregation = secret.settings.get("score_aggregation", "sum")
    if aggregation == "pass-fail" and top is None:
        raise ValueError("data/secret: pass-fail aggregation needs a bounded max_score")
    for group in secret.groups:
        bound = group.settings.get("max_score")
        kind = group.settings.get("score_aggregation", "pass-fail")
        if kind == "pass-fail" and bound is None:
            raise ValueError(
                f"{group.name}: pass-fail aggregation needs a max_score (groups are unbounded "
                "by default)"
            )
        if top is not None and bound is None:
            raise ValueError(f"{group.name}: needs a max_score, since data/secret has one")
        if aggregation == "pass-fail" and kind != "pass-fail":
            raise ValueError(f"{group.name}: must be pass-fail, since data/secret is")
    bounds = [g.settings.get("max_score") for g in secret.groups]
    if aggregation == "sum" and top is not None and secret.groups and None not in bounds:
        total = sum(b for b in bounds if b is not None)
        if total > top * (1 + _TOLERANCE):
            raise ValueError(
                f"the groups' max_score add up to {total:g}, above data/secret's {top:g}"
            )


def _secret(data: TestGroup) -> TestGroup | None:
    if data.name == "data/secret":
        return data
    return next((g for g in data.groups if g.name == "data/secret"), None)


class _Scorer:
    def __init__(
        self,
        accepted: Mapping[str, bool],
        scores: Mapping[str, float],
        multipliers: Mapping[str, float],
    ) -> None:
        self.verdicts = accepted
        self.scores = scores
        self.multipliers = multipliers
        self.passed: dict[str, bool] = {}  # group name -> run and every case accepted
        self.totals: dict[str, float] = {}  # group name -> its score (secret's too)

    def accepted(self, case: TestCase) -> bool:
        return bool(self.verdicts.get(case.name, False))

    def runs(self, group: TestGroup) -> bool:
        return all(self.passed.get(name, False) for name in group.settings.get("require_pass", []))

    def secret(self, secret: TestGroup) -> float:
        score = self.secret_groups(secret)
        self.totals[secret.name] = score
        return score

    def secret_groups(self, secret: TestGroup) -> float:
        if not self.runs(secret):
            for group in secret.groups:
                self.totals[group.name] = 0.0
            return 0.0
        if not secret.groups:
            return self.group(secret)
        items: list[float] = []
        for group in secret.groups:
            if self.runs(group):
                items.append(self.group(group))
            else:  # not run: whatever the judge ran its cases with counts for nothing
                self.passed[group.name] = False
                items.append(0.0)
            self.totals[group.name] = items[-1]
        all_ok = all(self.passed.get(g.name, False) for g in secret.groups)
        return self.aggregate(secret, items, all_ok)

    def group(self, group: TestGroup) -> float:
        """A group with cases (or data/secret without groups)."""
        cases = group.cases
        ok = all(self.accepted(case) for case in cases)
        self.passed[group.name] = ok
        kind = group.settings.get("score_aggregation", "pass-fail")
        top = group.settings.get("max_score")
        if kind == "pass-fail":
            self.no_score_files(cases)
            return self.aggregate(group, [], ok)
        case_max = top
        if top is not None and kind == "sum":
            # The loader refuses an empty group; were one here, it would simply score 0.
            case_max = top / len(cases) if cases else 0.0
        items = [self.case(case, case_max) for case in cases]
        return self.aggregate(group, items, ok)

    def aggregate(self, group: TestGroup, items: list[float], ok: bool) -> float:
        kind = group.settings.get("score_aggregation", "pass-fail")
        top = group.settings.get("max_score")
        if kind == "pass-fail":
            return float(top or 0.0) if ok else 0.0
        score = float(sum(items)) if kind == "sum" else float(min(items, default=0.0))
        if top is not None and score > top * (1 + _TOLERANCE) + _TOLERANCE:
            raise ScoringError(f"{group.name} scored {score:g}, above its max_score {top:g}")
        return score

    def case(self, case: TestCase, case_max: float | None) -> float:
        score = self.scores.get(case.name)
        multiplier = self.multipliers.get(case.name)
        if not self.accepted(case):
            if score is not None or multiplier is not None:
                raise ScoringError(f"{case.name}: a score file for a case not accepted")
            return 0.0
        if score is not None and multiplier is not None:
            raise ScoringError(f"{case.name}: both score.txt and score_multiplier.txt")
        if multiplier is not None:
            if case_max is None:
                raise ScoringError(f"{case.name}: score_multiplier.txt in an unbounded group")
            if not 0.0 <= multiplier <= 1.0:
                raise ScoringError(f"{case.name}: score multiplier {multiplier:g} not in [0, 1]")
            return multiplier * case_max
        if score is None:
            if case_max is None:
                raise ScoringError(f"{case.name}: no score.txt in an unbounded group")
            return case_max
        if score < 0:
            raise ScoringError(f"{case.name}: negative score {score:g}")
        if case_max is not None and score > case_max * (1 + _TOLERANCE) + _TOLERANCE:
            raise ScoringError(
                f"{case.name}: score {score:g} above the case's maximum {case_max:g}"
            )
        return float(score)

    def no_score_files(self, cases: list[TestCase]) -> None:
        """Cases of a group with pass-fail aggregation get no score: a file is an error."""
        for case in cases:
            if case.name in self.scores or case.name in self.multipliers:
                raise ScoringError(f"{case.name}: a score file in a pass-fail group")
