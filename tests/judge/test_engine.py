"""The engine end to end in the real sandbox: verdicts, policies, validators, streaming."""

from __future__ import annotations

import asyncio
import dataclasses
import os
from pathlib import Path

import pytest

from codebattle.judge import languages
from codebattle.judge.engine import Judge
from codebattle.judge.loader import load_package
from codebattle.judge.sandbox import SandboxError
from codebattle.judge.verdicts import JudgeResult, TestResult, Verdict
from tests.support.packages import make_package

PY_AC = "a, b = map(int, input().split())\nprint(a + b)\n"
CPP_AC = (
    '#include <cstdio>\nint main(){long long a,b;scanf("%lld %lld",&a,&b);printf("%lld\\n",a+b);}\n'
)
JAVA_AC = (
    "import java.util.*;\npublic class Adder { public static void main(String[] x) {"
    " Scanner s = new Scanner(System.in); System.out.println(s.nextLong() + s.nextLong()); } }\n"
)


@pytest.fixture(scope="module")
def adder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_package(tmp_path_factory.mktemp("pkg"))


@pytest.mark.parametrize(
    ("language", "code", "verdict"),
    [
        ("python", PY_AC, Verdict.AC),
        ("cpp", CPP_AC, Verdict.AC),
        ("java", JAVA_AC, Verdict.AC),
        ("python", "a, b = map(int, input().split())\nprint(a - b)\n", Verdict.WA),
        ("cpp", "int main(){ while(true); }", Verdict.TLE),
        ("python", "import sys\nsys.exit(3)\n", Verdict.RE),
        (
            "java",
            "public class X { public static void main(String[] a) { int[] v = new int[1];"
            " v[2] = 1; } }",
            Verdict.RE,
        ),
        (
            "cpp",
            "#include <vector>\nint main(){ std::vector<char> v; while(true) v.push_back(1); }",
            Verdict.MLE,
        ),
        ("python", "x = []\nwhile True: x.append(' ' * 10**6)\n", Verdict.MLE),
        (
            "java",
            "import java.util.*; public class M { public static void main(String[] a) {"
            " List<long[]> l = new ArrayList<>(); while (true) l.add(new long[1<<20]); } }",
            Verdict.MLE,
        ),
        ("python", "import sys\nwhile True: sys.stdout.write('y' * 65536)\n", Verdict.OLE),
        ("cpp", "int main( {", Verdict.CE),
        ("python", "def f(:\n", Verdict.CE),
        ("java", "class Broken { void f( }", Verdict.CE),
    ],
)
def test_verdicts(judge: Judge, adder: Path, language: str, code: str, verdict: Verdict) -> None:
    result = judge.judge(load_package(adder), language, code)
    assert result.verdict == verdict, result.to_json()
    if verdict == Verdict.AC:
        assert [t.name for t in result.tests] == ["sample/1", "secret/1", "secret/2"]
        assert all(t.memory > 0 and t.wall_time > 0 for t in result.tests)
    if verdict == Verdict.CE:
        assert result.compile_output and not result.tests
    else:
        assert result.enforcement["syscalls"] == "seccomp"


def test_wrong_answer_names_the_token(judge: Judge, adder: Path) -> None:
    result = judge.judge(load_package(adder), "python", "print(3)\n")
    failing = result.tests[-1]
    assert failing.name == "secret/1" and failing.verdict == Verdict.WA
    assert "'30'" in failing.feedback and "'3'" in failing.feedback


def test_compile_error_is_trimmed(judge: Judge, adder: Path) -> None:
    code = "int main() {\n" + "undefined_name;\n" * 500 + "}\n"
    result = judge.judge(load_package(adder), "cpp", code)
    assert result.verdict == Verdict.CE
    assert len(result.compile_output) < 10_000
    assert "undefined_name" in result.compile_output


def test_stop_at_first_failure_or_run_all(judge: Judge, adder: Path) -> None:
    package = load_package(adder)
    wrong_on_secret_1 = "a, b = map(int, input().split())\nprint(0 if a == 10 else a + b)\n"
    first = judge.judge(package, "python", wrong_on_secret_1)
    assert [t.verdict for t in first.tests] == [Verdict.AC, Verdict.WA]
    every = judge.judge(package, "python", wrong_on_secret_1, run_all=True)
    assert [t.verdict for t in every.tests] == [Verdict.AC, Verdict.WA, Verdict.AC]
    assert every.verdict == Verdict.WA


def test_stream_yields_each_test_then_the_result(judge: Judge, adder: Path) -> None:
    async def collect() -> list[TestResult | JudgeResult]:
        return [item async for item in judge.stream(load_package(adder), "python", PY_AC)]

    items = asyncio.run(collect())
    assert [type(i).__name__ for i in items] == ["TestResult"] * 3 + ["JudgeResult"]
    final = items[-1]
    assert isinstance(final, JudgeResult) and final.verdict == Verdict.AC


