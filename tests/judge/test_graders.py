"""Graders on their own, without a sandbox: which one a package gets, and how each turns a
finished run into a verdict. The end-to-end cases (a real validator, a real interactor) are
in test_engine.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from codebattle.judge import languages
from codebattle.judge.compiler import CompileResult, Program
from codebattle.judge.engine import GraderUnavailable, Judge
from codebattle.judge.graders import validator
from codebattle.judge.graders.interactive import InteractiveGrader
from codebattle.judge.graders.standard import StandardGrader
from codebattle.judge.graders.validator import OutputValidatorGrader
from codebattle.judge.loader import load_package
from codebattle.judge.package import ProblemPackage
from codebattle.judge.sandbox import RunResult
from codebattle.judge.verdicts import Verdict
from tests.support.packages import make_package

PYTHON = languages.get("python")


class FakeCompiler:
    """Compiles nothing: every source 'builds' to `result`."""

    def __init__(self, result: CompileResult) -> None:
        self.result = result
        self.calls = 0

    def compile(self, language: Any, code: str, extra: Any = None) -> CompileResult:
        self.calls += 1
        return self.result


def judge_with(result: CompileResult) -> tuple[Judge, FakeCompiler]:
    compiler = FakeCompiler(result)
    return Judge(sandbox=object(), compiler=compiler), compiler  # type: ignore[arg-type]


def package(tmp_path: Path, validation: str = "default") -> ProblemPackage:
    files = {"output_validators/check.py": "import sys; sys.exit(42)\n"}
    return load_package(make_package(tmp_path, yaml_data={"validation": validation}, files=files))


def run(exit_code: int | None = 0, stdout: bytes = b"", **flags: Any) -> RunResult:
    return RunResult(exit_code, None, 0.25, 0.3, 1 << 20, stdout, b"", **flags)


def program(tmp_path: Path) -> Program:
    return Program(PYTHON, tmp_path, "main.py")


@pytest.mark.parametrize(
    ("validation", "kind"),
    [
        ("default", StandardGrader),
        ("custom", OutputValidatorGrader),
        ("custom interactive", InteractiveGrader),
    ],
)
def test_each_package_gets_its_grader(tmp_path: Path, validation: str, kind: type) -> None:
    built = program(tmp_path)
    judge, compiler = judge_with(CompileResult(built, ""))
    assert isinstance(judge.grader(package(tmp_path, validation), built), kind)
    assert compiler.calls == (0 if validation == "default" else 1)


def test_a_validator_that_does_not_compile_leaves_no_grader(tmp_path: Path) -> None:
    judge, _ = judge_with(CompileResult(None, "check.py:1: SyntaxError"))
    with pytest.raises(GraderUnavailable, match="output validator failed to compile: check.py"):
        judge.grader(package(tmp_path, "custom"), program(tmp_path))


def test_validators_compile_once(tmp_path: Path) -> None:
    judge, compiler = judge_with(CompileResult(program(tmp_path), ""))
    source = package(tmp_path, "custom").output_validators[0]
    assert judge.compile_validator(source) is judge.compile_validator(source)
    assert compiler.calls == 1


def test_standard_grader(tmp_path: Path) -> None:
    grader = StandardGrader(package(tmp_path), PYTHON)
    case = grader.package.samples[0]  # 1 2 -> 3
    accepted = grader.grade(case, run(stdout=b"3\n"))
    assert (accepted.verdict, accepted.time, accepted.sample) == (Verdict.AC, 0.25, True)
    assert grader.grade(case, run(stdout=b"4\n")).verdict == Verdict.WA
    slow = grader.grade(case, run(stdout=b"3\n", cpu_exceeded=True))
    assert (slow.verdict, slow.feedback) == (Verdict.TLE, "CPU time limit exceeded")
    crashed = grader.grade(case, run(exit_code=3))
    assert (crashed.verdict, crashed.feedback) == (Verdict.RE, "exit code 3")


@pytest.mark.parametrize(
    ("exit_code", "flags", "message", "verdict", "feedback"),
    [
        (42, {}, b"fine", Verdict.AC, "fine"),
        (43, {}, b"", Verdict.WA, "rejected by the output validator"),
        (43, {}, b"1+1 is not 3", Verdict.WA, "1+1 is not 3"),
        (1, {}, b"", Verdict.IE, "output validator failed (exit code 1): "),
        (None, {"wall_exceeded": True}, b"", Verdict.IE, "output validator failed (time limit): "),
    ],
)
def test_a_validators_exit_code_is_its_verdict(
    exit_code: int | None, flags: dict[str, bool], message: bytes, verdict: Verdict, feedback: str
) -> None:
    outcome = validator.verdict(run(exit_code, **flags), message)
    assert (outcome.verdict, outcome.feedback) == (verdict, feedback)
