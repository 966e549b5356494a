"""A LaTeX-only package on the site: its statement converted on the problem page, its image
and PDF served from /problems/<slug>/assets/<name>, nothing else served from there."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from codebattle.app import create_app
from codebattle.db.session import Database
from codebattle.judge.engine import Judge
from codebattle.problems import latex
from codebattle.problems.importer import import_package
from codebattle.services import Services
from codebattle.storage import LocalBlobStore
from tests.support.hosts import require
from tests.support.packages import make_package
from tests.support.site import runner_factory, settings_for

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 16
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
TEX = r"""\problemname{Tree Count}
Count the \textbf{leaves} of a tree with $N$ nodes.
\illustration{0.3}{tree.png}{A small tree}
\section*{Input}
One integer $N$ ($1 \le N \le 10^5$).
"""


@pytest.fixture
def client(tmp_path: Path, sqlite_url: str, judge: Judge, judge_root: Path) -> Iterator[TestClient]:
    require(latex.pandoc_path() is not None, "pandoc (scripts/system-deps.sh installs it)")
    settings = settings_for(tmp_path, DATABASE_URL=sqlite_url.replace("+aiosqlite", ""))
    root = make_package(
        tmp_path / "packages",
        "tree-count",
        yaml_data={"problem_format_version": "2025-09", "name": "Tree Count"},
        files={"statement/problem.en.tex": TEX},
    )
    (root / "statement" / "tree.png").write_bytes(PNG)
    (root / "statement" / "plan.svg").write_bytes(SVG)
    (root / "statement" / "problem.ko.pdf").write_bytes(b"%PDF-1.4\n")

    async def load() -> None:
        db = Database(settings.database_url)
        try:
            async with db.session() as session:
                await import_package(session, LocalBlobStore(settings.DATA_DIR / "blobs"), root)
        finally:
            await db.dispose()

    asyncio.run(load())
    services = Services.from_settings(settings, runner_factory(judge, settings, judge_root))
    with TestClient(create_app(settings, services), base_url="http://testserver") as test:
        yield test


def test_the_problem_page_shows_the_converted_statement(client: TestClient) -> None:
    page = client.get("/problems/tree-count", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    html = page.text
    assert "Count the <strong>leaves</strong> of a tree with" in html
    assert '<span class="math inline">N</span>' in html  # KaTeX renders it in the browser
    assert r'<span class="math inline">1 \le N \le 10^5</span>' in html
    assert "<h2>Input</h2>" in html
    assert '<img src="/problems/tree-count/assets/tree.png"' in html
    assert "<em>A small tree</em>" in html
    # Korean has only the PDF: offered as a download beside the English text.
    assert 'href="/problems/tree-count/assets/problem.ko.pdf" download' in html


def test_assets_are_served_with_their_type_and_no_script(client: TestClient) -> None:
    image = client.get("/problems/tree-count/assets/tree.png")
    assert image.status_code == 200
    assert image.content == PNG
    assert image.headers["content-type"] == "image/png"
    assert image.headers["x-content-type-options"] == "nosniff"
    svg = client.get("/problems/tree-count/assets/plan.svg")
    assert svg.status_code == 200 and svg.headers["content-type"] == "image/svg+xml"
    policy = svg.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "sandbox" in policy and "script" not in policy
    pdf = client.get("/problems/tree-count/assets/problem.ko.pdf")
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["content-disposition"].startswith("attachment")


@pytest.mark.parametrize(
    "path",
    [
        "/problems/tree-count/assets/problem.yaml",  # in the package, not a statement file
        "/problems/tree-count/assets/problem.en.tex",
        "/problems/tree-count/assets/missing.png",
        "/problems/tree-count/assets/..%2Fproblem.yaml",
        "/problems/tree-count/assets/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd",
        "/problems/tree-count/assets/../../problem.yaml",
        "/problems/no-such-problem/assets/tree.png",
    ],
)
def test_only_listed_statement_files_are_served(client: TestClient, path: str) -> None:
    reply = client.get(path)
    assert reply.status_code == 404
    assert reply.content != PNG
