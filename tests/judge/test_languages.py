"""A language is one file: a new module in judge/languages/ reaches the language menu, the
extension tables of the package loader, the editor's starter code, the AI opponent's prompt
and the "unknown language" message, and brings its own out-of-memory check."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from codebattle import i18n
from codebattle.battles.ai_player import prompt_language
from codebattle.errors import UserError
from codebattle.integrations.openai import extract_code, solution_prompt
from codebattle.judge import languages
from codebattle.judge.graders.base import failure_verdict
from codebattle.judge.languages.base import Language
from codebattle.judge.loader import load_package
from codebattle.judge.sandbox import RunResult
from codebattle.judge.verdicts import Verdict
from codebattle.problems.templates import templates_for
from codebattle.submissions.service import check_language
from tests.support.packages import make_package

KOTLIN = '''
"""Kotlin, as a later commit might add it: this file is all it takes (plus kotlinc)."""

from codebattle.judge.languages.base import Language


class KotlinLanguage(Language):
    def ran_out_of_memory(self, stderr: bytes) -> bool:
        return b"java.lang.OutOfMemoryError" in stderr


LANGUAGE = KotlinLanguage(
    name="kotlin",
    title="Kotlin 2",
    extensions=(".kt",),
    compile_argv=("/usr/bin/kotlinc", "main.kt", "-d", "out"),
    run_argv=("/usr/bin/kotlin", "-cp", "/prog", "MainKt"),
    version_argv=("/usr/bin/kotlinc", "-version"),
    template="fun main() {\\n    val line = readLine()\\n}\\n",
    package_template="solution.kt",
    validator_extensions=(".kt",),
    fence_tags=frozenset({"kt"}),
    prompt_notes=("Write a top-level main function; the code is compiled with kotlinc.",),
)
'''


@pytest.fixture
def kotlin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Language]:
    """The registry as it would be with judge/languages/kotlin.py in the package."""
    folder = tmp_path / "more_languages"
    folder.mkdir()
    (folder / "kotlin.py").write_text(textwrap.dedent(KOTLIN))
    monkeypatch.setattr(languages, "__path__", [*languages.__path__, str(folder)])
    monkeypatch.setattr(languages, "LANGUAGES", languages._discover())
    yield languages.get("kotlin")
    # The discovered module stays imported under codebattle.judge.languages.kotlin; drop it.
    sys.modules.pop("codebattle.judge.languages.kotlin", None)


def run_result(exit_code: int, stderr: bytes) -> RunResult:
    return RunResult(exit_code, None, 0.1, 0.1, 1 << 20, b"", stderr)


def test_a_new_module_is_in_the_menu_and_the_extension_lookup(kotlin: Language) -> None:
    assert ("kotlin", "Kotlin 2") in languages.choices()
    assert languages.for_path(Path("Main.kt")) is kotlin
    assert languages.by_extension(".kt") is kotlin
    assert languages.for_validator(".kt") is kotlin
    assert "kotlin" in languages.names()


def test_the_loader_reads_its_submissions_and_validators(kotlin: Language, tmp_path: Path) -> None:
    files = {
        "submissions/accepted/sol.kt": "fun main() {}\n",
        "submissions/accepted/sol.rb": "",
        "input_validators/check.kt": "fun main() {}\n",
    }
    package = load_package(make_package(tmp_path, files=files))
    assert [(s.path.name, s.language) for s in package.submissions] == [("sol.kt", "kotlin")]
    assert [(v.name, v.language) for v in package.input_validators] == [("check.kt", "kotlin")]
    assert any(
        "sol.rb: ignored: unsupported language (" in w and ".kt" in w for w in package.warnings
    )


def test_its_starter_code_reaches_the_editor(kotlin: Language, tmp_path: Path) -> None:
    assert templates_for(tmp_path)["kotlin"] == kotlin.template
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "solution.kt").write_text("fun main() = println(42)\n")
    assert templates_for(tmp_path)["kotlin"] == "fun main() = println(42)\n"


def test_its_notes_reach_the_prompt(kotlin: Language) -> None:
    language = prompt_language("kotlin")
    instructions, _ = solution_prompt("# A+B", language, None)
    assert "Kotlin 2" in instructions
    assert kotlin.prompt_notes[0] in instructions
    assert "fenced code block tagged kotlin" in instructions
    assert extract_code("```kt\nfun main() {}\n```", language) == "fun main() {}\n"


def test_submissions_accept_it_and_the_refusal_names_it(kotlin: Language) -> None:
    assert check_language("kotlin") == "kotlin"
    with pytest.raises(UserError) as refused:
        check_language("cobol")
    for locale in i18n.LOCALES:
        text = i18n.translate(refused.value.key, locale, **refused.value.params)
        assert "cobol" in text
        # Listed by the names players know, the new language among them.
        assert all(name in text for name in ("C++17 (g++)", "Java 17", "Kotlin 2", "Python 3"))


def test_out_of_memory_is_asked_of_the_language(kotlin: Language) -> None:
    jvm = run_result(1, b'Exception in thread "main" java.lang.OutOfMemoryError: Metaspace\n')
    assert failure_verdict(jvm, kotlin) == Verdict.MLE
    assert failure_verdict(jvm, languages.get("cpp")) == Verdict.RE


@pytest.mark.parametrize(
    ("language", "stderr", "verdict"),
    [
        ("python", b"Traceback (most recent call last):\n  ...\nMemoryError\n", Verdict.MLE),
        ("python", b"MemoryError\n", Verdict.MLE),
        ("java", b"java.lang.OutOfMemoryError: Java heap space\n", Verdict.MLE),
        # Another language's report is just a crash: a C++ program that prints it is RE.
        ("cpp", b"Traceback (most recent call last):\nMemoryError\n", Verdict.RE),
        ("python", b"java.lang.OutOfMemoryError: Java heap space\n", Verdict.RE),
        ("java", b"ValueError: MemoryError is not this\n", Verdict.RE),
    ],
)
def test_each_language_reports_its_own_out_of_memory(
    language: str, stderr: bytes, verdict: Verdict
) -> None:
    assert failure_verdict(run_result(1, stderr), languages.get(language)) == verdict


def test_without_a_language_any_known_report_counts() -> None:
    # Callers that only have a run (the hostile-program suite's `verdict`) keep the old rule.
    assert failure_verdict(run_result(1, b"MemoryError\n")) == Verdict.MLE
    assert failure_verdict(run_result(0, b"MemoryError\n")) is None


# -- the languages table of the problem format, and PyPy -----------------------------------


@pytest.mark.parametrize(
    ("name", "language"),
    [
        ("a.py", "python"),
        ("a.py3", "python"),
        ("a.cpp", "cpp"),
        ("a.cc", "cpp"),
        ("a.cxx", "cpp"),
        ("a.c++", "cpp"),
        ("a.C", "cpp"),
        ("A.CPP", "cpp"),  # upper-cased known extensions still work
        ("A.PY", "python"),
        ("Main.java", "java"),
    ],
)
def test_extensions_of_the_languages_table(name: str, language: str) -> None:
    assert languages.for_path(Path(name)).name == language


@pytest.mark.parametrize("name", ["a.c", "a.X", "a.PYX", "noext"])
def test_unknown_extensions_fail_clearly(name: str) -> None:
    with pytest.raises(languages.UnknownLanguage, match="cannot tell the language of"):
        languages.for_path(Path(name))


def test_extension_lookup_is_case_sensitive() -> None:
    assert languages.by_extension(".C") is languages.get("cpp")
    assert languages.by_extension(".c") is None  # C, not C++
    assert languages.for_validator(".C") is languages.get("cpp")
    assert languages.for_validator(".py3") is languages.get("python")


def test_pypy_is_a_language_of_its_own_without_an_extension() -> None:
    pypy = languages.get("pypy")
    assert ("pypy", "PyPy 3") in languages.choices()
    assert "pypy" in languages.names()
    assert check_language("pypy") == "pypy"
    assert languages.by_package_code("pypy3") is pypy
    assert languages.by_package_code("python3") is languages.get("python")
    # ".py" stays CPython, for submissions and validators alike.
    assert languages.by_extension(".py") is languages.get("python")
    assert languages.for_validator(".py") is languages.get("python")
    assert pypy.source_name("print(1)\n") == "main.py"
    assert pypy.run_argv[0] == "/usr/bin/pypy3"


def test_pypy_has_starter_code_and_prompt_notes(tmp_path: Path) -> None:
    assert templates_for(tmp_path)["pypy"] == languages.get("python").template
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "solution.py").write_text("print(42)\n")
    assert templates_for(tmp_path)["pypy"] == "print(42)\n"
    language = prompt_language("pypy")
    instructions, _ = solution_prompt("# A+B", language, None)
    assert "PyPy 3" in instructions and "Python 3.9" in instructions
    # The model may tag its block python: that is still the program.
    assert extract_code("text\n```python\nprint(1)\n```\n", language) == "print(1)\n"


def test_py3_submissions_are_python(tmp_path: Path) -> None:
    # By extension a file is CPython; PyPy is named by its code (submissions.yaml).
    package = load_package(make_package(tmp_path, files={"submissions/accepted/a.py3": ""}))
    assert [(s.path.name, s.language) for s in package.submissions] == [("a.py3", "python")]


@pytest.mark.parametrize(
    ("language", "stderr", "verdict"),
    [
        (
            "cpp",
            b"terminate called after throwing an instance of 'std::bad_alloc'\n"
            b"  what():  std::bad_alloc\n",
            Verdict.MLE,
        ),
        (
            "python",
            b"terminate called after throwing an instance of 'std::bad_alloc'\n",
            Verdict.RE,
        ),
        ("pypy", b"Traceback (most recent call last):\nMemoryError\n", Verdict.MLE),
    ],
)
def test_bad_alloc_and_pypy_memory_errors(language: str, stderr: bytes, verdict: Verdict) -> None:
    assert failure_verdict(run_result(134, stderr), languages.get(language)) == verdict


def test_only_cpp_has_an_address_space_limit() -> None:
    mib = 1 << 20
    assert languages.get("cpp").address_space(256 * mib) == 256 * mib
    for name in ("java", "python", "pypy"):  # they reserve more than they use
        assert languages.get(name).address_space(256 * mib) is None
