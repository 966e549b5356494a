"""`codebattle judge selftest --languages`: a pool's image has its own languages'
toolchains only, so its selftest checks those and passes; the other pools' are not
reported missing. Without the option every language is checked, as before."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from codebattle.cli import app
from codebattle.judge.languages.base import Language
from codebattle.judge.selftest import chosen_languages

runner = CliRunner()


@pytest.fixture
def cpp_image(monkeypatch: pytest.MonkeyPatch) -> None:
    """This host as the C++ pool's image: no JDK, no PyPy (Python runs the app, so it is
    there), in production without the API's secrets, as a worker machine is."""
    here = {"cpp", "python"}
    monkeypatch.setattr(Language, "available", lambda self: self.name in here)
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)


def language_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if "] language " in line]


@pytest.mark.usefixtures("cpp_image")
def test_every_language_is_checked_by_default() -> None:
    result = runner.invoke(app, ["judge", "selftest"])
    assert result.exit_code == 1, result.output
    assert "[FAIL] language java: " in result.output
    assert "[FAIL] language pypy: " in result.output


@pytest.mark.usefixtures("cpp_image")
def test_a_pool_checks_only_its_languages_and_passes() -> None:
    result = runner.invoke(app, ["judge", "selftest", "--languages", "cpp"])
    assert result.exit_code == 0, result.output
    assert [line.split(":")[0] for line in language_lines(result.output)] == ["[ok  ] language cpp"]
    assert "[ok  ] sandbox" in result.output  # the host's checks still run
    prebuilt = [line.split(":")[0] for line in result.output.splitlines() if "prebuilt" in line]
    assert [p.split("] ")[1] for p in prebuilt] == ["prebuilt cpp-pch"]  # no Java archives


@pytest.mark.usefixtures("cpp_image")
def test_a_named_language_without_its_toolchain_still_fails() -> None:
    result = runner.invoke(app, ["judge", "selftest", "--languages", "cpp,java"])
    assert result.exit_code == 1, result.output
    assert "[FAIL] language java: " in result.output
    assert "fix: make system-deps" in result.output


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("rust", "--languages: unknown language 'rust' (known: cpp, java, pypy, python)"),
        ("cpp,go,rust", "unknown language 'go', 'rust'"),
        (" , ", "--languages: no language given (e.g. cpp or python,pypy)"),
    ],
)
def test_bad_languages_are_refused_with_one_line(given: str, message: str) -> None:
    result = runner.invoke(app, ["judge", "selftest", "--languages", given])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output and "[ok  ]" not in result.output


def test_chosen_languages_in_the_registry_order_once_each() -> None:
    assert chosen_languages(" python,cpp ,python") == ("cpp", "python")
    assert chosen_languages("python,pypy") == ("pypy", "python")
