"""Runtime fixes from the review, each in the real sandbox: C++ threads under the address
space limit (5), build/run validator folders with subfolders (11), multi-pass score files
(15), an included Python __main__.py driver (16), and what a player reads of an internal
error (4)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from codebattle.judge import jobs
from codebattle.judge.engine import Judge
from codebattle.judge.input_validation import check_inputs
from codebattle.judge.loader import load_package
from codebattle.judge.package import PackageError, ProblemPackage
from codebattle.judge.runner import JobRunner
from codebattle.judge.verdicts import JudgeResult, TestResult, Verdict
from tests.support.packages import make_package

MiB = 1 << 20

# -- 5: C++ threads ------------------------------------------------------------------------

# A thread adds; main then recurses 10^6 frames deep; then a `new` of the whole limit.
CPP_THREAD_DEEP_HUGE = r"""#include <bits/stdc++.h>
__attribute__((noinline)) long depth(long n) {
    volatile long frame[4];
    frame[0] = n;
    if (n == 0) return 0;
    long below = depth(n - 1);
    return below + frame[0];
}
int main() {
    long long a, b, r = 0;
    std::cin >> a >> b;
    std::thread t([&] { r = a + b; });
    t.join();
    std::vector<std::thread> many;
    for (int i = 0; i < 8; i++) many.emplace_back([] {});
    for (auto& m : many) m.join();
    if (depth(1000000) != 500000500000L) return 5;
    std::cout << r << "\n";
    std::cout.flush();
    try {
        char* p = new char[%LIMIT%];
        std::printf("%p\n", (void*)p);
    } catch (std::bad_alloc&) {
    }
}
"""


@pytest.mark.parametrize("memory", [256, 1024])
def test_cpp_threads_deep_recursion_and_huge_new(judge: Judge, tmp_path: Path, memory: int) -> None:
    pkg = load_package(make_package(tmp_path, cases={"secret/1": ("2 3\n", "5\n")}))
    pkg = dataclasses.replace(pkg, limits=dataclasses.replace(pkg.limits, memory=memory))
    code = CPP_THREAD_DEEP_HUGE.replace("%LIMIT%", f"{memory}u << 20")
    result = judge.judge(pkg, "cpp", code)
    # The thread ran, the recursion fit, and `new` of the whole limit failed at once (a
    # printed pointer would be an extra token: WA).
    assert result.verdict == Verdict.AC, result.to_json()


# -- 11: build/run folders with a subfolder ------------------------------------------------

CHECK = """#include <cstdio>
#include "lib/range.h"
int main() {
    long long a, b;
    if (scanf("%lld %lld", &a, &b) != 2) return 43;
    return in_range(a) && in_range(b) ? 42 : 43;
}
"""


def test_a_build_run_folder_with_a_subfolder_builds(judge: Judge, tmp_path: Path) -> None:
    cases = {"sample/1": ("1 2\n", "3\n"), "secret/1": ("-500 5\n", "-495\n")}
    package = load_package(
        make_package(
            tmp_path,
            cases=cases,
            files={
                "input_validators/v/build": "#!/bin/sh\nc++ -O2 -o checker check.cpp\n",
                "input_validators/v/run": '#!/bin/sh\nexec ./checker "$@"\n',
                "input_validators/v/check.cpp": CHECK,
                "input_validators/v/lib/range.h": (
                    "inline bool in_range(long long v) { return -100 <= v && v <= 100; }\n"
                ),
            },
        )
    )
    errors = check_inputs(judge, package)
    assert len(errors) == 1 and "rejects secret/1" in errors[0], errors


# -- 15: multi-pass score files ------------------------------------------------------------

# Pass 1 (input 1) accepts, writes score.txt and asks for pass 2; pass 2 (input 2) accepts
# "4" with score.txt 7, rejects anything else. The first pass's score.txt persists.
SCORED_PASSES = """import sys
n = int(open(sys.argv[1]).read())
got = sys.stdin.read().split()
fb = sys.argv[3]
if n == 1:
    open(fb + 'score.txt', 'w').write('1')
    open(fb + 'nextpass.in', 'w').write('2\\n')
    sys.exit(42)
if got != ['4']:
    sys.exit(43)
