"""2025-09 "Group dependencies" in the real sandbox: a test data group whose require_pass
groups did not all pass is not run at all (its cases are not judged, not reported, and
score 0); once they pass, it runs."""

from __future__ import annotations

from pathlib import Path

import yaml

from codebattle.judge.engine import Judge
from codebattle.judge.loader import load_package
from codebattle.judge.package import ProblemPackage
from codebattle.judge.sandbox import Sandbox
from codebattle.judge.verdicts import Verdict
from tests.support.packages import make_package

CASES = {
    "sample/1": ("1 2\n", "3\n"),
    "secret/g1/1": ("1 1\n", "2\n"),
    "secret/g2/1": ("9 9\n", "18\n"),
    "secret/g2/2": ("9 8\n", "17\n"),
    "secret/g3/1": ("5 5\n", "10\n"),
}
# Right everywhere, except that it hangs on g2's inputs (a = 9) when told to.
SOLVE = """import time
a, b = map(int, input().split())
if a == 9 and {hang}:
    time.sleep(60)
print(a + b + ({wrong} if a == 1 and b == 1 else 0))
"""


def package(tmp_path: Path, secret: dict[str, object] | None = None) -> ProblemPackage:
    def group(settings: dict[str, object]) -> str:
        return yaml.safe_dump(settings)

    files = {
        "data/secret/g1/test_group.yaml": group({"max_score": 20}),
        # g2 needs g1; g3 needs g2, so it is not run either when g2 is not.
        "data/secret/g2/test_group.yaml": group({"max_score": 30, "require_pass": "secret/g1"}),
        "data/secret/g3/test_group.yaml": group({"max_score": 50, "require_pass": ["secret/g2"]}),
    }
    if secret is not None:
        files["data/secret/test_group.yaml"] = group(secret)
    meta = {"problem_format_version": "2025-09", "type": "scoring", "name": "Adder"}
    return load_package(make_package(tmp_path, yaml_data=meta, cases=CASES, files=files))


def test_a_group_behind_a_failed_group_is_not_run(judge: Judge, tmp_path: Path) -> None:
    # Wrong on g1, and g2 would hang: g2 and g3 (behind g2) must not run at all.
    result = judge.judge(package(tmp_path), "python", SOLVE.format(hang=True, wrong=1))
    assert [(t.name, str(t.verdict)) for t in result.tests] == [
        ("sample/1", "AC"),
        ("secret/g1/1", "WA"),
    ]
    assert result.verdict == Verdict.WA and result.score == 0.0


def test_groups_run_once_their_required_groups_pass(judge: Judge, tmp_path: Path) -> None:
    result = judge.judge(package(tmp_path), "python", SOLVE.format(hang=False, wrong=0))
    assert [t.name for t in result.tests] == list(CASES)
    assert result.verdict == Verdict.AC and result.score == 100.0


def test_secret_behind_a_failed_sample_is_not_run(judge: Judge, tmp_path: Path) -> None:
    wrong_sample = "a, b = map(int, input().split())\nprint(a + b + (a == 1 and b == 2))\n"
    result = judge.judge(package(tmp_path, {"require_pass": "sample"}), "python", wrong_sample)
    assert [(t.name, str(t.verdict)) for t in result.tests] == [("sample/1", "WA")]
    assert result.score == 0.0


def test_without_the_launcher_too(judge_root: Path, tmp_path: Path) -> None:
    # Each test's sandbox is then set up ahead of its turn: g2's is dropped unused.
    sandbox = Sandbox(work_root=judge_root / "no-launcher-dependencies")
    sandbox.launcher = None
    judge = Judge(sandbox)
    problem = package(tmp_path)
    failed = judge.judge(problem, "python", SOLVE.format(hang=True, wrong=1))
    assert [t.name for t in failed.tests] == ["sample/1", "secret/g1/1"]
    passed = judge.judge(problem, "python", SOLVE.format(hang=False, wrong=0))
    assert [t.name for t in passed.tests] == list(CASES) and passed.score == 100.0
