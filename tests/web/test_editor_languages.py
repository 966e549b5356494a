"""The shipped editor bundle highlights every language the judge offers: PyPy as Python.

The bundle is built from frontend/src/editor.js by scripts/build-frontend.sh and committed;
these tests read the built file (what browsers get) and run it in Chromium."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from codebattle.judge import languages
from tests.support.packages import make_package
from tests.support.servers import Site

BUNDLE = Path(__file__).parents[2] / "src/codebattle/web/static/vendor/editor.js"
CHROMIUM = "/usr/bin/chromium"


def test_the_bundle_maps_pypy_to_the_python_mode() -> None:
    # esbuild keeps the object's keys: `{python:aO,pypy:aO,cpp:z1,java:q1}`.
    found = re.search(r"\{python:(\w+),[^{}]*\}", BUNDLE.read_text(encoding="utf-8"))
    assert found is not None, "the language map is not in the bundle: rebuild it"
    modes = dict(re.findall(r"(\w+):([\w$]+)", found.group(0)))
    assert set(languages.LANGUAGES) <= set(modes)
    assert modes["pypy"] == modes["python"] != modes["cpp"]


def test_pypy_code_is_highlighted_like_python_in_a_browser(tmp_path: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("no Chromium at /usr/bin/chromium")
    page_file = tmp_path / "editor.html"
    page_file.write_text(
        f'<!doctype html><div id="py"></div><div id="pypy"></div><div id="plain"></div>'
        f'<script src="{BUNDLE.as_uri()}"></script>'
    )
    code = "def main():\n    return 'text'\n"
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page()
            page.goto(page_file.as_uri())
            styled = page.evaluate(
                """(code) => {
                    const out = {};
                    for (const lang of ["python", "pypy", "plain"]) {
                        const parent = document.getElementById(lang === "python" ? "py" : lang);
                        CodeBattleEditor.create(parent, {language: lang, doc: code});
                        // Highlighted tokens are spans with a class inside the lines.
                        out[lang] = Array.from(parent.querySelectorAll(".cm-line span[class]"))
                            .map((s) => s.className + ":" + s.textContent);
                    }
                    out.languages = CodeBattleEditor.languages;
                    return out;
                }""",
                code,
            )
        finally:
            browser.close()
    assert "pypy" in styled["languages"]
    assert styled["python"], "Python code was not highlighted"
    assert styled["pypy"] == styled["python"]
    assert styled["plain"] == []  # an id without a mode stays plain text


def test_the_editor_opens_in_a_language_the_problem_accepts(tmp_path: Path) -> None:
    """The remembered language is kept when the problem accepts it, PyPy included on a
    version stored before PyPy existed; else the menu's first language, with its starter
    code."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("no Chromium at /usr/bin/chromium")
    package = make_package(
        tmp_path / "packages",
        "pair-sum",
        yaml_data={
            "problem_format_version": "2025-09",
            "uuid": "7d0c5e1a-3b2f-4c6a-8e9d-1f2a3b4c5d6e",
            "languages": ["cpp", "java"],
        },
        files={"statement/problem.en.md": "# Pair sum\n\nPrint a + b.\n"},
    )
    from tests.e2e.actions import sign_in  # needs Playwright, as this test does

    site = Site(tmp_path / "site")
    site.data.mkdir()
    site.import_problems("hello-battle")
    site.cli("problems", "import", str(package))
    # hello-battle as imported before PyPy: no pypy template stored.
    with sqlite3.connect(site.data / "var" / "codebattle.db") as db:
        db.execute("UPDATE problem_versions SET templates = json_remove(templates, '$.pypy')")
    try:
        url = site.serve().url
        with sync_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            try:
                page = browser.new_context(base_url=url, locale="en-US").new_page()
                sign_in(page)
                page.evaluate("localStorage.setItem('cb.language', 'pypy')")
                page.goto("/problems/hello-battle")
                sync_api.expect(page.locator("#editor .cm-content")).to_contain_text("def main")
                assert page.input_value("#language") == "pypy"
                page.goto("/problems/pair-sum")
                sync_api.expect(page.locator("#editor .cm-content")).to_contain_text("#include")
                assert page.input_value("#language") == "cpp"
                options = page.locator("#language option").evaluate_all(
                    "(os) => os.map((o) => o.value)"
                )
                assert options == ["cpp", "java"]
            finally:
                browser.close()
    finally:
        site.stop()
