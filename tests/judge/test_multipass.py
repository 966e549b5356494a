"""2025-09 multi-pass problems in the real sandbox: the validator's nextpass.in is the next
pass's input, its feedback folder persists, and the pass limit holds."""

from __future__ import annotations

from pathlib import Path

from codebattle.judge.engine import Judge
from codebattle.judge.loader import load_package
from codebattle.judge.package import ProblemPackage
from codebattle.judge.verdicts import Verdict
from tests.support.packages import make_package

# Each pass the submission doubles n. Accepted once n reaches 8; until then the next pass's
# input is 2n. Every pass appends to judgemessage.txt (which must persist). An input of 3
# makes the validator write nextpass.in and reject: a judge error.
DOUBLING = """import sys
n = int(open(sys.argv[1]).read())
got = sys.stdin.read().split()
fb = sys.argv[3]
with open(fb + 'judgemessage.txt', 'a') as f:
    f.write(f'{n} ')
if n == 3:
    open(fb + 'nextpass.in', 'w').write('6\\n')
    sys.exit(43)
if got != [str(2 * n)]:
    sys.exit(43)
if 2 * n < 8:
    open(fb + 'nextpass.in', 'w').write(f'{2 * n}\\n')
sys.exit(42)
"""
# The interactive version: the interactor tells n, expects 2n back.
DOUBLING_TALK = """import sys
n = int(open(sys.argv[1]).read())
print(n, flush=True)
got = sys.stdin.readline().split()
fb = sys.argv[3]
with open(fb + 'judgemessage.txt', 'a') as f:
    f.write(f'{n} ')
if got != [str(2 * n)]:
    sys.exit(43)
if 2 * n < 8:
    open(fb + 'nextpass.in', 'w').write(f'{2 * n}\\n')
sys.exit(42)
"""
DOUBLE = "print(2 * int(input()))\n"


def multipass(tmp_path: Path, passes: int = 5, interactive: bool = False) -> ProblemPackage:
    kind = "pass-fail multi-pass" + (" interactive" if interactive else "")
    pkg = make_package(
        tmp_path,
        yaml_data={
            "problem_format_version": "2025-09",
            "type": kind,
            "name": "Doubling",
            "limits": {"time_limit": 1, "memory": 128, "validation_passes": passes},
        },
        cases={"sample/1": ("4\n", "0\n"), "secret/1": ("1\n", "0\n"), "secret/2": ("3\n", "0\n")},
        files={"output_validator/v.py": DOUBLING_TALK if interactive else DOUBLING},
    )
    package = load_package(pkg)
    assert package.multi_pass
    return package


def test_passes_follow_nextpass_and_feedback_persists(judge: Judge, tmp_path: Path) -> None:
    result = judge.judge(multipass(tmp_path), "python", DOUBLE, run_all=True)
    sample, one, three = result.tests
    assert sample.verdict == Verdict.AC and sample.feedback == "4"
    assert one.verdict == Verdict.AC and one.feedback == "1 2 4"
    assert three.verdict == Verdict.IE and "nextpass.in" in three.feedback


def test_a_later_pass_can_fail(judge: Judge, tmp_path: Path) -> None:
    package = multipass(tmp_path)
    wrong_later = "n = int(input())\nprint(2 * n if n < 2 else 0)\n"
    crash_later = "n = int(input())\nassert n < 2\nprint(2 * n)\n"
    result = judge.judge(package, "python", wrong_later, tests=package.tests[1:2])
    assert result.tests[0].verdict == Verdict.WA and result.tests[0].feedback == "1 2"
    result = judge.judge(package, "python", crash_later, tests=package.tests[1:2])
    assert result.tests[0].verdict == Verdict.RE


def test_too_many_passes_is_a_judge_error(judge: Judge, tmp_path: Path) -> None:
    package = multipass(tmp_path, passes=2)
    result = judge.judge(package, "python", DOUBLE, tests=package.tests[1:2])
    assert result.tests[0].verdict == Verdict.IE
    assert result.tests[0].feedback == "no verdict within 2 passes"


def test_interactive_multipass(judge: Judge, tmp_path: Path) -> None:
    package = multipass(tmp_path, interactive=True)
    result = judge.judge(package, "python", DOUBLE, tests=package.tests[1:2])
    assert result.tests[0].verdict == Verdict.AC and result.tests[0].feedback == "1 2 4"
    wrong = "n = int(input())\nprint(2 * n if n < 4 else 1)\n"
    result = judge.judge(package, "python", wrong, tests=package.tests[1:2])
    assert result.tests[0].verdict == Verdict.WA