open(fb + 'score.txt', 'w').write('7')
sys.exit(42)
"""


def scored_multipass(tmp_path: Path) -> ProblemPackage:
    pkg = make_package(
        tmp_path,
        yaml_data={
            "problem_format_version": "2025-09",
            "type": "scoring multi-pass",
            "name": "Passes",
            "limits": {"time_limit": 1, "memory": 128, "validation_passes": 3},
        },
        cases={"sample/1": ("1\n", "0\n"), "secret/1": ("1\n", "0\n")},
        files={"output_validator/v.py": SCORED_PASSES},
    )
    return load_package(pkg)


def test_a_later_rejection_is_wa_despite_an_earlier_score_file(
    judge: Judge, tmp_path: Path
) -> None:
    package = scored_multipass(tmp_path)
    wrong = judge.judge(package, "python", "n = int(input())\nprint(2 * n if n == 1 else 5)\n")
    assert [t.verdict for t in wrong.tests] == [Verdict.WA, Verdict.WA], wrong.to_json()
    right = judge.judge(package, "python", "print(2 * int(input()))\n")
    assert [t.verdict for t in right.tests] == [Verdict.AC, Verdict.AC], right.to_json()
    assert right.tests[1].score == 7  # the last pass's score.txt


# -- 16: an included __main__.py is the driver ---------------------------------------------

DRIVER = "import solution\na, b = map(int, input().split())\nprint(solution.add(a, b))\n"


def test_an_included_python_main_is_the_driver(judge: Judge, tmp_path: Path) -> None:
    package = load_package(make_package(tmp_path))
    folder = tmp_path / "adder" / "include" / "python3"
    folder.mkdir(parents=True)
    (folder / "__main__.py").write_text(DRIVER)
    package = dataclasses.replace(package, includes={"python3": folder})
    submitted = {"solution.py": b"def add(a, b):\n    return a + b\n"}
    result = judge.judge(package, "python", "print('not run')\n", files=submitted)
    assert result.verdict == Verdict.AC, result.to_json()


# -- 4: internal errors reach players without their details --------------------------------


class _Packages:
    def __init__(self, package: ProblemPackage) -> None:
        self.package = package

    def get(self, key: str) -> ProblemPackage:
        return self.package


class _ScoringErrorJudge(Judge):
    """Ends every judging as the engine does on a scoring error, naming a secret case."""

    def judge(self, *args: Any, **kwargs: Any) -> JudgeResult:
        test = TestResult("secret/g1/huge-tree", Verdict.AC)
        return JudgeResult(
            Verdict.IE, [test], message="scoring: secret/g1/huge-tree: score 9 above 5"
        )


def test_an_internal_error_message_names_no_secret_case(tmp_path: Path) -> None:
    package = load_package(make_package(tmp_path))
    events: list[Any] = []
    job: jobs.Job = {
        "submission": 1,
        "kind": "submit",
        "language": "python",
        "code": "",
        "package_key": "k",
        "time_limit": 1.0,
        "stdin": "",
        "run_all": True,
    }
    runner = JobRunner(_ScoringErrorJudge.__new__(_ScoringErrorJudge), _Packages(package))  # type: ignore[arg-type]
    runner.execute(job, events.append)
    done = events[-1]
    assert done["type"] == "done" and done["result"]["verdict"] == "IE"
    assert "huge-tree" not in repr(events) and "secret/g1" not in done["result"]["message"]
    assert "not your fault" in done["result"]["message"]


@pytest.mark.parametrize(("passes", "ok"), [(2, True), (100, True), (1, False), (101, False)])
def test_validation_passes_are_capped(tmp_path: Path, passes: int, ok: bool) -> None:
    pkg = make_package(
        tmp_path,
        yaml_data={
            "problem_format_version": "2025-09",
            "type": "pass-fail multi-pass",
            "name": "Passes",
            "limits": {"time_limit": 1, "memory": 128, "validation_passes": passes},
        },
        files={"output_validator/v.py": SCORED_PASSES},
    )
    if ok:
        assert load_package(pkg).limits.validation_passes == passes
    else:
        with pytest.raises(PackageError, match="validation_passes.*from 2 to 100"):
            load_package(pkg)
