"""2025-09 output validators in the real sandbox: output_validator/ (one program) judges
instead of the default comparison, with each case's output_validator_args, and its score
files follow "Scoring test cases"."""

from __future__ import annotations

from pathlib import Path

from codebattle.judge.engine import Judge
from codebattle.judge.input_validation import check_inputs
from codebattle.judge.loader import load_package
from codebattle.judge.package import ProblemPackage
from codebattle.judge.verdicts import Verdict
from tests.support.packages import make_package

# Accepts an output equal to the answer plus the first argument (default 0); writes the
# feedback file named by the second argument, if any, with the third as its text.
SHIFTED = """import sys
shift = int(sys.argv[4]) if len(sys.argv) > 4 else 0
answer = int(open(sys.argv[2]).read())
got = sys.stdin.read().split()
ok = len(got) == 1 and got[0].lstrip('-').isdigit() and int(got[0]) == answer + shift
for name, text in zip(sys.argv[5::2], sys.argv[6::2]):
    open(sys.argv[3] + name, 'w').write(text)
sys.exit(42 if ok else 43)
"""
PY_AC = "a, b = map(int, input().split())\nprint(a + b)\n"
PLUS_ONE = "a, b = map(int, input().split())\nprint(a + b + 1)\n"


def package_with(tmp_path: Path, kind: str, secret_args: list[str]) -> ProblemPackage:
    args = ", ".join(f"'{a}'" for a in secret_args)
    pkg = make_package(
        tmp_path,
        yaml_data={"problem_format_version": "2025-09", "type": kind, "name": "Adder"},
        files={
            "output_validator/shifted.py": SHIFTED,
            "data/secret/test_group.yaml": f"output_validator_args: [{args}]\n",
        },
    )
    return load_package(pkg)


def test_the_output_validator_judges_with_its_args(judge: Judge, tmp_path: Path) -> None:
    package = package_with(tmp_path, "pass-fail", ["1"])
    assert package.validation == "custom"
    assert package.output_validators[0].path.name == "output_validator"
    result = judge.judge(package, "python", PLUS_ONE, run_all=True)
    # The sample has no arguments (shift 0): only the secret cases accept a + b + 1.
    assert [t.verdict for t in result.tests] == [Verdict.WA, Verdict.AC, Verdict.AC]


def test_score_multiplier_scales_the_case(judge: Judge, tmp_path: Path) -> None:
    package = package_with(tmp_path, "scoring", ["0", "score_multiplier.txt", "0.25"])
    result = judge.judge(package, "python", PY_AC)
    secret = [t for t in result.tests if not t.sample]
    assert [t.score_multiplier for t in secret] == [0.25, 0.25]
    assert result.verdict == Verdict.AC and result.score == 25.0


def test_both_score_files_are_a_judge_error(judge: Judge, tmp_path: Path) -> None:
    both = ["0", "score.txt", "10", "score_multiplier.txt", "0.5"]
    result = judge.judge(package_with(tmp_path, "scoring", both), "python", PY_AC)
    secret = [t for t in result.tests if not t.sample]
    assert all(t.verdict == Verdict.IE for t in secret)
    assert "both score.txt and score_multiplier.txt" in secret[0].feedback


def test_a_score_for_a_rejected_case_is_a_judge_error(judge: Judge, tmp_path: Path) -> None:
    package = package_with(tmp_path, "scoring", ["0", "score.txt", "10"])
    result = judge.judge(package, "python", PLUS_ONE)
    secret = [t for t in result.tests if not t.sample]
    assert secret[0].verdict == Verdict.IE, secret
    assert "score.txt for a rejected case" in secret[0].feedback


def test_a_multiplier_outside_0_1_is_a_judge_error(judge: Judge, tmp_path: Path) -> None:
    package = package_with(tmp_path, "scoring", ["0", "score_multiplier.txt", "1.5"])
    result = judge.judge(package, "python", PY_AC)
    assert [t.verdict for t in result.tests if not t.sample] == [Verdict.IE, Verdict.IE]


def test_constants_are_substituted_in_validators(judge: Judge, tmp_path: Path) -> None:
    check = (
        "import sys\nt = sys.stdin.read().split()\nsys.exit(42 if t == ['{{answer}}'] else 43)\n"
    )
    limit = "import sys\nsys.exit(42 if int(sys.stdin.read().split()[0]) <= {{top}} else 43)\n"
    pkg = make_package(
        tmp_path,
        yaml_data={
            "problem_format_version": "2025-09",
            "name": "Constant",
            "constants": {"answer": 30, "top": 10},
        },
        files={"output_validator/check.py": check, "input_validators/limit.py": limit},
    )
    package = load_package(pkg)
    result = judge.judge(package, "python", "print(30)\n", run_all=True)
    assert [t.verdict for t in result.tests] == [Verdict.AC, Verdict.AC, Verdict.AC]
    # Unsubstituted, {{top}} would be a Python set of a set: the validator would crash.
    assert check_inputs(judge, package) == []