def test_compile_cache_hit_skips_the_compiler(
    judge: Judge, monkeypatch: pytest.MonkeyPatch
) -> None:
    cpp = languages.get("cpp")
    code = CPP_AC + "// cache probe\n"
    first = judge.compiler.compile(cpp, code)
    calls: list[object] = []

    def fake_run(*args: object, **kwargs: object) -> None:
        calls.append(args)
        raise SandboxError("stubbed")

    monkeypatch.setattr(judge.sandbox, "run", fake_run)
    second = judge.compiler.compile(cpp, code)
    assert first.program is not None and second.program == first.program
    assert calls == []
    other = judge.compiler.compile(cpp, code + "// another source\n")
    assert len(calls) == 1 and other.internal_error == "stubbed"


def test_float_tolerance_flags(judge: Judge, tmp_path: Path) -> None:
    pkg = make_package(
        tmp_path,
        yaml_data={"validator_flags": "float_tolerance 1e-6"},
        cases={"sample/1": ("1 3\n", "0.333333333\n"), "secret/1": ("2 3\n", "0.666666667\n")},
    )
    ok = "a, b = map(int, input().split())\nprint(f'{a / b:.7f}')\n"
    coarse = "a, b = map(int, input().split())\nprint(f'{a / b:.3f}')\n"
    package = load_package(pkg)
    assert judge.judge(package, "python", ok).verdict == Verdict.AC
    assert judge.judge(package, "python", coarse).verdict == Verdict.WA


CHECKER = """import sys
inp, ans, feedback = sys.argv[1:4]
total = sum(map(int, open(inp).read().split()))
got = sys.stdin.read().split()
if len(got) != 2 or not all(t.lstrip('-').isdigit() for t in got):
    open(feedback + 'judgemessage.txt', 'w').write('expected two integers')
    sys.exit(43)
if int(got[0]) + int(got[1]) != total:
    open(feedback + 'judgemessage.txt', 'w').write(f'{got[0]}+{got[1]} is not {total}')
    sys.exit(43)
sys.exit(42)
"""


def test_custom_output_validator(judge: Judge, tmp_path: Path) -> None:
    pkg = make_package(
        tmp_path,
        yaml_data={"validation": "custom"},
        files={"output_validators/check/check.py": CHECKER},
    )
    package = load_package(pkg)
    # Any two numbers adding up to a + b are accepted.
    split = "a, b = map(int, input().split())\nprint(a + b - 1, 1)\n"
    assert judge.judge(package, "python", split).verdict == Verdict.AC
    wrong = judge.judge(package, "python", "print(1, 1)\n")
    assert wrong.verdict == Verdict.WA
    assert wrong.tests[0].feedback == "1+1 is not 3"
    garbage = judge.judge(package, "python", "print('hello')\n")
    assert garbage.tests[0].feedback == "expected two integers"


def test_broken_validator_is_an_internal_error(judge: Judge, tmp_path: Path) -> None:
    pkg = make_package(
        tmp_path,
        yaml_data={"validation": "custom"},
        files={"output_validators/check/check.py": "raise SystemExit(7)\n"},
    )
    result = judge.judge(load_package(pkg), "python", PY_AC)
    assert result.verdict == Verdict.IE
    assert "output validator failed" in result.tests[0].feedback


INTERACTOR = """import sys, time
secret = int(open(sys.argv[1]).read().split()[0])
fb = sys.argv[3]
print(100, flush=True)
for _ in range(10):
    line = sys.stdin.readline()
    if not line:  # give a crashed submission's exit time to be seen first (see the docs)
        time.sleep(0.2)
        open(fb + 'judgemessage.txt', 'w').write('no answer'); sys.exit(43)
    g = int(line)
    if g == secret:
        print('=', flush=True); sys.exit(42)
    print('<' if secret < g else '>', flush=True)
open(fb + 'judgemessage.txt', 'w').write('too many guesses'); sys.exit(43)
"""
GUESSER = """lo, hi = 1, int(input())
while True:
    mid = (lo + hi) // 2
    print(mid, flush=True)
    r = input()
    if r == '=':
        break
    if r == '<':
        hi = mid - 1
    else:
        lo = mid + 1
"""


def test_interactive_problem(judge: Judge, tmp_path: Path) -> None:
    pkg = make_package(
        tmp_path,
        yaml_data={"validation": "custom interactive"},
        cases={
            "sample/1": ("37\n", "0\n"),
            "secret/1": ("1\n", "0\n"),
            "secret/2": ("100\n", "0\n"),
        },
        files={"output_validators/interactor/interactor.py": INTERACTOR},
    )
    package = load_package(pkg)
    assert package.interactive
    assert judge.judge(package, "python", GUESSER).verdict == Verdict.AC
    linear = (
        "n = int(input())\nfor g in range(n, 0, -1):\n    print(g, flush=True)\n"
        "    if input() == '=': break\n"
    )
    result = judge.judge(package, "python", linear)
    assert result.verdict == Verdict.WA and result.tests[0].feedback == "too many guesses"
    crash = judge.judge(package, "python", "raise ValueError('boom')\n")
    assert crash.verdict == Verdict.RE
    hang = judge.judge(package, "python", "import time\ntime.sleep(60)\n")
    assert hang.verdict == Verdict.TLE


