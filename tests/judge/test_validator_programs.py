"""Validators as packages write them (2025-09 "Programs"), built and run in the real sandbox
through `judge verify`'s input checks: C++ folders of several files, Python packages,
build/run scripts and checktestdata scripts."""

from __future__ import annotations

from pathlib import Path

import pytest

from codebattle.judge.engine import Judge
from codebattle.judge.input_validation import check_inputs
from codebattle.judge.loader import load_package
from codebattle.judge.package import ProblemPackage
from codebattle.judge.validators import programs
from tests.support.packages import make_package

# Two integers in [-100, 100] on one line: "1 2" and "10 20" pass, "-500 5" does not.
CASES = {
    "sample/1": ("1 2\n", "3\n"),
    "secret/1": ("10 20\n", "30\n"),
    "secret/2": ("-500 5\n", "-495\n"),
}
CPP_MAIN = """#include <cstdio>
#include "range.h"
int main() {
    long long a, b;
    if (scanf("%lld %lld", &a, &b) != 2) return 43;
    return in_range(a) && in_range(b) ? 42 : 43;
}
"""
CPP_RANGE = '#include "range.h"\nbool in_range(long long v) { return -100 <= v && v <= 100; }\n'
PY_MAIN = """import sys
from . import rules
a, b = map(int, sys.stdin.read().split())
sys.exit(42 if rules.ok(a) and rules.ok(b) else 43)
"""
PY_RULES = "def ok(v):\n    return -100 <= v <= 100\n"


def package_with(tmp_path: Path, files: dict[str, str]) -> ProblemPackage:
    return load_package(make_package(tmp_path, cases=CASES, files=files))


def rejects_only_the_big_case(errors: list[str]) -> None:
    assert len(errors) == 1, errors
    assert "rejects secret/2" in errors[0]


def test_a_cpp_folder_is_compiled_together(judge: Judge, tmp_path: Path) -> None:
    package = package_with(
        tmp_path,
        {
            "input_validators/v/validate.cpp": CPP_MAIN,
            "input_validators/v/range.cpp": CPP_RANGE,
            "input_validators/v/range.h": "bool in_range(long long v);\n",
        },
    )
    rejects_only_the_big_case(check_inputs(judge, package))


def test_a_python_package_runs_its_main(judge: Judge, tmp_path: Path) -> None:
    package = package_with(
        tmp_path,
        {
            "input_validators/v/__init__.py": "",
            "input_validators/v/__main__.py": PY_MAIN,
            "input_validators/v/rules.py": PY_RULES,
        },
    )
    rejects_only_the_big_case(check_inputs(judge, package))


def test_a_python_folder_without_main_is_a_clear_error(judge: Judge, tmp_path: Path) -> None:
    package = package_with(
        tmp_path, {"input_validators/v/a.py": PY_RULES, "input_validators/v/b.py": PY_RULES}
    )
    errors = check_inputs(judge, package)
    assert len(errors) == 1 and "__init__.py and __main__.py" in errors[0], errors


def test_build_and_run_scripts(judge: Judge, tmp_path: Path) -> None:
    package = package_with(
        tmp_path,
        {
            "input_validators/v/build": "#!/bin/sh\nc++ -O2 -o checker validate.cpp range.cpp\n",
            "input_validators/v/run": '#!/bin/sh\nexec ./checker "$@"\n',
            "input_validators/v/validate.cpp": CPP_MAIN,
            "input_validators/v/range.cpp": CPP_RANGE,
            "input_validators/v/range.h": "bool in_range(long long v);\n",
        },
    )
    assert package.input_validators[0].language == programs.BUILD_RUN
    rejects_only_the_big_case(check_inputs(judge, package))


def test_a_failing_build_is_reported(judge: Judge, tmp_path: Path) -> None:
    package = package_with(
        tmp_path, {"input_validators/v/build": "#!/bin/sh\necho cannot build >&2\nexit 1\n"}
    )
    errors = check_inputs(judge, package)
    assert len(errors) == 1 and "does not compile" in errors[0] and "cannot build" in errors[0]


