"""Small things the browser tester found: a statement's own first heading that repeats the
problem's name is not shown twice, languages are shown by their titles (history, the
submission page, the unknown-language message), a limit never breaks from its unit, and the
keyboard hint can be hidden on touch screens."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from codebattle.app import create_app
from codebattle.config import Settings
from codebattle.db.session import Database
from codebattle.errors import UserError
from codebattle.i18n import translate
from codebattle.judge.engine import Judge
from codebattle.problems.importer import import_package
from codebattle.problems.models import ProblemVersion
from codebattle.services import Services
from codebattle.storage import LocalBlobStore
from codebattle.submissions.service import check_language
from codebattle.web.render import language_title, markdown, statement_markup
from tests.support.packages import make_package
from tests.support.site import runner_factory, sign_in, wait_done

SLUG = "pair-sum"
SUM_PY = "a, b = map(int, input().split())\nprint(a + b)\n"


def test_a_first_heading_equal_to_the_title_is_left_out() -> None:
    html = markdown("#  pair SUM \n\nPrint a + b.\n", title="Pair Sum")
    assert "<h1>" not in html and "<p>Print a + b.</p>" in html
    # Another first heading, the name lower down, or the name as a smaller heading all stay.
    assert "<h1>Pair sums</h1>" in markdown("# Pair sums\n\nText\n", title="Pair Sum")
    assert "<h1>Pair Sum</h1>" in markdown("Intro\n\n# Pair Sum\n", title="Pair Sum")
    assert "<h2>Pair Sum</h2>" in markdown("## Pair Sum\n\nText\n", title="Pair Sum")
    # Without a title (or an empty one) nothing is taken away.
    assert "<h1>Pair Sum</h1>" in markdown("# Pair Sum\n", title=None)
    assert "<h1></h1>" in markdown("#\n\nText\n", title="")


def test_the_statement_drops_the_name_in_its_own_language() -> None:
    version = ProblemVersion(
        names={"en": "Pair Sum", "ko": "두 수의 합"},
        statements={"en": "# Pair Sum\n\nPrint a + b.\n", "ko": "# 두 수의 합\n\na + b\n"},
    )
    assert "<h1>" not in statement_markup(version, "en")
    assert "<h1>" not in statement_markup(version, "ko")
    # A Korean name does not remove an English statement's different heading.
    english_only = ProblemVersion(
        names={"en": "Pair Sum", "ko": "두 수의 합"}, statements={"en": "# Adding\n\nText\n"}
    )
    assert "<h1>Adding</h1>" in statement_markup(english_only, "ko")


def test_language_titles() -> None:
    assert language_title("python") == "Python 3"
    assert language_title("pypy") == "PyPy 3"
    assert language_title("brainfuck") == "brainfuck"  # no longer known: shown as stored


def test_unknown_language_lists_the_titles_the_problem_allows() -> None:
    with pytest.raises(UserError) as refused:
        check_language("cobol", ["pypy", "cpp"])
    error = refused.value
    assert error.key == "language_unknown"
    assert translate(error.key, "en", **error.params) == (
        "Unknown language 'cobol'. Choose one of: C++17 (g++), PyPy 3."
    )
    korean = translate(error.key, "ko", **error.params)
    assert "cobol" in korean and korean.endswith("C++17 (g++), PyPy 3.")
    with pytest.raises(UserError) as any_problem:
        check_language("cobol")
    assert "Python 3" in any_problem.value.params["known"]
    assert "python" not in any_problem.value.params["known"]


@pytest.fixture
def site(
    app_settings: Settings, judge: Judge, judge_root: Path, tmp_path: Path
) -> Iterator[TestClient]:
    """The test site with a problem whose statements open with its name."""
    package = make_package(
        tmp_path / "packages",
        SLUG,
        yaml_data={
            "problem_format_version": "2025-09",
            "uuid": "0c7f3a52-9d1e-4b8a-a6f0-5e2d7c1b9a34",
            "name": {"en": "Pair Sum", "ko": "두 수의 합"},
            "languages": ["cpp", "pypy3"],
            "limits": {"time_limit": 1, "memory": 256},
        },
        cases={"sample/1": ("1 2\n", "3\n"), "secret/1": ("10 20\n", "30\n")},
        files={
            "statement/problem.en.md": "# Pair Sum\n\nPrint a + b.\n",
            "statement/problem.ko.md": "# 두 수의 합\n\na + b를 출력하세요.\n",
        },
    )

    async def load() -> None:
        db = Database(app_settings.database_url)
        try:
            async with db.session() as session:
                blobs = LocalBlobStore(app_settings.DATA_DIR / "blobs")
                await import_package(session, blobs, package)
        finally:
            await db.dispose()

    asyncio.run(load())
    services = Services.from_settings(app_settings, runner_factory(judge, app_settings, judge_root))
    with TestClient(create_app(app_settings, services), base_url="http://testserver") as client:
        yield client


def statement_of(page: str) -> str:
    found = re.search(r'<article class="statement".*?</article>', page, re.S)
    assert found is not None
    return found.group(0)


def test_problem_and_submission_pages(site: TestClient) -> None:
    client = site
    csrf = sign_in(client)
    for locale, name in (("en", "Pair Sum"), ("ko", "두 수의 합")):
        client.cookies.set("lang", locale)
        statement = statement_of(client.get(f"/problems/{SLUG}").text)
        assert statement.count(name) == 1  # the page's title only
        assert f'<h1 id="problem-title">{name}</h1>' in statement
        assert "256&nbsp;MiB" in statement and "1&nbsp;s" in statement

    client.cookies.set("lang", "en")
    reply = client.post(
        "/api/submissions",
        json={"problem": SLUG, "language": "cobol", "code": SUM_PY},
        headers={"X-CSRF-Token": csrf},
    )
    assert reply.status_code == 422
    assert reply.json()["error"]["message"].endswith("Choose one of: C++17 (g++), PyPy 3.")

    reply = client.post(
        "/api/submissions",
        json={"problem": SLUG, "language": "pypy", "code": SUM_PY},
        headers={"X-CSRF-Token": csrf},
    )
    assert reply.status_code == 201, reply.text
    submission_id = int(reply.json()["id"])
    assert wait_done(client, submission_id)["verdict"] == "AC"
    page = client.get(f"/problems/{SLUG}").text
    assert '<span class="hint keyboard-hint">' in page  # hidden on touch screens (app.css)
    history = page.split('id="history"', 1)[1]
    assert '<span class="nowrap">PyPy 3</span>' in history and ">pypy<" not in history
    detail = client.get(f"/submissions/{submission_id}").text
    assert "</a> · PyPy 3</p>" in detail
