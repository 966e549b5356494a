"""Kattis scoring aggregation (problemtools' default grader)."""

from __future__ import annotations

import doctest
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from codebattle.judge import package as model
from codebattle.judge import scoring
from codebattle.judge.loader import load_package
from codebattle.judge.scoring import case_score, full_score, group_score, score_tree


def cases(prefix: str, count: int, sample: bool = False) -> list[model.TestCase]:
    names = [f"{prefix}/{i:02d}" for i in range(1, count + 1)]
    return [model.TestCase(n, Path(n + ".in"), Path(n + ".ans"), sample=sample) for n in names]


def group(
    name: str, settings: Mapping[str, Any], *children: model.TestGroup, count: int = 0
) -> model.TestGroup:
    own = cases(name.removeprefix("data/"), count)
    return model.TestGroup(name, dict(settings), own, list(children))


def two_groups(on_reject: str = "break") -> model.TestGroup:
    g1 = group("data/secret/group1", {"accept_score": 30, "grader_flags": "min"}, count=3)
    g2 = group("data/secret/group2", {"accept_score": 70, "grader_flags": "min"}, count=2)
    secret = group("data/secret", {"on_reject": on_reject}, g1, g2)
    sample = model.TestGroup("data/sample", {}, cases("sample", 2, sample=True))
    return model.TestGroup("data", {}, groups=[sample, secret])


def test_module_docstring_example() -> None:
    result = doctest.testmod(scoring)
    assert result.attempted > 0
    assert result.failed == 0


def test_brief_example_scores_30() -> None:
    accepted = {
        "secret/group1/01": True,
        "secret/group1/02": True,
        "secret/group1/03": True,
        "secret/group2/01": True,
        "secret/group2/02": False,
    }
    for on_reject in ("break", "continue"):
        assert score_tree(two_groups(on_reject), accepted) == 30.0


def test_all_accepted_scores_100_and_samples_never_count() -> None:
    data = two_groups()
    everything = {c.name: True for c in data.all_cases()}
    assert score_tree(data, everything) == 100.0
    assert full_score(data) == 100.0
    no_samples = {name: ok for name, ok in everything.items() if not name.startswith("sample")}
    assert score_tree(data, no_samples) == 100.0
    # Failing samples neither lose points nor stop the secret data from counting.
    assert score_tree(data, {**everything, "sample/01": False}) == 100.0


def test_missing_cases_count_as_rejected() -> None:
    assert score_tree(two_groups(), {}) == 0.0
    only_group2 = {"secret/group2/01": True, "secret/group2/02": True}
    assert score_tree(two_groups("continue"), only_group2) == 70.0
    # With on_reject: break the failed group1 stops judging: group2 is never reached.
    assert score_tree(two_groups("break"), only_group2) == 0.0


def test_score_of_a_subgroup_directly() -> None:
    data = two_groups()
    group2 = data.groups[1].groups[1]
    assert score_tree(group2, {"secret/group2/01": True, "secret/group2/02": True}) == 70.0
    assert score_tree(model.TestGroup("data", {}), {}) == 0.0  # no data/secret at all


def test_case_score_defaults_and_overrides() -> None:
    assert case_score(True, None, {}) == 1.0
    assert case_score(False, None, {}) == 0.0
    assert case_score(True, None, {"accept_score": 25}) == 25.0
    assert case_score(False, None, {"reject_score": -3}) == -3.0
    assert case_score(True, 12.5, {"accept_score": 25}) == 12.5  # a validator's score wins
    assert case_score(True, None, {"accept_score": None}) == 1.0  # pass-fail style None


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        ("", 2.0),
        ("sum", 2.0),
        ("min", 0.0),
        ("max", 1.0),
        ("avg", 0.5),
        ("min max", 1.0),  # the last one wins, as in problemtools' grader
        ("max avg", 0.5),
    ],
)
def test_aggregates(flags: str, expected: float) -> None:
    results: list[tuple[bool, float | None]] = [
        (True, None),
        (False, None),
        (True, None),
        (False, None),
    ]
    settings = {"grader_flags": flags, "on_reject": "continue"}
    assert group_score(results, settings) == (False, expected)


def test_on_reject_break_stops_at_the_first_rejection() -> None:
    results: list[tuple[bool, float | None]] = [
        (True, None),
        (True, None),
        (False, None),
        (True, None),
    ]
    settings = {"accept_score": 10}
    assert group_score(results, settings) == (False, 20.0)  # break is the default
    assert group_score(results, {**settings, "on_reject": "continue"}) == (False, 30.0)
    accepted, score = group_score(results, {**settings, "grader_flags": "avg"})
    assert not accepted
    assert score == pytest.approx(20 / 3)


