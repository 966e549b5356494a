"""Python programs (CPython and PyPy) in the real sandbox: the builtins `site` would give
(exit, quit) without `site` itself, modules beside main.py, nothing from site-packages,
tracebacks as `python3 main.py` prints them, and PyPy's memory under the cgroup."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest

from codebattle.judge import languages
from codebattle.judge.compiler import Compiler, CompileResult, program_limits
from codebattle.judge.engine import Judge
from codebattle.judge.loader import load_package
from codebattle.judge.sandbox import RunResult, Sandbox
from codebattle.judge.verdicts import Verdict
from tests.judge.conftest import MiB, verdict
from tests.support.hosts import require
from tests.support.packages import make_package

PYTHONS = ["python", "pypy"]


def _language(name: str) -> languages.Language:
    language = languages.get(name)
    require(language.available(), f"{language.version_argv[0]} is not installed")
    return language


def compile_source(
    compiler: Compiler, lang: str, code: str, extra: Mapping[str, bytes] | None = None
) -> CompileResult:
    return compiler.compile(_language(lang), code, extra)


def run_python(
    sandbox: Sandbox,
    compiler: Compiler,
    lang: str,
    code: str,
    extra: Mapping[str, bytes] | None = None,
    memory: int = 256 * MiB,
) -> RunResult:
    """Compile and run once as the engine does (its limits, binds and argv)."""
    compiled = compile_source(compiler, lang, code, extra)
    assert compiled.program is not None, compiled
    program = compiled.program
    limits = program_limits(program, 5.0, memory, 16 * MiB)
    with sandbox.box() as box:
        return sandbox.run(
            program.argv(memory), box, limits, binds=program.binds(), env=program.language.env
        )


@pytest.mark.parametrize("lang", PYTHONS)
@pytest.mark.parametrize(
    ("code", "exit_code", "stdout"),
    [
        ("print('a')\nexit()\nprint('b')\n", 0, b"a\n"),
        ("print('a')\nquit()\nprint('b')\n", 0, b"a\n"),
        ("exit(0)\n", 0, b""),
        ("print('a')\nexit(3)\n", 3, b"a\n"),
        ("import sys\nsys.exit()\nprint('b')\n", 0, b""),
        ("import sys\nprint('a')\nsys.exit(4)\n", 4, b"a\n"),
    ],
    ids=["exit", "quit", "exit0", "exit3", "sys.exit", "sys.exit4"],
)
def test_exit_and_quit_end_the_program(
    sandbox: Sandbox, compiler: Compiler, lang: str, code: str, exit_code: int, stdout: bytes
) -> None:
    result = run_python(sandbox, compiler, lang, code)
    assert (result.exit_code, result.stdout) == (exit_code, stdout), result
    assert verdict(result) == ("OK" if exit_code == 0 else "RE")


@pytest.mark.parametrize("lang", PYTHONS)
def test_site_builtins_exist(sandbox: Sandbox, compiler: Compiler, lang: str) -> None:
    code = "for name in ('exit', 'quit', 'help', 'copyright', 'credits', 'license'):\n"
    code += "    assert callable(getattr(__builtins__, name, None)), name\nprint(repr(exit))\n"
    result = run_python(sandbox, compiler, lang, code)
    assert verdict(result) == "OK", result
    assert b"Use exit() or" in result.stdout


@pytest.mark.parametrize("lang", PYTHONS)
def test_modules_beside_main_are_importable(
    sandbox: Sandbox, compiler: Compiler, lang: str
) -> None:
    code = "import util\nfrom pkg.deep import value\nprint(util.add(2, 3), value)\n"
    extra = {
        "util.py": b"def add(a, b):\n    return a + b\n",
        "pkg/__init__.py": b"",
        "pkg/deep.py": b"value = 'deep'\n",
    }
    result = run_python(sandbox, compiler, lang, code, extra)
    assert verdict(result) == "OK", result
    assert result.stdout == b"5 deep\n"


@pytest.mark.parametrize("lang", PYTHONS)
def test_the_program_runs_as_a_script_would(
    sandbox: Sandbox, compiler: Compiler, lang: str
) -> None:
    code = (
        "import sys\n"
        "names = sorted(n for n in globals() if not n.startswith('__'))\n"
        "print(__name__, __file__, sys.argv, names, __doc__)\n"
        "print(sys.path[0], sys.flags.isolated, sys.flags.no_site)\n"
    )
    result = run_python(sandbox, compiler, lang, '"""Doc."""\n' + code)
    assert verdict(result) == "OK", result
    assert result.stdout.decode().splitlines() == [
        "__main__ /prog/main.py ['/prog/main.py'] ['sys'] Doc.",
        "/prog 1 1",
    ]


@pytest.mark.parametrize("lang", PYTHONS)
def test_site_packages_stay_out_of_reach(sandbox: Sandbox, compiler: Compiler, lang: str) -> None:
    # Debian's python3-yaml and the like live in /usr/lib/python3/dist-packages, which the
    # sandbox can read: it must not be on the path, nor any other site-packages.
    code = (
        "import os, sys\n"
        "print([p for p in sys.path if 'packages' in p])\n"
        "print(sorted(k for k in os.environ if k.startswith(('PYTHON', 'PYPY'))))\n"
        "print(sys.flags.no_user_site, sys.flags.ignore_environment, 'site' in sys.modules)\n"
        "for name in ('yaml', 'jwt', 'pygments'):\n"
        "    try:\n"
        "        __import__(name)\n"
        "        print('imported', name)\n"
        "    except ImportError:\n"
        "        pass\n"
    )
    result = run_python(sandbox, compiler, lang, code)
    assert verdict(result) == "OK", result
    assert result.stdout.decode().splitlines() == ["[]", "[]", "1 1 False"]


@pytest.mark.parametrize("lang", PYTHONS)
def test_tracebacks_point_at_main_py_lines(sandbox: Sandbox, compiler: Compiler, lang: str) -> None:
    code = "import util\n\n\ndef f(x):\n    return util.g(x)\n\n\nprint('before')\nf(0)\n"
    extra = {"util.py": b"def g(x):\n    return 1 // x\n"}
    result = run_python(sandbox, compiler, lang, code, extra)
    assert (result.exit_code, result.stdout, verdict(result)) == (1, b"before\n", "RE"), result
    lines = [
        line.strip() for line in result.stderr.decode().splitlines() if line.startswith("  File")
    ]
    assert lines == [
        'File "/prog/main.py", line 9, in <module>',
        'File "/prog/main.py", line 5, in f',
        'File "/prog/util.py", line 2, in g',
    ]
    assert (
        result.stderr.decode()
        .rstrip()
        .endswith("ZeroDivisionError: integer division or modulo by zero")
    )


@pytest.mark.parametrize("lang", PYTHONS)
def test_syntax_errors_are_compile_errors_naming_the_file(compiler: Compiler, lang: str) -> None:
    broken = compile_source(compiler, lang, "x = 1\nprint(x +)\n")
    assert not broken.ok and broken.output.startswith("main.py:2:"), broken
    beside = compile_source(compiler, lang, "import util\n", {"util.py": b"def f(:\n"})
    assert not beside.ok and beside.output.startswith("util.py:1:"), beside


def test_pypy_memory_is_the_cgroup_s(sandbox: Sandbox, compiler: Compiler) -> None:
    # A normal program fits a 256 MiB problem (PyPy's GC and JIT included)...
    normal = "data = list(range(3 * 10**6))\nprint(sum(x * x for x in data) % 1000)\n"
    result = run_python(sandbox, compiler, "pypy", normal)
    assert verdict(result) == "OK", result
    assert result.stdout == b"0\n"
    # ...and a program that outgrows the limit is MLE, not a crash or a hang.
    hog = "blocks = []\nwhile True:\n    blocks.append([0] * (1 << 20))\n"
    result = run_python(sandbox, compiler, "pypy", hog)
    assert verdict(result) == "MLE", result
    assert not result.wall_exceeded


# A validator as problem setters write them: ending with exit(), not sys.exit().
EXIT_CHECKER = """import sys
total = sum(map(int, open(sys.argv[1]).read().split()))
got = sys.stdin.read().split()
if got == [str(total)]:
    exit(42)
exit(43)
"""


def test_python_validators_and_pypy_submissions_are_judged(judge: Judge, tmp_path: Path) -> None:
    _language("pypy")
    pkg = make_package(
        tmp_path,
        yaml_data={"validation": "custom"},
        files={"output_validators/check/check.py": EXIT_CHECKER},
    )
    package = load_package(pkg)
    solution = "a, b = map(int, input().split())\nprint(a + b)\nexit()\n"
    assert judge.judge(package, "pypy", solution).verdict == Verdict.AC
    assert judge.judge(package, "python", solution).verdict == Verdict.AC
    assert judge.judge(package, "pypy", "print(0)\nquit()\n").verdict == Verdict.WA
