"""Multi-file submissions, include/ files, constants and test case args: discovery on small
packages in tmp_path (both format versions), judging in the real sandbox."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from pathlib import Path

import pytest
import yaml

from codebattle.judge.engine import Judge
from codebattle.judge.loader import load_package
from codebattle.judge.package import PackageSubmission, ProblemPackage
from codebattle.judge.submission_files import SubmissionDiscovery, submission_sources
from codebattle.judge.verdicts import JudgeResult, Verdict
from tests.support.packages import make_package

PY_UTIL_MAIN = "from util import add\na, b = map(int, input().split())\nprint(add(a, b))\n"
PY_UTIL = "def add(a, b):\n    return a + b\n"
CPP_MAIN = (
    '#include <cstdio>\n#include "add.h"\n'
    'int main(){long long a,b;scanf("%lld %lld",&a,&b);printf("%lld\\n",add(a,b));}\n'
)
CPP_ADD_H = "long long add(long long a, long long b);\n"
CPP_ADD = '#include "add.h"\nlong long add(long long a, long long b){ return a + b; }\n'
JAVA_MAIN = (
    "import java.util.*;\npublic class Main { public static void main(String[] x) {"
    " Scanner s = new Scanner(System.in);"
    " System.out.println(Util.add(s.nextLong(), s.nextLong())); } }\n"
)
JAVA_UTIL = "public class Util { static long add(long a, long b) { return a + b; } }\n"
CURRENT = {"problem_format_version": "2025-09"}


def discover(
    pkg: Path, version: str | None = "legacy"
) -> tuple[list[PackageSubmission], list[str]]:
    reader = SubmissionDiscovery(pkg)
    return reader.submissions(version), reader.warnings


def found(subs: list[PackageSubmission], pkg: Path) -> dict[str, tuple[str, str | None]]:
    return {
        s.path.relative_to(pkg / "submissions").as_posix(): (s.language, s.entrypoint) for s in subs
    }


# -- discovery -----------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["legacy", "2025-09"])
def test_folders_are_submissions_with_language_and_entrypoint(tmp_path: Path, version: str) -> None:
    pkg = make_package(
        tmp_path,
        files={
            "submissions/accepted/single.py": PY_UTIL_MAIN,
            "submissions/accepted/pypkg/__main__.py": PY_UTIL_MAIN,
            "submissions/accepted/pypkg/util.py": PY_UTIL,
            "submissions/accepted/onepy/solve.py": "print(3)\n",
            "submissions/accepted/onepy/data.txt": "3\n",
            "submissions/accepted/twopy/main.py": PY_UTIL_MAIN,
            "submissions/accepted/twopy/util.py": PY_UTIL,
            "submissions/accepted/cppdir/add.cpp": CPP_ADD,
            "submissions/accepted/cppdir/add.h": CPP_ADD_H,
            "submissions/accepted/cppdir/sol.cpp": CPP_MAIN,
            "submissions/accepted/javadir/Main.java": JAVA_MAIN,
            "submissions/accepted/javadir/Util.java": JAVA_UTIL,
            "submissions/wrong_answer/mixed/a.py": "print(1)\n",
            "submissions/wrong_answer/mixed/b.cpp": "int main(){}\n",
            "submissions/wrong_answer/noentry/a.py": "print(1)\n",
            "submissions/wrong_answer/noentry/b.py": "print(2)\n",
            "submissions/wrong_answer/.hidden/x.py": "print(1)\n",
        },
    )
    subs, warnings = discover(pkg, version)
    assert found(subs, pkg) == {
        "accepted/single.py": ("python", None),
        "accepted/pypkg": ("python", "__main__.py"),
        "accepted/onepy": ("python", "solve.py"),
        "accepted/twopy": ("python", "main.py"),
        "accepted/cppdir": ("cpp", "sol.cpp"),
        "accepted/javadir": ("java", "Main.java"),
    }
    assert any("mixed: ignored: sources in several languages (cpp, python)" in w for w in warnings)
    assert any("noentry: ignored: no entrypoint" in w for w in warnings)


def test_submissions_yaml_names_language_and_entrypoint(tmp_path: Path) -> None:
    yaml_text = yaml.safe_dump(
        {
            "accepted/two": {"entrypoint": "b.py"},
            "accepted/{odd.txt,php.py}": {"language": "python3"},
            "accepted/php.py": {"language": "php"},
            "accepted/jv": {"entrypoint": "app.Start"},
        },
        sort_keys=False,  # later entries win
    )
    pkg = make_package(
        tmp_path,
        yaml_data=CURRENT,
        files={
            "submissions/submissions.yaml": yaml_text,
            "submissions/accepted/two/a.py": "print(1)\n",
            "submissions/accepted/two/b.py": "import a\n",
            "submissions/accepted/odd.txt": "print(3)\n",
            "submissions/accepted/php.py": "<?php echo 3;\n",
            "submissions/accepted/jv/app/Start.java": JAVA_MAIN,
            "submissions/accepted/jv/app/Other.java": JAVA_MAIN,
        },
    )
    subs, warnings = discover(pkg, "2025-09")
    assert found(subs, pkg) == {
        "accepted/two": ("python", "b.py"),
        "accepted/odd.txt": ("python", None),
        "accepted/jv": ("java", "app/Start.java"),
    }
    assert any("php.py: ignored: language 'php'" in w for w in warnings)


def test_known_folders_per_version(tmp_path: Path) -> None:
    files = {
        f"submissions/{folder}/s.py": "print(1)\n"
        for folder in ("rejected", "brute_force", "partially_accepted", "mine", "other")
    }
    files["submissions/submissions.yaml"] = yaml.safe_dump({"mine": {"required": ["WA"]}})
    pkg = make_package(tmp_path, yaml_data=CURRENT, files=files)
    subs, warnings = discover(pkg, None)  # the version as problem.yaml says
    assert sorted(s.expected for s in subs) == ["brute_force", "mine", "rejected"]
    assert any(w.startswith("submissions/other: ignored: unknown") for w in warnings)
    assert any(w.startswith("submissions/partially_accepted: ignored") for w in warnings)
    subs, warnings = discover(pkg, "legacy")
    assert sorted(s.expected for s in subs) == ["partially_accepted", "rejected"]
    assert any(w.startswith("submissions/brute_force: ignored: unknown") for w in warnings)
    assert any(w.startswith("submissions/mine: ignored: unknown") for w in warnings)


def test_submission_sources_substitute_constants(tmp_path: Path) -> None:
    pkg_dir = make_package(
        tmp_path,
        files={
            "submissions/accepted/k.py": "print({{k}} + {{unknown}})\n",
            "submissions/accepted/dir/__main__.py": "import util\nprint(util.K)\n",
            "submissions/accepted/dir/util.py": "K = {{k.hex}}\n",
        },
    )
    package = dataclasses.replace(load_package(pkg_dir), constants={"k": "5", "k.hex": "0x5"})
    subs = {s.path.name: s for s in discover(pkg_dir)[0]}
    assert submission_sources(package, subs["k.py"]) == ("print(5 + {{unknown}})\n", {})
    code, files = submission_sources(package, subs["dir"])
    assert code == "import util\nprint(util.K)\n"
    assert files == {"util.py": b"K = 0x5\n"}


# -- judging -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def adder(tmp_path_factory: pytest.TempPathFactory) -> ProblemPackage:
    return load_package(make_package(tmp_path_factory.mktemp("pkg")))


def test_multi_file_cpp_compiles_every_source(judge: Judge, adder: ProblemPackage) -> None:
    files = {"add.h": CPP_ADD_H.encode(), "add.cpp": CPP_ADD.encode()}
    assert judge.judge(adder, "cpp", CPP_MAIN, files=files).verdict == Verdict.AC
    # The cache key covers every file: another add.cpp is another program.
    wrong = {**files, "add.cpp": CPP_ADD.replace("a + b", "a - b").encode()}
    assert judge.judge(adder, "cpp", CPP_MAIN, files=wrong).verdict == Verdict.WA
    missing = judge.judge(adder, "cpp", CPP_MAIN, files={"add.h": CPP_ADD_H.encode()})
    assert missing.verdict == Verdict.CE


def test_multi_file_java(judge: Judge, adder: ProblemPackage) -> None:
    result = judge.judge(adder, "java", JAVA_MAIN, files={"Util.java": JAVA_UTIL.encode()})
    assert result.verdict == Verdict.AC, result.compile_output


def test_multi_file_python_imports_its_sibling(judge: Judge, adder: ProblemPackage) -> None:
    result = judge.judge(adder, "python", PY_UTIL_MAIN, files={"util.py": PY_UTIL.encode()})
    assert result.verdict == Verdict.AC, result.to_json()


@pytest.mark.parametrize("name", ["../escape.py", "/etc/x.py", "a/../../b.py", ""])
def test_file_names_must_stay_relative(judge: Judge, adder: ProblemPackage, name: str) -> None:
    result = judge.judge(adder, "python", "print(1)\n", files={name: b"x"})
    assert result.verdict == Verdict.CE and "invalid file name" in result.compile_output


def test_example_folder_submission_end_to_end(judge: Judge, tmp_path: Path) -> None:
    pkg_dir = make_package(
        tmp_path,
        files={
            "submissions/accepted/cpp/sol.cpp": CPP_MAIN,
            "submissions/accepted/cpp/add.cpp": CPP_ADD,
            "submissions/accepted/cpp/add.h": CPP_ADD_H,
        },
    )
    package = load_package(pkg_dir)
    (sub,) = package.submissions
    code, files = submission_sources(package, sub)
    assert judge.judge(package, sub.language, code, files=files).verdict == Verdict.AC


def with_includes(package: ProblemPackage, root: Path, files: dict[str, str]) -> ProblemPackage:
    """`package` with include/<folder>/ files written under `root` (the loader's part)."""
    includes: dict[str, Path] = {}
    for rel, text in files.items():
        path = root / "include" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        includes[rel.split("/", 1)[0]] = root / "include" / rel.split("/", 1)[0]
    return dataclasses.replace(package, includes=includes)


def test_include_files_join_every_submission(
    judge: Judge, adder: ProblemPackage, tmp_path: Path
) -> None:
    package = with_includes(
        adder,
        tmp_path,
        {
            "python3/util.py": "def add(a, b):\n    return a + b + {{bonus}}\n",
            "default/data.txt": "{{bonus}}\n",
        },
    )
    package = dataclasses.replace(package, constants={"bonus": "0"})
    # Python gets include/python3/ (whose util.py replaces the submitted one) ...
    submitted_util = {"util.py": b"def add(a, b):\n    return 0\n"}
    assert judge.judge(package, "python", PY_UTIL_MAIN, files=submitted_util).verdict == (
        Verdict.AC
    )
    # ... and C++ include/default/: its data file is in the working directory, /prog.
    reads_data = (
        '#include <cstdio>\nint main(){long long a,b,c=-1;scanf("%lld %lld",&a,&b);'
        'FILE*f=fopen("data.txt","r");if(f)fscanf(f,"%lld",&c);'
        'printf("%lld\\n",a+b+c);}\n'
    )
    assert judge.judge(package, "cpp", reads_data).verdict == Verdict.AC


def test_an_included_driver_replaces_the_main_file(
    judge: Judge, adder: ProblemPackage, tmp_path: Path
) -> None:
    package = with_includes(adder, tmp_path, {"python3/main.py": PY_UTIL_MAIN})
    result = judge.judge(
        package, "python", "print('ignored')\n", files={"util.py": PY_UTIL.encode()}
    )
    assert result.verdict == Verdict.AC, result.to_json()


def test_code_limit_counts_submitted_files_before_includes(
    judge: Judge, adder: ProblemPackage, tmp_path: Path
) -> None:
    limits = dataclasses.replace(adder.limits, code=1)  # KiB
    package = with_includes(
        dataclasses.replace(adder, limits=limits), tmp_path, {"default/big.txt": "x" * 4096}
    )
    code = "a, b = map(int, input().split())\nprint(a + b)\n"
    assert judge.judge(package, "python", code).verdict == Verdict.AC
    over = judge.judge(package, "python", code, files={"pad.txt": b"#" * 1024})
    assert over.verdict == Verdict.CE and "code limit of 1 KiB" in over.compile_output


@pytest.mark.parametrize("language", ["python", "cpp"])
def test_args_reach_the_command_line(judge: Judge, tmp_path: Path, language: str) -> None:
    package = load_package(
        make_package(tmp_path, cases={"sample/1": ("", "a b\n"), "secret/1": ("", "-x\n")})
    )
    for case in package.tests:
        case.args = tuple(case.answer.read_text().split())
    code = {
        "python": "import sys\nprint(*sys.argv[1:])\n",
        "cpp": "#include <cstdio>\nint main(int n,char**v){for(int i=1;i<n;i++)"
        'printf("%s ",v[i]);puts("");}\n',
    }[language]
    result = judge.judge(package, language, code, run_all=True)
    assert [t.verdict for t in result.tests] == [Verdict.AC, Verdict.AC], result.to_json()


# Says hello, then accepts when the submission answers "ok".
INTERACTOR = """import sys
print('hello', flush=True)
sys.exit(42 if sys.stdin.readline().strip() == 'ok' else 43)
"""


def test_args_reach_an_interactive_submission(judge: Judge, tmp_path: Path) -> None:
    package = load_package(
        make_package(
            tmp_path,
            yaml_data={"validation": "custom interactive"},
            cases={"secret/1": ("\n", "\n")},
            files={"output_validators/talk/talk.py": INTERACTOR},
        )
    )
    (case,) = package.tests
    case.args = ("ok",)
    code = "import sys\ninput()\nprint(sys.argv[1], flush=True)\n"
    assert judge.judge(package, "python", code).verdict == Verdict.AC
    case.args = ("no",)
    assert judge.judge(package, "python", code).verdict == Verdict.WA


def test_stream_takes_files(judge: Judge, adder: ProblemPackage) -> None:
    files = {"add.h": CPP_ADD_H.encode(), "add.cpp": CPP_ADD.encode()}

    async def final() -> object:
        return [item async for item in judge.stream(adder, "cpp", CPP_MAIN, files=files)][-1]

    result = asyncio.run(final())
    assert isinstance(result, JudgeResult) and result.verdict == Verdict.AC


def test_custom_runs_get_the_include_files_too(
    judge: Judge, adder: ProblemPackage, tmp_path: Path
) -> None:
    package = with_includes(adder, tmp_path, {"python3/util.py": PY_UTIL})
    run = judge.run_custom("python", PY_UTIL_MAIN, b"2 3\n", package=package)
    assert (run.verdict, run.stdout) == ("OK", "5\n")


def test_judge_run_takes_a_folder(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from codebattle.cli import app

    pkg = make_package(tmp_path)
    folder = tmp_path / "sol"
    for name, text in {"sol.cpp": CPP_MAIN, "add.cpp": CPP_ADD, "add.h": CPP_ADD_H}.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    result = CliRunner().invoke(app, ["judge", "run", str(pkg), str(folder), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["verdict"] == "AC"
    (folder / "extra.py").write_text("print(1)\n")
    mixed = CliRunner().invoke(app, ["judge", "run", str(pkg), str(folder)])
    assert mixed.exit_code != 0 and "cannot tell the language (cpp, python)" in mixed.output


def test_the_working_directory_holds_the_files(judge: Judge, tmp_path: Path) -> None:
    cases = {"sample/1": ("", "/box\n"), "secret/1": ("", "/box\n")}
    package = load_package(make_package(tmp_path, cases=cases))
    code = "import os\nprint(os.getcwd())\n"
    assert judge.judge(package, "python", code).verdict == Verdict.AC  # nothing beside it
    among_files = judge.judge(package, "python", code, files={"notes.txt": b"x"})
    assert among_files.verdict == Verdict.WA and "'/prog'" in among_files.tests[0].feedback
    reads = "print(open('notes.txt').read())\n"
    assert judge.judge(package, "python", reads, files={"notes.txt": b"/box"}).verdict == (
        Verdict.AC
    )


def test_a_2025_package_end_to_end(judge: Judge, tmp_path: Path) -> None:
    """The loader's constants and include/ folders, a folder submission, in 2025-09."""
    pkg_dir = make_package(
        tmp_path,
        yaml_data={**CURRENT, "constants": {"offset": 0}},
        files={
            "include/python3/util.py": "OFFSET = {{offset}}\n",
            "include/default/offset.txt": "{{offset}}\n",
            "submissions/accepted/py/__main__.py": (
                "import util\na, b = map(int, input().split())\nprint(a + b + util.OFFSET)\n"
            ),
            "submissions/accepted/py/util.py": "OFFSET = 1000  # replaced by the included one\n",
            "submissions/accepted/cpp/sol.cpp": (
                '#include <cstdio>\nint main(){long long a,b,c;scanf("%lld %lld",&a,&b);'
                'FILE*f=fopen("offset.txt","r");fscanf(f,"%lld",&c);'
                'printf("%lld\\n",a+b+c+{{offset}});}\n'
            ),
            "submissions/accepted/cpp/unused.h": "\n",
        },
    )
    package = load_package(pkg_dir)
    assert {s.path.name: s.entrypoint for s in package.submissions} == {
        "cpp": "sol.cpp",
        "py": "__main__.py",
    }
    for sub in package.submissions:
        code, files = submission_sources(package, sub)
        result = judge.judge(package, sub.language, code, files=files)
        assert result.verdict == Verdict.AC, (sub.path.name, result.to_json())
