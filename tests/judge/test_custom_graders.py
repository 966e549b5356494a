"""Legacy custom graders (graders/, `grading: custom`) in the real sandbox: the grader reads
the group's "verdict score" lines and answers the group's."""

from __future__ import annotations

from pathlib import Path

import pytest

from codebattle.judge.engine import Judge
from codebattle.judge.loader import load_package
from codebattle.judge.package import PackageError, ProblemPackage
from codebattle.judge.verdicts import Verdict
from tests.support.packages import make_package

PY_AC = "a, b = map(int, input().split())\nprint(a + b)\n"
SMALL_ONLY = "a, b = map(int, input().split())\nprint(a + b if a < 100 else 0)\n"
# Accepted when any item is; scores the best item times the flag's factor; logs its input.
BEST = """import sys
factor = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
items = [line.split() for line in sys.stdin if line.strip()]
sys.stderr.write(repr(items))
best = max(float(score) for _, score in items)
print('AC' if any(v == 'AC' for v, _ in items) else 'WA', best * factor)
"""
CASES = {
    "sample/1": ("1 2\n", "3\n"),
    "secret/g/1": ("1 1\n", "2\n"),
    "secret/g/2": ("1000 1000\n", "2000\n"),
}


def package_with(tmp_path: Path, grader: str, flags: str = "10") -> ProblemPackage:
    group = f"grading: custom\ngrader_flags: '{flags}'\non_reject: continue\naccept_score: 3\n"
    pkg = make_package(
        tmp_path,
        yaml_data={"type": "scoring"},
        cases=CASES,
        files={"data/secret/g/testdata.yaml": group, "graders/best.py": grader},
    )
    return load_package(pkg)


def test_a_custom_grader_scores_the_group(judge: Judge, tmp_path: Path) -> None:
    package = package_with(tmp_path, BEST)
    assert [g.name for g in package.graders] == ["best.py"]
    partial = judge.judge(package, "python", SMALL_ONLY)
    assert [t.verdict for t in partial.tests] == [Verdict.AC, Verdict.AC, Verdict.WA]
    assert partial.score == 30.0  # best of 3 and 0, times 10
    assert judge.judge(package, "python", PY_AC).score == 30.0


@pytest.mark.parametrize(
    ("grader", "message"),
    [
        ("import sys\nsys.exit(4)\n", "exit code 4"),
        ("print('maybe 3')\n", "not 'VERDICT SCORE'"),
        ("def f(:\n", "failed to compile"),
    ],
)
def test_a_broken_grader_is_a_judge_error(
    judge: Judge, tmp_path: Path, grader: str, message: str
) -> None:
    result = judge.judge(package_with(tmp_path, grader), "python", PY_AC)
    assert result.verdict == Verdict.IE and message in result.message, result.message
    assert all(t.verdict == Verdict.AC for t in result.tests)


def test_custom_grading_without_a_grader_is_refused(tmp_path: Path) -> None:
    pkg = make_package(
        tmp_path,
        yaml_data={"type": "scoring"},
        files={"data/secret/testdata.yaml": "grading: custom\n"},
    )
    with pytest.raises(PackageError, match="graders/ has no grader"):
        load_package(pkg)
