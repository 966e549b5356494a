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
        assert all(name in text for name in ("cpp", "java", "kotlin", "python"))


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