@pytest.mark.skipif(programs.checktestdata_library() is None, reason="checktestdata missing")
def test_checktestdata(judge: Judge, tmp_path: Path) -> None:
    ctd = "INT(-100, 100) SPACE INT(-100, 100) NEWLINE\nEOF\n"
    flags = "input_validator_flags: --ignored 5\n"  # checktestdata takes no arguments
    package = package_with(
        tmp_path, {"input_validators/v.ctd": ctd, "data/secret/testdata.yaml": flags}
    )
    assert package.input_validators[0].language == programs.CHECKTESTDATA
    errors = check_inputs(judge, package)
    rejects_only_the_big_case(errors)
    assert "outside of range" in errors[0]


@pytest.mark.skipif(programs.checktestdata_library() is None, reason="checktestdata missing")
def test_a_broken_checktestdata_script_is_reported(judge: Judge, tmp_path: Path) -> None:
    package = package_with(tmp_path, {"input_validators/v.ctd": "INT(1, 2 NEWLINE\n"})
    errors = check_inputs(judge, package)
    assert len(errors) == 1 and "does not compile" in errors[0], errors


def test_viva_is_ignored_with_a_warning(tmp_path: Path) -> None:
    package = package_with(
        tmp_path, {"input_validators/v.viva": "x", "input_validators/ok.py": PY_RULES}
    )
    assert [v.name for v in package.input_validators] == ["ok.py"]
    assert any("VIVA" in w for w in package.warnings)


def test_a_validator_folder_runs_among_its_files(judge: Judge, tmp_path: Path) -> None:
    reads_limit = (
        "import sys\nlimit = int(open('limit.txt').read())\n"
        "sys.exit(42 if all(abs(int(t)) <= limit for t in sys.stdin.read().split()) else 43)\n"
    )
    package = package_with(
        tmp_path, {"input_validators/v/v.py": reads_limit, "input_validators/v/limit.txt": "100\n"}
    )
    rejects_only_the_big_case(check_inputs(judge, package))


# C, not C++: `class` is a name and malloc's void * converts without a cast.
C_MAIN = """#include <stdio.h>
#include <stdlib.h>
int in_range(long long v);
int main(void) {
    long long *class = malloc(2 * sizeof *class);
    if (scanf("%lld %lld", &class[0], &class[1]) != 2) return 43;
    return in_range(class[0]) && in_range(class[1]) ? 42 : 43;
}
"""
C_RANGE = "int in_range(long long v) { return -100 <= v && v <= 100; }\n"


def test_a_c_validator_is_compiled_as_c(judge: Judge, tmp_path: Path) -> None:
    source = C_MAIN.replace("int in_range(long long v);\n", C_RANGE)
    package = package_with(tmp_path, {"input_validators/validate.c": source})
    rejects_only_the_big_case(check_inputs(judge, package))


def test_c_and_cpp_sources_of_a_folder_are_linked_together(judge: Judge, tmp_path: Path) -> None:
    # The output validator is a folder: main.c (C) calls the C++ file's extern "C" function.
    main = C_MAIN.replace("scanf(", "fscanf(stdin, ", 1)
    helper = (
        "#include <algorithm>\n"
        'extern "C" int in_range(long long v) { return std::clamp(v, -100LL, 100LL) == v; }\n'
    )
    package = load_package(
        make_package(
            tmp_path,
            yaml_data={"problem_format_version": "2025-09", "name": "Adder"},
            cases=CASES,
            files={"output_validator/main.c": main, "output_validator/range.cpp": helper},
        )
    )
    # The validator reads the submission's output: in range is accepted, else rejected.
    result = judge.judge(package, "python", "print(5, 6)\n", run_all=True)
    assert [str(t.verdict) for t in result.tests] == ["AC", "AC", "AC"], result
    result = judge.judge(package, "python", "print(500, 6)\n", run_all=True)
    assert [str(t.verdict) for t in result.tests] == ["WA", "WA", "WA"], result