def test_verdict_flags() -> None:
    results: list[tuple[bool, float | None]] = [(False, None), (True, None)]
    settings = {"on_reject": "continue"}
    assert group_score(results, settings) == (False, 1.0)
    assert group_score(results, {**settings, "grader_flags": "accept_if_any_accepted"}) == (
        True,
        1.0,
    )
    assert group_score([(False, None)], {"grader_flags": "always_accept"}) == (True, 0.0)


def test_ignore_sample_keeps_only_the_last_item() -> None:
    results: list[tuple[bool, float | None]] = [(True, 5.0), (True, 42.0)]
    assert group_score(results, {"grader_flags": "ignore_sample"}) == (True, 42.0)


def test_empty_group_scores_zero() -> None:
    assert group_score([], {}) == (True, 0.0)
    assert group_score([], {"grader_flags": "avg"}) == (True, 0.0)


def test_nested_items_keep_their_aggregate_even_when_rejected() -> None:
    inner = group_score([(True, None), (False, None), (True, None)], {"on_reject": "continue"})
    assert inner == (False, 2.0)
    outer = group_score([inner, (True, 3.0)], {"on_reject": "continue"})
    assert outer == (False, 5.0)


def test_custom_validator_scores() -> None:
    g = group("data/secret", {"on_reject": "continue"}, count=3)
    accepted = {"secret/01": True, "secret/02": True, "secret/03": False}
    scores = {"secret/01": 0.25, "secret/03": 9.0}
    # 01 uses its score, 02 has none so accept_score 1, 03 is rejected so its score is ignored.
    assert score_tree(g, accepted, scores) == 1.25


def test_deep_tree_with_cases_and_subgroups() -> None:
    leaf = group("data/secret/a/b", {"accept_score": 4, "grader_flags": "min"}, count=2)
    mid = group("data/secret/a", {"accept_score": 1}, leaf, count=2)
    secret = group("data/secret", {"on_reject": "continue"}, mid)
    data = model.TestGroup("data", {}, groups=[secret])
    everything = {c.name: True for c in data.all_cases()}
    assert [c.name for c in data.all_cases()] == [
        "secret/a/01",
        "secret/a/02",
        "secret/a/b/01",
        "secret/a/b/02",
    ]
    assert score_tree(data, everything) == 1 + 1 + 4
    assert score_tree(data, {**everything, "secret/a/b/02": False}) == 2.0


def test_custom_grading_needs_a_grader() -> None:
    with pytest.raises(scoring.GradingError, match="no grader"):
        group_score([(True, None)], {"grading": "custom"})


def test_a_custom_grader_gets_verdicts_and_scores_in_order() -> None:
    calls: list[tuple[list[tuple[str, float]], list[str]]] = []

    def grader(items: Sequence[tuple[str, float]], flags: Sequence[str]) -> tuple[str, float]:
        calls.append((list(items), list(flags)))
        return ("AC" if all(v == "AC" for v, _ in items) else "WA"), sum(s for _, s in items) * 2

    custom = {"grading": "custom", "grader_flags": "double it", "on_reject": "continue"}
    inner = group("data/secret/a/b", {"accept_score": 5}, count=2)
    outer = group("data/secret/a", {**custom, "accept_score": 3}, inner, count=2)
    data = group("data", {}, group("data/secret", {"on_reject": "continue"}, outer))
    accepted = {"secret/a/01": True, "secret/a/02": False, "secret/a/b/01": True}
    verdicts = {"secret/a/02": "TLE", "secret/a/b/02": "RTE"}
    total = score_tree(data, accepted, verdicts=verdicts, grader=grader)
    # The subgroup (default grading) gives (RTE, 5): the first error, and its sum.
    assert calls == [([("AC", 3.0), ("TLE", 0.0), ("RTE", 5.0)], ["double", "it"])]
    assert total == 16.0


def test_with_a_loaded_package(tmp_path: Path) -> None:
    files = {
        "problem.yaml": "type: scoring\n",
        "data/sample/1.in": "",
        "data/sample/1.ans": "",
        "data/secret/testdata.yaml": "on_reject: continue\n",
        "data/secret/group1/testdata.yaml": "accept_score: 30\ngrader_flags: min\n",
        "data/secret/group1/a.in": "",
        "data/secret/group1/a.ans": "",
        "data/secret/group1/b.in": "",
        "data/secret/group1/b.ans": "",
        "data/secret/group2/testdata.yaml": "accept_score: 70\ngrader_flags: min\n",
        "data/secret/group2/a.in": "",
        "data/secret/group2/a.ans": "",
        "data/secret/group2/b.in": "",
        "data/secret/group2/b.ans": "",
    }
    for name, text in files.items():
        path = tmp_path / "p" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    pkg = load_package(tmp_path / "p")
    accepted = {c.name: True for c in pkg.tests}
    assert full_score(pkg.data) == 100.0
    assert score_tree(pkg.data, {**accepted, "secret/group2/b": False}) == 30.0
    assert score_tree(pkg.data, {**accepted, "secret/group1/a": False}) == 70.0
