"""The compile step as a worker reports it (issue 18): "started", then "compiled" once the
program compiled, then its tests, then "done". A compile error has no "compiled" event; a
custom run has one before it runs. In the real sandbox."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from codebattle.judge import jobs
from codebattle.judge.engine import Judge
from codebattle.judge.loader import load_package
from codebattle.judge.package import ProblemPackage
from codebattle.judge.runner import JobRunner
from tests.support.packages import make_package

CPP_ADDER = (
    "#include <iostream>\n"
    "int main() { long long a, b; std::cin >> a >> b; std::cout << a + b << '\\n'; }\n"
)
PY_ADDER = "a, b = map(int, input().split())\nprint(a + b)\n"


class _Packages:
    def __init__(self, package: ProblemPackage) -> None:
        self.package = package

    def get(self, key: str) -> ProblemPackage:
        return self.package


def run(judge: Judge, tmp_path: Path, language: str, code: str, kind: str = "submit") -> list[Any]:
    job: jobs.Job = {
        "submission": 7,
        "kind": kind,
        "language": language,
        "code": code,
        "package_key": "k",
        "time_limit": 2.0,
        "stdin": "4 5\n",
        "run_all": False,
    }
    runner = JobRunner(judge, _Packages(load_package(make_package(tmp_path))))  # type: ignore[arg-type]
    events: list[Any] = []
    runner.execute(job, events.append)
    return events


def kinds(events: list[Any]) -> list[str]:
    return [e["type"] for e in events]


@pytest.mark.parametrize(("language", "code"), [("cpp", CPP_ADDER), ("python", PY_ADDER)])
def test_compiled_comes_after_started_and_before_the_first_test(
    judge: Judge, tmp_path: Path, language: str, code: str
) -> None:
    events = run(judge, tmp_path, language, code)
    assert kinds(events) == ["started", "compiled", "test", "test", "test", "done"], events
    assert events[1] == {"submission": 7, "type": "compiled"}
    assert events[-1]["result"]["verdict"] == "AC"


def test_a_compile_error_has_no_compiled_event(judge: Judge, tmp_path: Path) -> None:
    events = run(judge, tmp_path, "cpp", "int main() { this is not C++ }\n")
    assert kinds(events) == ["started", "done"], events
    assert events[-1]["result"]["verdict"] == "CE"


def test_a_failing_first_test_still_follows_compiled(judge: Judge, tmp_path: Path) -> None:
    events = run(judge, tmp_path, "python", "print(0)\n")
    assert kinds(events) == ["started", "compiled", "test", "done"], events
    assert events[2]["test"]["verdict"] == "WA"


def test_a_custom_run_reports_compiled_before_its_output(judge: Judge, tmp_path: Path) -> None:
    events = run(judge, tmp_path, "cpp", CPP_ADDER, kind="custom")
    assert kinds(events) == ["started", "compiled", "done"], events
    assert events[-1]["result"]["run_output"] == "9\n"


def test_a_custom_run_that_does_not_compile_has_no_compiled_event(
    judge: Judge, tmp_path: Path
) -> None:
    events = run(judge, tmp_path, "cpp", "nope\n", kind="custom")
    assert kinds(events) == ["started", "done"], events
    assert events[-1]["result"]["verdict"] == "CE"


def test_judge_calls_on_compiled_once_before_any_test(judge: Judge, tmp_path: Path) -> None:
    package = load_package(make_package(tmp_path))
    seen: list[str] = []
    judge.judge(
        package,
        "python",
        PY_ADDER,
        on_compiled=lambda: seen.append("compiled"),
        on_test=lambda item: seen.append(type(item).__name__),
    )
    assert seen == ["compiled", "TestResult", "TestResult", "TestResult", "JudgeResult"]