def test_scoring_by_groups(judge: Judge, tmp_path: Path) -> None:
    group = "on_reject: continue\ngrader_flags: min\naccept_score: {}\n"
    pkg = make_package(
        tmp_path,
        yaml_data={"type": "scoring"},
        cases={
            "sample/1": ("1 2\n", "3\n"),
            "secret/g1/1": ("1 1\n", "2\n"),
            "secret/g1/2": ("2 2\n", "4\n"),
            "secret/g2/1": ("1000 1000\n", "2000\n"),
        },
        files={
            "data/secret/g1/testdata.yaml": group.format(30),
            "data/secret/g2/testdata.yaml": group.format(70),
        },
    )
    package = load_package(pkg)
    small_only = "a, b = map(int, input().split())\nprint(a + b if a < 100 else 0)\n"
    partial = judge.judge(package, "python", small_only)
    assert partial.score == 30 and partial.verdict == Verdict.WA
    assert len(partial.tests) == 4  # scoring problems always run every test
    assert judge.judge(package, "python", PY_AC).score == 100


def test_java_public_class_may_have_any_name(judge: Judge, adder: Path) -> None:
    code = JAVA_AC.replace("Adder", "WhateverName")
    assert judge.judge(load_package(adder), "java", code).verdict == Verdict.AC


def test_custom_score_validator_sets_the_score(judge: Judge, tmp_path: Path) -> None:
    scorer = (
        "import sys\nfb = sys.argv[3]\ngot = sys.stdin.read().split()\n"
        "open(fb + 'score.txt', 'w').write(got[0] if got else '0')\nsys.exit(42)\n"
    )
    pkg = make_package(
        tmp_path,
        yaml_data={"type": "scoring", "validation": "custom score"},
        files={"output_validators/score/score.py": scorer},
    )
    package = load_package(pkg)
    assert package.custom_score
    result = judge.judge(package, "python", "print(7)\n")
    assert result.verdict == Verdict.AC
    assert [t.score for t in result.tests] == [7.0, 7.0, 7.0]
    assert result.score == 14.0  # the two secret cases; samples never score


def test_custom_score_without_score_txt_is_a_judge_error(judge: Judge, tmp_path: Path) -> None:
    # Legacy `validation: custom score`: every accepted case needs score.txt (problemtools
    # calls its absence a judge error); this validator writes one only for the sample.
    scorer = (
        "import sys\ngot = sys.stdin.read().split()\n"
        "if got == ['3']:\n    open(sys.argv[3] + 'score.txt', 'w').write('5')\n"
        "sys.exit(42)\n"
    )
    pkg = make_package(
        tmp_path,
        yaml_data={"type": "scoring", "validation": "custom score"},
        files={"output_validators/score/score.py": scorer},
    )
    result = judge.judge(load_package(pkg), "python", PY_AC)
    assert [t.verdict for t in result.tests] == [Verdict.AC, Verdict.IE, Verdict.IE]
    assert "wrote no score.txt" in result.tests[1].feedback
    assert result.verdict == Verdict.IE


def test_no_descriptor_leaks(judge: Judge, adder: Path) -> None:
    package = load_package(adder)
    judge.judge(package, "python", PY_AC)
    judge.sandbox.settle()  # the background reaper may hold a descriptor while it works
    before = len(os.listdir("/proc/self/fd"))
    for code in (PY_AC, "print(1)\n", "import time\ntime.sleep(5)\n", "def f(:\n"):
        judge.judge(package, "python", code, time_limit=0.5)
    judge.sandbox.settle()
    assert len(os.listdir("/proc/self/fd")) == before


@pytest.mark.parametrize(
    ("language", "code", "verdict", "stdout"),
    [
        ("python", "print(input()[::-1])\n", "OK", "olleh\n"),
        (
            "cpp",
            '#include <cstdio>\nint main(){char s[16];scanf("%15s",s);printf("%s!\\n",s);}',
            "OK",
            "hello!\n",
        ),
        ("python", "while True: pass\n", "TLE", ""),
        ("python", "print('x' * 100000)\n", "OLE", "x" * 1024),
        ("java", "class A {", "CE", ""),
        ("python", "raise SystemExit(2)\n", "RE", ""),
    ],
)
def test_run_with_custom_input(
    judge: Judge, language: str, code: str, verdict: str, stdout: str
) -> None:
    run = judge.run_custom(language, code, b"hello\n", time_limit=0.5, output_limit=1024)
    assert run.verdict == verdict, run
    assert run.stdout == stdout
    if verdict == "CE":
        assert "error" in run.compile_output


def test_language_without_compile_step_runs_its_source(judge: Judge, adder: Path) -> None:
    interpreted = dataclasses.replace(languages.get("python"), name="python-raw", compile_argv=None)
    result = judge.judge(load_package(adder), interpreted, PY_AC)
    assert result.verdict == Verdict.AC
