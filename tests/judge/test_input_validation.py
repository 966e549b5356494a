"""`judge verify`'s checks of test data in the real sandbox: validator arguments by format
version, one line per repeated failure, and the 2025-09 invalid_input, valid_output and
invalid_output folders."""

from __future__ import annotations

from pathlib import Path

from codebattle.judge.engine import Judge
from codebattle.judge.input_validation import check_inputs
from codebattle.judge.loader import load_package
from codebattle.judge.package import ProblemPackage
from codebattle.judge.verify import collapse_repeats
from tests.support.packages import make_package

# Accepts when every token is an integer no larger than its first argument (default 100);
# its second argument, when given, must be "strict".
BOUNDED = """import sys
limit = int(sys.argv[1]) if len(sys.argv) > 1 else 100
if len(sys.argv) > 2 and sys.argv[2] != 'strict':
    sys.exit(3)
sys.exit(42 if all(abs(int(t)) <= limit for t in sys.stdin.read().split()) else 43)
"""
CURRENT = {"problem_format_version": "2025-09", "type": "pass-fail", "name": "Adder"}


def current_package(tmp_path: Path, files: dict[str, str]) -> ProblemPackage:
    return load_package(make_package(tmp_path, yaml_data=CURRENT, files=files))


def test_input_validator_args_by_validator_name(judge: Judge, tmp_path: Path) -> None:
    package = current_package(
        tmp_path,
        {
            "input_validators/small.py": BOUNDED,
            "input_validators/large.py": BOUNDED,
            "data/secret/test_group.yaml": "input_validator_args:\n  small: ['10']\n"
            "  large: ['1000']\n",
        },
    )
    assert package.format_version == "2025-09"
    errors = check_inputs(judge, package)
    # 10 20 and -5 5 (secret) against 10; the sample has no arguments (100): all pass but one.
    assert errors == ["input validator small.py rejects secret/1: exit 43"], errors


def test_legacy_flags_reach_the_validator(judge: Judge, tmp_path: Path) -> None:
    pkg = make_package(
        tmp_path,
        files={
            "input_validators/v.py": BOUNDED,
            "data/secret/testdata.yaml": "input_validator_flags: 5 strict\n",
        },
    )
    errors = check_inputs(judge, load_package(pkg))
    assert errors == ["input validator v.py rejects secret/1: exit 43"], errors


def test_a_repeated_crash_is_one_line(judge: Judge, tmp_path: Path) -> None:
    crash = "import sys\nsys.stdin.read()\nraise KeyError('bounds')\n"
    cases = {f"secret/{i:02d}": (f"{i} {i}\n", f"{2 * i}\n") for i in range(1, 8)}
    pkg = make_package(tmp_path, cases=cases, files={"input_validators/v.py": crash})
    package = load_package(pkg)
    errors = check_inputs(judge, package)
    assert len(errors) == 7
    assert errors[0] == "input validator v.py rejects secret/01: exit 1 KeyError: 'bounds'"
    collapsed = collapse_repeats(errors, [c.name for c in package.tests])
    assert collapsed == [
        "input validator v.py rejects 7 cases (secret/01, secret/02, secret/03, ...): "
        "exit 1 KeyError: 'bounds'"
    ]


def test_invalid_inputs_must_be_rejected(judge: Judge, tmp_path: Path) -> None:
    package = current_package(
        tmp_path,
        {
            "input_validators/v.py": BOUNDED,
            "data/invalid_input/too_big.in": "1000 1\n",
            "data/invalid_input/fine.in": "1 1\n",
        },
    )
    assert len(package.invalid_inputs) == 2
    errors = check_inputs(judge, package)
    assert errors == ["invalid input invalid_input/fine is accepted by every input validator"]


def test_valid_and_invalid_outputs_with_the_default_validator(judge: Judge, tmp_path: Path) -> None:
    files = {"input_validators/v.py": BOUNDED}
    for folder, out in (("valid_output", "3\n"), ("invalid_output", "4\n")):
        files[f"data/{folder}/a.in"] = "1 2\n"
        files[f"data/{folder}/a.ans"] = "3\n"
        files[f"data/{folder}/a.out"] = out
    package = current_package(tmp_path, files)
    assert check_inputs(judge, package) == []
    (package.root / "data/invalid_output/a.out").write_text("3\n")
    assert check_inputs(judge, package) == ["invalid output invalid_output/a is accepted"]


def test_valid_outputs_with_a_custom_validator(judge: Judge, tmp_path: Path) -> None:
    # Accepts any output that is a single even number.
    even = (
        "import sys\nt = sys.stdin.read().split()\n"
        "sys.exit(42 if len(t) == 1 and int(t[0]) % 2 == 0 else 43)\n"
    )
    files = {
        "input_validators/v.py": BOUNDED,
        "output_validator/even.py": even,
        "data/valid_output/a.in": "1 1\n",
        "data/valid_output/a.ans": "2\n",
        "data/valid_output/a.out": "8\n",
        "data/valid_output/b.in": "1 1\n",
        "data/valid_output/b.ans": "2\n",
        "data/valid_output/b.out": "7\n",
    }
    package = current_package(tmp_path, files)
    assert package.validation == "custom"
    errors = check_inputs(judge, package)
    assert errors == ["valid output valid_output/b is rejected: rejected by the output validator"]
