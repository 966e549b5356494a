"""What an import stores of LaTeX statements and statement files (problems/statements.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from codebattle.judge.loader import load_package
from codebattle.problems import latex, statements
from codebattle.storage import LocalBlobStore
from tests.support.hosts import require
from tests.support.packages import make_package

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 16
TEX = r"""\problemname{Trees}
Count the nodes of the tree in the figure.
\illustration{0.3}{tree}{The tree of the first example}
\begin{Input}
$N$ ($1 \le N \le {{max_n}}$), then \constant{max_n} more.
\end{Input}
"""


def tex_package(tmp_path: Path, files: dict[str, str] | None = None) -> Path:
    root = make_package(
        tmp_path,
        "trees",
        yaml_data={"problem_format_version": "2025-09", "constants": {"max_n": 1000}},
        files={"statement/problem.en.tex": TEX, **(files or {})},
    )
    (root / "statement" / "tree.png").write_bytes(PNG)
    (root / "statement" / "problem.ko.pdf").write_bytes(b"%PDF-1.4\n")
    (root / "statement" / "notes.txt").write_text("not an asset\n")
    return root


@pytest.fixture
def pandoc() -> None:
    require(latex.pandoc_path() is not None, "pandoc (scripts/system-deps.sh installs it)")


@pytest.mark.usefixtures("pandoc")
def test_tex_statement_converted_with_its_image_and_constants(tmp_path: Path) -> None:
    blobs = LocalBlobStore(tmp_path / "blobs")
    package = load_package(tex_package(tmp_path))
    built = statements.build(package, blobs, "trees")
    assert set(built.markdown) == {"en"}
    text = built.markdown["en"]
    assert "Count the nodes" in text and "## Input" in text
    assert r"$N$ ($1 \le N \le 1000$), then 1000 more." in text
    assert "![](/problems/trees/assets/tree.png)" in text
    assert set(built.assets) == {"tree.png", "problem.ko.pdf"}  # notes.txt is no asset
    assert blobs.get(built.assets["tree.png"]) == PNG
    assert statements.pdf_languages(built.assets) == {"ko": "problem.ko.pdf"}
    assert built.warnings == []


@pytest.mark.usefixtures("pandoc")
def test_markdown_is_preferred_and_its_images_are_linked_too(tmp_path: Path) -> None:
    files = {"statement/problem.en.md": "Markdown text.\n\n![tree](tree.png) ![x](lost.png)\n"}
    package = load_package(tex_package(tmp_path, files))
    built = statements.build(package, LocalBlobStore(tmp_path / "blobs"), "trees")
    assert built.markdown["en"].startswith("Markdown text.")
    assert "![tree](/problems/trees/assets/tree.png)" in built.markdown["en"]
    assert built.warnings == [
        "statement/problem.en.md: image 'lost.png' is not a statement file we serve "
        "(png, jpg, jpeg, gif, svg in the statement folder)"
    ]


@pytest.mark.usefixtures("pandoc")
def test_a_statement_pandoc_cannot_read_is_shown_as_source(tmp_path: Path) -> None:
    files = {"statement/problem.en.tex": "\\begin{itemize}\\item never closed\n"}
    package = load_package(tex_package(tmp_path, files))
    built = statements.build(package, LocalBlobStore(tmp_path / "blobs"), "trees")
    assert "```latex\n\\begin{itemize}\\item never closed\n```" in built.markdown["en"]
    assert built.warnings[0].startswith("statement/problem.en.tex: shown as LaTeX source: ")


def test_without_pandoc_the_import_warns_and_shows_no_statement(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(latex, "pandoc_path", lambda: None)
    package = load_package(tex_package(tmp_path))
    built = statements.build(package, LocalBlobStore(tmp_path / "blobs"), "trees")
    assert built.markdown == {}
    assert "problem.ko.pdf" in built.assets  # images and PDFs are still stored
    assert built.warnings == [
        "statement/problem.en.tex: not shown: pandoc is not installed on this host "
        "(scripts/system-deps.sh installs it)"
    ]
    # Once pandoc is there, importing the same package again converts it.
    assert not statements.convertible_now({}, package)
    monkeypatch.undo()
    assert statements.convertible_now({}, package) is (latex.pandoc_path() is not None)
    assert not statements.convertible_now({"en": "text"}, package)
