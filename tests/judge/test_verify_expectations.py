"""submissions.yaml and the default folder rules (judge/expectations.py): pure, no sandbox."""

from __future__ import annotations

from pathlib import Path

import pytest

from codebattle.judge.expectations import (
    SubmissionsYaml,
    check,
    expand_braces,
    glob_matches,
    group_names,
    needs_every_case,
    read_submissions_yaml,
)
from codebattle.judge.verdicts import TestResult, Verdict
from codebattle.judge.verify import collapse_repeats, infer_time_limit


def read(tmp_path: Path, text: str) -> tuple[SubmissionsYaml, list[str]]:
    (tmp_path / "submissions").mkdir(exist_ok=True)
    (tmp_path / "submissions" / "submissions.yaml").write_text(text)
    warnings: list[str] = []
    return read_submissions_yaml(tmp_path, warnings.append), warnings


def results(**verdicts: str) -> list[TestResult]:
    """TestResults by case name, `__` for `/` and `_` for `-` (secret__01_easy: secret/01-easy)."""
    return [
        TestResult(name.replace("__", "/").replace("_", "-"), Verdict(v), feedback="judged")
        for name, v in verdicts.items()
    ]


def test_brace_expansion_nests_and_repeats() -> None:
    assert expand_braces("{a,b}.{py,cpp}") == ["a.py", "a.cpp", "b.py", "b.cpp"]
    assert expand_braces("x{1,{2,3}}") == ["x1", "x2", "x3"]
    assert expand_braces("plain") == ["plain"]


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        ("accepted", "accepted/sol.py", True),  # a parent folder matches
        ("accepted/*", "accepted/sol.py", True),
        ("accepted/*", "accepted/multi", True),  # a folder submission
        ("*", "accepted/sol.py", True),  # matches the folder, a parent
        ("*/sol.py", "accepted/sol.py", True),
        ("acc*/sol.py", "accepted/other.py", False),
        ("accepted*", "accepted_not/x.py", True),
        ("accepted/*.py", "accepted/sub/x.py", False),  # `*` never crosses `/`
        ("{accepted,wrong_answer}/a.py", "wrong_answer/a.py", True),
        ("accepted/a.py", "accepted/a.pyc", False),
        ("secret/*-easy", "secret/01-easy", True),
        ("secret/*-easy", "secret/01-hard", False),
        ("accepted/[ab].py", "accepted/a.py", False),  # [xyz] is not supported: literal
        ("sample", "sample/1", True),
    ],
)
def test_globs(pattern: str, path: str, matches: bool) -> None:
    assert glob_matches(pattern, path) is matches


def test_default_folder_rules_and_an_override_by_folder_name(tmp_path: Path) -> None:
    spec, warnings = read(
        tmp_path,
        "time_limit_exceeded:\n  permitted: [AC, WA, TLE]\n"
        "time_limit_exceeded/*:\n  message: slow\n",
    )
    assert warnings == []
    rules = spec.rules("time_limit_exceeded/a.py")
    folder = rules[0]
    # The override replaces `permitted` and keeps the default `required`.
    assert folder.permitted == {"AC", "WA", "TLE"} and folder.required == {"TLE"}
    assert folder.upper_bound and not folder.lower_bound
    # `time_limit_exceeded/*` adds a requirement rather than replacing one.
    assert [r.message for r in rules[1:]] == ["slow"]

    accepted = spec.rules("accepted/a.py")
    assert len(accepted) == 1 and accepted[0].permitted == {"AC"} and accepted[0].lower_bound
    brute = spec.rules("brute_force/a.py")[0]
    assert not brute.lower_bound and not brute.upper_bound  # not used for the time limit
    assert spec.rules("custom/a.py") == []


def test_group_sub_keys_and_metadata(tmp_path: Path) -> None:
    spec, warnings = read(
        tmp_path,
        "mixed/solves_easy.py:\n"
        "  language: python3\n  entrypoint: main.py\n  authors: [A <a@x>, B]\n"
        "  model_solution: true\n"
        "  sample:\n    permitted: [AC]\n"
        "  secret/*-hard:\n    permitted: [AC, TLE]\n    required: [TLE]\n"
        "  colour: blue\n",
    )
    assert warnings == [
        "submissions/submissions.yaml: mixed/solves_easy.py: colour: ignored, unknown key"
    ]
    meta = spec.metadata("mixed/solves_easy.py")
    assert (meta.language, meta.entrypoint, meta.model_solution) == ("python3", "main.py", True)
    assert meta.authors == ["A <a@x>", "B"]
    rules = spec.rules("mixed/solves_easy.py")
    assert [r.cases for r in rules] == ["sample", "secret/*-hard"]
    hard = rules[1]
    assert hard.applies_to("secret/02-hard") and not hard.applies_to("secret/01-easy")
    assert needs_every_case(rules)

    tests = results(sample__1="AC", secret__01_easy="WA", secret__02_hard="TLE")
    assert check(rules, tests, None) == []  # the easy case is under no rule here
    tests = results(sample__1="WA", secret__02_hard="AC")
    failures = [str(f) for f in check(rules, tests, None)]
    assert failures == [
        "mixed/solves_easy.py sample: sample/1 gets WA, not in [AC]",
        "mixed/solves_easy.py secret/*-hard: no case gets one of [TLE]",
    ]


