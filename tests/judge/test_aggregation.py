"""2025-09 "Result aggregation", rule by rule (judge/aggregation.py): pure, no sandbox."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from codebattle.judge.aggregation import ScoringError, check_groups, secret_score
from codebattle.judge.package import TestCase, TestGroup


def _cases(group: str, count: int) -> list[TestCase]:
    return [
        TestCase(f"{group}/{i}", Path("in"), Path("ans"), sample=group == "sample")
        for i in range(1, count + 1)
    ]


def group(
    name: str,
    count: int = 2,
    max_score: float | None = None,
    aggregation: str = "pass-fail",
    require_pass: list[str] | None = None,
) -> TestGroup:
    settings: dict[str, Any] = {
        "max_score": max_score,
        "score_aggregation": aggregation,
        "require_pass": require_pass or [],
    }
    return TestGroup(f"data/secret/{name}", settings, _cases(f"secret/{name}", count))


def data(
    *groups: TestGroup,
    max_score: float | None = 100.0,
    aggregation: str = "sum",
    require_pass: list[str] | None = None,
    secret_cases: int = 0,
    samples: int = 1,
) -> TestGroup:
    settings: dict[str, Any] = {
        "max_score": max_score,
        "score_aggregation": aggregation,
        "require_pass": require_pass or [],
    }
    secret = TestGroup("data/secret", settings, _cases("secret", secret_cases), list(groups))
    sample = TestGroup("data/sample", {}, _cases("sample", samples))
    return TestGroup("data", {}, groups=[sample, secret])


def all_ok(root: TestGroup, **overrides: bool) -> dict[str, bool]:
    verdicts = {case.name: True for case in root.all_cases()}
    verdicts.update({name.replace("__", "/"): ok for name, ok in overrides.items()})
    return verdicts


def test_the_specs_scoring_example_scores_100_for_an_accepted_submission() -> None:
    root = data(group("subtask1", 3, 30, "min"), group("subtask2", 3, 70, "min"))
    assert secret_score(root, all_ok(root)) == 100.0
    assert secret_score(root, all_ok(root, secret__subtask2__3=False)) == 30.0


def test_a_pass_fail_group_scores_its_max_only_when_every_case_is_accepted() -> None:
    root = data(group("g1", 2, 40), group("g2", 2, 60))
    assert secret_score(root, all_ok(root)) == 100.0
    assert secret_score(root, all_ok(root, secret__g1__2=False)) == 60.0


def test_sum_gives_each_case_an_equal_share_of_max_score() -> None:
    root = data(group("g", 4, 100, "sum"))
    assert secret_score(root, all_ok(root, secret__g__1=False)) == 75.0


def test_min_takes_the_least_case_score() -> None:
    root = data(group("g", 2, 100, "min"))
    scores = {"secret/g/1": 80.0, "secret/g/2": 30.0}
    assert secret_score(root, all_ok(root), scores) == 30.0
    assert secret_score(root, all_ok(root, secret__g__2=False), {"secret/g/1": 80.0}) == 0.0


def test_secret_with_cases_of_its_own_sums_shares_of_100_by_default() -> None:
    root = data(secret_cases=4)
    assert secret_score(root, all_ok(root, secret__3=False)) == 75.0


def test_secret_with_pass_fail_aggregation() -> None:
    root = data(group("a", 1, 50), group("b", 1, 50), aggregation="pass-fail")
    assert secret_score(root, all_ok(root)) == 100.0
    assert secret_score(root, all_ok(root, secret__b__1=False)) == 0.0


def test_score_txt_is_the_absolute_case_score() -> None:
    root = data(group("g", 2, 100, "sum"))
    assert secret_score(root, all_ok(root), {"secret/g/1": 12.5}) == 62.5


def test_score_multiplier_is_a_fraction_of_the_case_maximum() -> None:
    root = data(group("g", 2, 100, "sum"))
    assert secret_score(root, all_ok(root), None, {"secret/g/1": 0.5}) == 75.0


def test_an_unbounded_group_takes_score_txt_as_is() -> None:
    root = data(group("g", 2, None, "sum"), max_score=None)
    assert secret_score(root, all_ok(root), {"secret/g/1": 1000.0, "secret/g/2": 1.0}) == 1001.0


def test_samples_never_score_and_their_score_files_are_ignored() -> None:
    root = data(group("g", 1, 100, "sum"))
    verdicts = all_ok(root, sample__1=False)
    assert secret_score(root, verdicts, {"sample/1": 5.0}) == 100.0


def test_cases_not_judged_count_as_rejected() -> None:
    root = data(group("g", 2, 100, "sum"))
    assert secret_score(root, {"secret/g/1": True}) == 50.0


def test_require_pass_sample() -> None:
    root = data(group("g", 1, 100, "sum"), require_pass=["data/sample"])
    assert secret_score(root, all_ok(root)) == 100.0
    assert secret_score(root, all_ok(root, sample__1=False)) == 0.0


def test_require_pass_on_a_group_not_passed_or_not_run_scores_zero() -> None:
    root = data(
        group("a", 1, 20),
        group("b", 1, 30, require_pass=["data/secret/a"]),
        group("c", 1, 50, require_pass=["data/secret/b"]),
    )
    assert secret_score(root, all_ok(root)) == 100.0
    # a fails: b is not run, so c (needing b) is not run either, whatever their verdicts.
    assert secret_score(root, all_ok(root, secret__a__1=False)) == 0.0
    assert secret_score(root, all_ok(root, secret__b__1=False)) == 20.0


@pytest.mark.parametrize(
    ("scores", "multipliers", "verdicts", "message"),
    [
        ({"secret/g/1": 1.0}, {"secret/g/1": 0.5}, {}, "both"),
        ({}, {"secret/g/1": 1.5}, {}, r"not in \[0, 1\]"),
        ({"secret/g/1": 60.0}, {}, {}, "above"),
        ({"secret/g/1": -1.0}, {}, {}, "negative"),
        ({"secret/g/1": 10.0}, {}, {"secret__g__1": False}, "not accepted"),
    ],
)
def test_judge_errors_of_case_scores(
    scores: dict[str, float],
    multipliers: dict[str, float],
    verdicts: dict[str, bool],
    message: str,
) -> None:
    root = data(group("g", 2, 100, "sum"))
    with pytest.raises(ScoringError, match=message):
        secret_score(root, all_ok(root, **verdicts), scores, multipliers)


def test_judge_errors_of_unbounded_groups() -> None:
    root = data(group("g", 1, None, "sum"), max_score=None)
    with pytest.raises(ScoringError, match="no score.txt"):
        secret_score(root, all_ok(root))
    with pytest.raises(ScoringError, match="unbounded"):
        secret_score(root, all_ok(root), None, {"secret/g/1": 0.5})


def test_a_score_file_in_a_pass_fail_group_is_a_judge_error() -> None:
    root = data(group("g", 1, 100))
    with pytest.raises(ScoringError, match="pass-fail"):
        secret_score(root, all_ok(root), {"secret/g/1": 100.0})


def test_a_group_sum_above_secrets_max_is_a_judge_error() -> None:
    root = data(group("a", 1, 80), group("b", 1, 80))
    with pytest.raises(ScoringError, match="above its max_score"):
        secret_score(root, all_ok(root))
    with pytest.raises(ValueError, match="add up to 160"):
        check_groups(root.groups[1])


@pytest.mark.parametrize(
    ("root", "message"),
    [
        (data(group("g", 1, None)), "pass-fail aggregation needs a max_score"),
        (data(group("g", 1, None, "sum")), "needs a max_score, since data/secret has one"),
        (data(group("g", 1, 100, "sum"), aggregation="pass-fail"), "must be pass-fail"),
        (data(secret_cases=1, max_score=None, aggregation="pass-fail"), "bounded max_score"),
    ],
)
def test_load_time_rules(root: TestGroup, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        check_groups(root.groups[1])
