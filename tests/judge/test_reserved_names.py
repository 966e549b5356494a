"""Names a submitted (or included) file may not take: the compiler's `out` folder and
Python's main.py.marshal are the judge's own; names that look like compiler options are
passed as files (review findings 8 and 9)."""

from __future__ import annotations

import marshal
from pathlib import Path

import pytest

from codebattle.judge.engine import Judge
from codebattle.judge.loader import load_package
from codebattle.judge.package import ProblemPackage
from codebattle.judge.verdicts import Verdict
from tests.support.packages import make_package

ADD_PY = "a, b = map(int, input().split())\nprint(a + b)\n"


@pytest.fixture(scope="module")
def adder(tmp_path_factory: pytest.TempPathFactory) -> ProblemPackage:
    return load_package(make_package(tmp_path_factory.mktemp("reserved")))


@pytest.mark.parametrize("name", ["out", "out/x.txt"])
@pytest.mark.parametrize("language", ["python", "cpp"])
def test_a_file_named_out_is_a_clear_compile_error(
    judge: Judge, adder: ProblemPackage, language: str, name: str
) -> None:
    code = (
        ADD_PY
        if language == "python"
        else '#include <cstdio>\nint main(){long long a,b;scanf("%lld %lld",&a,&b);'
        'printf("%lld\\n",a+b);}\n'
    )
    result = judge.judge(adder, language, code, files={name: b"x"})
    assert result.verdict == Verdict.CE, result.to_json()
    assert f"{name} is a name the judge uses" in result.compile_output


def test_a_submitted_marshal_never_replaces_the_main_file(
    judge: Judge, adder: ProblemPackage
) -> None:
    evil = marshal.dumps(compile("print(12345)", "/prog/main.py", "exec"))
    result = judge.judge(adder, "python", ADD_PY, files={"main.py.marshal": evil})
    assert result.verdict == Verdict.CE, result.to_json()
    assert "main.py.marshal is a name the judge uses" in result.compile_output
    # Elsewhere than beside main.py the name is harmless, and the program runs as written.
    fine = judge.judge(adder, "python", ADD_PY, files={"lib/main.py.marshal": evil})
    assert fine.verdict == Verdict.AC, fine.to_json()


@pytest.mark.parametrize("name", ["-o.cpp", "@args.cpp"])
def test_source_names_like_options_are_files(
    judge: Judge, adder: ProblemPackage, name: str
) -> None:
    main = (
        "#include <cstdio>\nlong long add(long long, long long);\nint main(){long long a,b;"
        'scanf("%lld %lld",&a,&b);printf("%lld\\n",add(a,b));}\n'
    )
    helper = b"long long add(long long a, long long b) { return a + b; }\n"
    result = judge.judge(adder, "cpp", main, files={name: helper}, run_all=True)
    assert result.verdict == Verdict.AC, result.to_json()


def test_reserved_names_are_refused_before_anything_is_built(tmp_path: Path) -> None:
    from codebattle.judge import languages
    from codebattle.judge.compiler import reserved_name

    python, cpp = languages.get("python"), languages.get("cpp")
    assert reserved_name(python, "main.py.marshal") and reserved_name(python, "out/a.py")
    assert reserved_name(cpp, "out") and not reserved_name(cpp, "main.py.marshal")
    assert not reserved_name(cpp, "outer.h") and not reserved_name(python, "lib/out")