def test_bad_values_are_warned_about_and_dropped(tmp_path: Path) -> None:
    spec, warnings = read(
        tmp_path,
        "accepted/*:\n  permitted: [AC, MLE]\n  score: [3, 1]\n  use_for_time_limit: maybe\n"
        "wrong: 3\n",
    )
    assert len(warnings) == 4
    assert any("permitted" in w and "AC, WA, TLE, RTE" in w for w in warnings)
    assert any("wrong: ignored, must be a map" in w for w in warnings)
    assert len(spec.rules("accepted/a.py")) == 1  # only the folder's default is left


def test_verdicts_map_to_the_formats_four() -> None:
    rules = SubmissionsYaml().rules("run_time_error/a.py")
    for ours in ("RE", "MLE", "OLE"):
        assert check(rules, results(a="AC", b=ours), None) == []
    failures = check(rules, results(a="WA"), None)
    assert [f.why for f in failures] == ["a gets WA, not in [AC, RTE]", "no case gets one of [RTE]"]
    assert check(rules, results(a="CE"), None)[0].why == "a gets CE"


def test_rejected_needs_a_failure_and_stops_early(tmp_path: Path) -> None:
    rules = SubmissionsYaml().rules("rejected/a.py")
    assert not needs_every_case(rules)  # any failure satisfies it: stop at the first
    assert check(rules, results(a="AC", b="WA"), None) == []
    assert check(rules, results(a="AC", b="AC"), None)[0].why == (
        "no case gets one of [RTE, TLE, WA]"
    )
    assert not needs_every_case(SubmissionsYaml().rules("accepted/a.py"))
    assert needs_every_case(SubmissionsYaml().rules("wrong_answer/a.py"))


def test_score_number_range_and_message(tmp_path: Path) -> None:
    spec, _ = read(
        tmp_path,
        "partial/exact.py:\n  score: 40\n"
        "partial/range.py:\n  score: [30, 50]\n  message: expected '8'\n",
    )
    exact = spec.rules("partial/exact.py")
    assert check(exact, results(a="AC"), 40.0) == []
    assert [f.why for f in check(exact, results(a="AC"), 41.0)] == ["score 41, expected 40"]
    ranged = spec.rules("partial/range.py")
    tests = [TestResult("a", Verdict.WA, feedback="Wrong answer: expected '8', got '4'")]
    assert check(ranged, tests, 30.0) == []
    whys = [f.why for f in check(ranged, results(a="WA"), 51.0)]
    assert whys == ["no judge message contains \"expected '8'\"", "score 51, expected [30, 50]"]


def test_use_for_time_limit_opts_in_and_out(tmp_path: Path) -> None:
    spec, _ = read(
        tmp_path,
        "accepted/s*.py:\n  permitted: [AC]\n  use_for_time_limit: false\n"
        "other/up.py:\n  use_for_time_limit: upper\n"
        "other/low.py:\n  use_for_time_limit: lower\n",
    )
    up = spec.rules("other/up.py")[0]
    assert up.upper_bound and up.required == {"TLE"}
    low = spec.rules("other/low.py")[0]
    assert low.lower_bound and low.permitted == {"AC", "WA", "RTE"}
    slow = spec.rules("accepted/slow.py")
    # The folder's default still bounds it; only the rule saying false opts out.
    assert [r.lower_bound for r in slow] == [True, False]


@pytest.mark.parametrize(
    ("slowest", "ac", "resolution", "expected"),
    [
        (0.0, 2.0, 1.0, 1.0),  # at least one step
        (0.3, 2.0, 0.25, 0.75),  # 0.6 rounds up to a multiple of 0.25
        (0.5, 2.0, 1.0, 1.0),  # exactly 1.0 stays 1.0
        (1.2, 2.0, 0.5, 2.5),
        (0.35, 3.0, 0.1, 1.1),  # float steps do not overshoot: 1.05 -> 1.1
    ],
)
def test_time_limit_inference(
    slowest: float, ac: float, resolution: float, expected: float
) -> None:
    assert infer_time_limit(slowest, ac, resolution) == pytest.approx(expected)


def test_repeated_errors_collapse_to_one_line() -> None:
    cases = [f"secret/{i:02}" for i in range(1, 41)] + ["sample/1"]
    errors = [f"input validator v rejects {c}: exit 1 Traceback: boom" for c in cases[:40]]
    errors.append("input validator v rejects sample/1: exit 43 bad format")
    out = collapse_repeats(errors, cases)
    assert out == [
        "input validator v rejects 40 cases (secret/01, secret/02, secret/03, ...): "
        "exit 1 Traceback: boom",
        "input validator v rejects sample/1: exit 43 bad format",
    ]


def test_a_score_under_a_group_is_checked_per_group_it_names(tmp_path: Path) -> None:
    spec, _ = read(tmp_path, "partial/a.py:\n  secret/{g1,g2}:\n    score: [10, 20]\n")
    names = ["secret", "secret/g1", "secret/g2", "secret/g10"]
    assert group_names("secret/{g1,g2}", names) == ["secret/g1", "secret/g2"]
    assert group_names("secret", names) == ["secret"]  # itself, not through a parent
    scores = {"secret/g1": 15.0, "secret/g2": 0.0}
    rules = spec.rules("partial/a.py")

    def named(pattern: str) -> dict[str, float]:
        return {n: scores[n] for n in group_names(pattern, scores)}

    # Checked even though none of the group's cases ran (a group not run scores 0).
    whys = [f.why for f in check(rules, results(sample__1="AC"), 15.0, named)]
    assert whys == ["secret/g2 score 0, expected [10, 20]"]
    assert check(rules, results(sample__1="AC"), 15.0) == []  # no group scores: unchecked
