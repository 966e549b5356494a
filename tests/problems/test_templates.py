"""The languages a problem version offers and their starter code: problem.yaml `languages`
(2025-09) kept at import, and a template for every offered language even in versions
imported before the language existed (PyPy)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from codebattle.db.session import Database
from codebattle.judge import languages
from codebattle.problems.importer import import_package
from codebattle.problems.models import Problem, ProblemVersion
from codebattle.problems.templates import choices_of, offered, templates_of
from codebattle.storage import LocalBlobStore
from tests.support.packages import make_package

OWN_PY = "def solve():\n    pass  # the package's own starter\n"
OWN_CPP = "// the package's own C++ starter\nint main() {}\n"


def version(templates: dict[str, str], accepted: list[str] | None = None) -> ProblemVersion:
    return ProblemVersion(templates=templates, languages=accepted)


def test_offered_keeps_the_registry_order_and_drops_ids_the_judge_no_longer_knows() -> None:
    assert offered(None) == list(languages.LANGUAGES)
    assert offered(["python", "cobol", "cpp"]) == ["cpp", "python"]


def test_a_version_from_before_pypy_gets_a_pypy_template() -> None:
    defaults = {name: languages.LANGUAGES[name].template for name in ("cpp", "java", "python")}
    shown = templates_of(version(defaults))
    assert set(shown) == set(languages.LANGUAGES) and "pypy" in shown
    assert shown["pypy"] == languages.LANGUAGES["pypy"].template
    # A package's own solution.py is what PyPy would have got at import: it reads that file.
    own = templates_of(version({**defaults, "python": OWN_PY, "cpp": OWN_CPP}))
    assert own["pypy"] == own["python"] == OWN_PY and own["cpp"] == OWN_CPP
    # No stored templates at all: every language's default.
    assert templates_of(version({}))["java"] == languages.LANGUAGES["java"].template


def test_a_restricted_version_offers_only_its_languages() -> None:
    restricted = version({"cpp": OWN_CPP}, ["pypy", "cpp"])
    assert list(templates_of(restricted)) == ["cpp", "pypy"]
    assert templates_of(restricted)["cpp"] == OWN_CPP
    assert choices_of(restricted) == [("cpp", "C++17 (g++)"), ("pypy", "PyPy 3")]


async def test_import_keeps_the_languages_and_only_their_templates_and_solutions(
    db: Database, tmp_path: Path
) -> None:
    common = {
        "templates/solution.py": OWN_PY,
        "templates/solution.cpp": OWN_CPP,
        "submissions/accepted/sum.py": "a, b = map(int, input().split())\nprint(a + b)\n",
        "submissions/accepted/sum.cpp": OWN_CPP,
        "statement/problem.en.md": "# Adder\n",
    }
    meta = {"problem_format_version": "2025-09", "uuid": "5a1d0c3e-1b2f-4e6a-9c7d-0e1f2a3b4c5d"}
    restricted = make_package(
        tmp_path, "only-py", yaml_data={**meta, "languages": ["pypy3", "python3"]}, files=common
    )
    every = make_package(tmp_path, "any-lang", yaml_data=meta, files=common)
    blobs = LocalBlobStore(tmp_path / "blobs")
    async with db.session() as session:
        await import_package(session, blobs, restricted)
        await import_package(session, blobs, every)
    async with db.reading() as session:
        stored = {
            p.slug: p.current_version
            for p in await session.scalars(select(Problem).order_by(Problem.slug))
        }
    only_py, any_lang = stored["only-py"], stored["any-lang"]
    assert only_py is not None and any_lang is not None
    assert only_py.languages == ["pypy", "python"]
    assert set(only_py.templates) == {"pypy", "python"} and only_py.templates["pypy"] == OWN_PY
    assert set(only_py.solutions) == {"python"}  # the AI opponent never plays C++ here
    assert any_lang.languages is None
    assert set(any_lang.templates) == set(languages.LANGUAGES)
    assert set(any_lang.solutions) == {"cpp", "python"}
