"""Preview mode (decision 0030, docs/operations.md "Preview mode"): production's security
rules, the mock sandbox's verdicts by the documented rule with no sandbox ever built, a
database that refuses every write but sessions and the practice judge flow (with the
preview's message, nothing changed), a banner on every page and `X-Preview: 1`, and
background loops that stay quiet. The app runs on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import structlog
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from typer.testing import CliRunner

from codebattle import cli
from codebattle.accounts.models import ApiToken, SignInSession, User
from codebattle.app import create_app
from codebattle.battles.models import QueueTicket
from codebattle.config import ConfigError, Environment, Settings
from codebattle.db import preview
from codebattle.db.session import Database
from codebattle.i18n import translate
from codebattle.judge import jobs, mock, selftest
from codebattle.judge.loader import load_package
from codebattle.judge.package import ProblemPackage
from codebattle.judge.queue import InProcessQueue
from codebattle.judge.runner import PackageCache
from codebattle.judge.sandbox import Sandbox
from codebattle.judge.verdicts import Verdict
from codebattle.ops.health import MOCK_SANDBOX
from codebattle.rooms.models import Room
from codebattle.services import Services
from codebattle.storage import LocalBlobStore
from codebattle.submissions.models import Submission
from tests.support.factories import make_match, make_problem_version, make_user
from tests.support.hosts import PROBLEMS
from tests.support.sign_in import with_sign_in
from tests.support.site import import_problems, settings_for
from tests.support.welcome import add_pending_route, begin_signup, form_csrf

KEY = secrets.token_urlsafe(48)  # production-like settings want a strong key
SESSION_ROUTE = "/_test/preview-session"
REFUSED = "This is a preview: changes are not saved."
SAMPLES = ["sample/1", "sample/2"]  # hello-battle's, then 20 secret tests


def preview_settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {"ENVIRONMENT": "preview", "SECRET_KEY": KEY,
                              "BASE_URL": "https://preview.example"}  # fmt: skip
    return settings_for(tmp_path, **(values | overrides))


# ---- Settings: a preview is public, so production's rules hold.


def test_a_preview_needs_a_strong_secret_key_and_https(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^SECRET_KEY: must be set in preview"):
        preview_settings(tmp_path, SECRET_KEY=None)
    with pytest.raises(ConfigError, match=r"^SECRET_KEY: too short"):
        preview_settings(tmp_path, SECRET_KEY="preview-secret")
    with pytest.raises(ConfigError, match=r"^BASE_URL: must start with https:// in preview$"):
        preview_settings(tmp_path, BASE_URL="http://preview.example")
    with pytest.raises(ConfigError, match=r"^FAILPOINTS: .* must be empty in preview$"):
        preview_settings(tmp_path, FAILPOINTS="record.after_commit")


def test_a_preview_has_no_fake_providers_and_no_nickname_sign_in(tmp_path: Path) -> None:
    settings = preview_settings(tmp_path)
    assert settings.ENVIRONMENT == Environment.preview and settings.preview
    assert settings.production_like
    assert not settings.nickname_sign_in
    assert not settings.fake_payments and not settings.fake_giftcards
    assert settings.api_docs  # the code's shape is public; API_DOCS=false turns them off
    development = settings_for(tmp_path)
    assert not development.production_like and not development.preview


# ---- The guard's reading of SQL.


@pytest.mark.parametrize(
    ("sql", "tables"),
    [
        ("SELECT * FROM users WHERE id = $1", set()),
        ("SELECT id FROM users WHERE id = 1 FOR UPDATE SKIP LOCKED", set()),
        ("SELECT id FROM matches FOR NO KEY UPDATE", set()),
        ('UPDATE "users" SET nickname=$1 WHERE users.id = $2', {"users"}),
        (
            "INSERT INTO submission_tests (a) VALUES (1) ON CONFLICT (a) DO UPDATE SET a = 2",
            {"submission_tests"},
        ),  # fmt: skip
        ("INSERT OR IGNORE INTO ratings (a) VALUES (?)", {"ratings"}),
        ("REPLACE INTO ratings (a) VALUES (?)", {"ratings"}),
        ("DELETE FROM public.sessions WHERE id_hash = $1", {"sessions"}),
        (
            "WITH moved AS (UPDATE point_accounts SET balance = 0 RETURNING id) "
            "SELECT count(*) FROM moved",
            {"point_accounts"},
        ),  # fmt: skip
        ("delete from queue_tickets", {"queue_tickets"}),
        ("TRUNCATE TABLE audit_log", {"(schema)"}),
        ("  CREATE INDEX ix ON users (nickname)", {"(schema)"}),
        ("SELECT updated_at, last_update FROM users", set()),
    ],
)
def test_the_guard_names_the_tables_a_statement_writes(sql: str, tables: set[str]) -> None:
    assert preview.written_tables(sql) == tables


def test_the_writable_tables_are_sessions_and_the_practice_judge_flow() -> None:
    assert preview.refused_table("INSERT INTO submissions (a) VALUES (1)") is None
    assert preview.refused_table("UPDATE judge_outbox SET sends = 1") is None
    assert preview.refused_table("DELETE FROM sessions") is None
    both = "WITH x AS (INSERT INTO submissions (a) VALUES (1)) UPDATE users SET role = 'x'"
    assert preview.refused_table(both) == "users"


# ---- The mock sandbox's rule.


@pytest.mark.parametrize(
    ("code", "verdict"),
    [
        ("print(sum(map(int, input().split())))", Verdict.AC),
        ("  \n\t", Verdict.CE),
        ("# preview: WA\nprint(1)", Verdict.WA),
        ("int main() { // Preview: tle\n}", Verdict.TLE),
        ("x = 1  # preview:RE\n# preview: MLE", Verdict.RE),  # the first marker
        ("-- preview: OLE", Verdict.OLE),
        ("; preview: CE", Verdict.CE),
        ("# preview: XYZ\nprint(1)", Verdict.AC),  # not a verdict: no marker
        ("print('preview: WA')", Verdict.AC),  # not a comment
    ],
)
def test_the_verdict_rule(code: str, verdict: Verdict) -> None:
    assert mock.verdict_for(code) == verdict


class _Packages(PackageCache):
    """The starter package read from problems/ (what PackageCache unpacks from blobs)."""

    def __init__(self) -> None:
        pass

    def get(self, key: str) -> ProblemPackage:
        return load_package(PROBLEMS / key)


def _events(code: str, kind: str = "submit", run_all: bool = False) -> list[jobs.Event]:
    job: jobs.Job = {"submission": 7, "kind": kind, "language": "python", "code": code,
                     "package_key": "hello-battle", "time_limit": 1.0, "stdin": "1 2",
                     "run_all": run_all}  # fmt: skip
    events: list[jobs.Event] = []
    mock.MockRunner(_Packages()).execute(job, events.append)
    return events


def test_the_mock_emits_a_real_judges_events() -> None:
    events = _events("# preview: WA", run_all=True)  # every test runs: the later ones pass
    assert [e["type"] for e in events] == ["started", "compiled"] + ["test"] * 22 + ["done"]
    tests = [e["test"] for e in events if e["type"] == "test"]
    assert [t["verdict"] for t in tests] == ["AC", "AC", "WA"] + ["AC"] * 19
    # As a real judge sends them (judge/disclosure.py): a secret test's name is its number.
    assert [t["name"] for t in tests[:3]] == [*SAMPLES, "secret/3"]
    assert all(t["time"] == 0 and t["memory"] == 0 for t in tests)
    done = events[-1]
    assert done["type"] == "done" and done["result"]["verdict"] == "WA"
    assert done["result"]["tests_total"] == 22 and done["result"]["tests"] == tests

    failed = _events("", kind="samples")  # no compiled event after a compile error
    assert [e["type"] for e in failed] == ["started", "done"]
    assert failed[-1]["result"]["verdict"] == "CE"  # type: ignore[typeddict-item]
    assert failed[-1]["result"]["compile_output"] == mock.EMPTY_CODE  # type: ignore[typeddict-item]

    crashed = _events("// preview: IE")
    assert crashed[-1]["result"]["message"] != ""  # type: ignore[typeddict-item]

    ran = _events("print(3)", kind="custom")[-1]["result"]  # type: ignore[typeddict-item]
    assert (ran["verdict"], ran["run_output"], ran["tests_total"]) == ("OK", "", 0)
    assert _events("# preview: WA", kind="custom")[-1]["result"]["verdict"] == "OK"  # type: ignore[typeddict-item]
    assert _events("# preview: RE", kind="custom")[-1]["result"]["verdict"] == "RE"  # type: ignore[typeddict-item]


# ---- A preview app on SQLite and PostgreSQL, seeded before it starts (the copied data).


def _seed(settings: Settings) -> dict[str, int]:
    import_problems(settings, "hello-battle")

    async def run() -> dict[str, int]:
        db = Database(settings.database_url)
        try:
            async with db.session() as session:
                reviewer = await make_user(session, "reviewer")
                admin = await make_user(session, "adam")
                admin.role = "admin"
                ids = {"reviewer": reviewer.id, "adam": admin.id}
                await session.commit()
                return ids
        finally:
            await db.dispose()

    return asyncio.run(run())


@pytest.fixture
def preview_site(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[TestClient, dict[str, int]]]:
    settings = preview_settings(tmp_path, DATABASE_URL=database_url)
    ids = _seed(settings)

    def no_sandbox(*_args: Any, **_kwargs: Any) -> None:
        raise AssertionError("a preview built a sandbox")

    monkeypatch.setattr(Sandbox, "__init__", no_sandbox)
    services = Services.from_settings(settings)
    with TestClient(create_app(settings, services), base_url="https://testserver") as client:
        yield with_sign_in(client, SESSION_ROUTE), ids


def _count(client: TestClient, model: Any, *where: Any) -> int:
    services: Services = client.app.state.services  # type: ignore[attr-defined]

    async def go() -> int:
        async with services.db.reading() as session:
            return int(await session.scalar(select(func.count()).select_from(model).where(*where))
                       or 0)  # fmt: skip

    return int(client.portal.call(go))  # type: ignore[union-attr]


def _become(client: TestClient, nickname: str) -> str:
    client.cookies.delete("codebattle_session")
    assert client.post(SESSION_ROUTE, json={"nickname": nickname}).status_code == 204
    return _csrf(client)


def _csrf(client: TestClient) -> str:
    page = client.get("/problems")
    return str(page.text.split('name="csrf-token" content="', 1)[1].split('"', 1)[0])


def test_pages_carry_the_banner_and_responses_the_header(
    preview_site: tuple[TestClient, dict[str, int]],
) -> None:
    client, _ids = preview_site
    for path in ("/", "/problems", "/problems/hello-battle"):
        page = client.get(path)
        assert page.status_code == 200, path
        assert 'id="preview-banner" role="status"' in page.text, path
        assert page.headers["x-preview"] == "1"
    assert client.get("/api/problems").headers["x-preview"] == "1"
    client.cookies.set("lang", "ko")
    assert "미리보기" in client.get("/problems").text
    ready = client.get("/readyz").json()
    assert ready["checks"]["sandbox"] == MOCK_SANDBOX


def test_sessions_are_kept_and_nothing_else_of_signing_in(
    preview_site: tuple[TestClient, dict[str, int]],
) -> None:
    client, ids = preview_site
    csrf = _become(client, "reviewer")  # as an OAuth callback: a session row
    settings_page = client.get("/settings")
    assert settings_page.status_code == 200 and "reviewer" in settings_page.text
    mine = SignInSession.user_id == ids["reviewer"]
    assert _count(client, SignInSession, mine) == 1
    out = client.post("/signout", data={"csrf_token": csrf}, follow_redirects=False)
    assert out.status_code == 303
    assert _count(client, SignInSession, mine) == 0  # deleted: a write the preview keeps

    # No nickname sign-in in a preview; a first OAuth sign-in keeps its unfinished
    # session, and finishing it (a new user) is refused with the preview's message.
    nickname = client.post("/signin", data={"nickname": "newcomer", "csrf_token": _csrf(client)})
    assert nickname.status_code == 403
    assert translate("nickname_sign_in_disabled", "en") in nickname.text
    add_pending_route(client.app)  # type: ignore[arg-type]
    begin_signup(client)
    assert _count(client, SignInSession, SignInSession.user_id.is_(None)) == 1
    form = {"nickname": "newcomer", "birth_year": "1990", "agree": "on",
            "csrf_token": form_csrf(client.get("/welcome").text)}  # fmt: skip
    finished = client.post("/welcome", data=form, follow_redirects=False)
    assert finished.status_code == 403 and REFUSED in finished.text
    assert _count(client, User, User.nickname == "newcomer") == 0


def _submit(client: TestClient, csrf: str, code: str, kind: str = "submit") -> dict[str, Any]:
    reply = client.post(
        "/api/submissions",
        json={"problem": "hello-battle", "language": "python", "code": code, "kind": kind},
        headers={"X-CSRF-Token": csrf},
    )
    assert reply.status_code == 201, reply.text
    assert reply.headers["x-preview"] == "1"
    submission: dict[str, Any] = {}
    for _ in range(600):  # the mock judges at once; recording is in the app's loop
        submission = client.get(f"/api/submissions/{reply.json()['id']}").json()
        if submission["status"] == "done":
            return submission
        time.sleep(0.05)
    raise AssertionError(f"not judged: {submission}")


def test_practice_submissions_get_the_rules_verdicts_without_a_sandbox(
    preview_site: tuple[TestClient, dict[str, int]],
) -> None:
    client, _ids = preview_site
    services: Services = client.app.state.services  # type: ignore[attr-defined]
    assert isinstance(services.queue, InProcessQueue)
    assert isinstance(services.queue._runner, mock.MockRunner)
    csrf = _become(client, "reviewer")

    accepted = _submit(client, csrf, "print(sum(map(int, input().split())))")
    assert accepted["verdict"] == "AC"
    names = [t["name"] for t in accepted["tests"]]
    assert names[:2] == SAMPLES and len(names) == 22 and names[2].startswith("secret/")
    assert [t["sample"] for t in accepted["tests"][:3]] == [True, True, False]
    assert all(t["verdict"] == "AC" and t["time"] == 0 for t in accepted["tests"])

    wrong = _submit(client, csrf, "# preview: WA\nprint(0)")
    assert wrong["verdict"] == "WA"
    assert [t["verdict"] for t in wrong["tests"]] == ["AC", "AC", "WA"]  # stops at the first
    slow = _submit(client, csrf, "// preview: TLE\nprint(0)")
    assert slow["verdict"] == "TLE" and slow["tests"][-1]["verdict"] == "TLE"
    broken = _submit(client, csrf, "# preview: CE\nprint(0)")
    assert broken["verdict"] == "CE" and broken["tests"] == []
    assert "preview" in broken["compile_output"]
    samples = _submit(client, csrf, "# preview: RE\nprint(0)", kind="samples")
    assert samples["verdict"] == "RE"
    assert [(t["name"], t["verdict"]) for t in samples["tests"]] == [("sample/1", "RE")]
    assert _count(client, Submission) == 5


def test_writes_outside_practice_are_refused_with_the_message_and_change_nothing(
    preview_site: tuple[TestClient, dict[str, int]],
) -> None:
    client, ids = preview_site
    csrf = _become(client, "reviewer")
    with structlog.testing.capture_logs() as logs:
        token = client.post("/settings/tokens", data={"name": "ci", "csrf_token": csrf})
        assert token.status_code == 403 and REFUSED in token.text
        assert _count(client, ApiToken) == 0

        queue = client.post("/api/queue", headers={"X-CSRF-Token": csrf})
        assert queue.status_code == 403
        games_off = translate("preview_games_off", "en")  # the queue says what is off
        assert queue.json()["error"] == {"code": "preview_games_off", "message": games_off}
        assert _count(client, QueueTicket) == 0

        room = client.post("/api/rooms", json={"title": "Preview room",
                                               "problems": ["hello-battle"]},
                           headers={"X-CSRF-Token": csrf})  # fmt: skip
        assert room.status_code == 403 and room.json()["error"]["code"] == "preview_read_only"
        assert _count(client, Room) == 0

        csrf = _become(client, "adam")
        form = {"role": "moderator", "reason": "Helps in the chat.", "confirm": "yes",
                "csrf_token": csrf}  # fmt: skip
        role = client.post(f"/ops/users/{ids['reviewer']}/role", data=form)
        assert role.status_code == 403 and REFUSED in role.text
        assert 'id="preview-banner"' in role.text
        assert _count(client, User, User.role == "moderator") == 0
        # The loops a preview runs (the queue, the outbox relay) meanwhile.
        time.sleep(3)
    noisy = [e for e in logs if e["log_level"] in ("error", "critical", "exception")]
    assert noisy == []


async def _write_directly(session: AsyncSession) -> None:
    await session.execute(text("UPDATE users SET role = 'admin'"))


def test_a_write_through_any_session_is_refused(
    preview_site: tuple[TestClient, dict[str, int]],
) -> None:
    client, _ids = preview_site
    services: Services = client.app.state.services  # type: ignore[attr-defined]

    async def go() -> str:
        async with services.db.session() as session:
            with pytest.raises(preview.PreviewReadOnly) as refused:
                await _write_directly(session)
            # The transaction goes on: the refused statement never reached the database.
            await session.execute(text("SELECT 1"))
            await session.rollback()
            return str(refused.value.table)

    assert client.portal.call(go) == "users"  # type: ignore[union-attr]
    assert _count(client, User, User.role == "admin") == 1  # adam only


def test_a_match_socket_answers_a_refused_write_with_the_message(
    tmp_path: Path, database_url: str
) -> None:
    settings = preview_settings(tmp_path, DATABASE_URL=database_url)
    ids = _seed(settings)

    async def seed_match() -> int:
        db = Database(settings.database_url)
        try:
            async with db.session() as session:
                version = await make_problem_version(
                    session, LocalBlobStore(settings.DATA_DIR / "blobs")
                )
                match = await make_match(session, version, [ids["reviewer"], ids["adam"]],
                                         now=time.time() - 30)  # fmt: skip
                await session.commit()
                return int(match.id)
        finally:
            await db.dispose()

    match_id = asyncio.run(seed_match())
    services = Services.from_settings(settings)
    with (
        TestClient(create_app(settings, services), base_url="https://testserver") as raw,
        structlog.testing.capture_logs() as logs,
    ):
        client = with_sign_in(raw, SESSION_ROUTE)
        _become(client, "reviewer")
        # The session cookie is https-only: TestClient's ws:// would not send it.
        cookie = f"codebattle_session={client.cookies['codebattle_session']}; lang=en"
        with client.websocket_connect(f"/ws/matches/{match_id}", headers={"cookie": cookie}) as ws:
            ws.send_json({"type": "hello", "snapshot": True})
            welcome = ws.receive_json()
            assert welcome["type"] == "welcome" and welcome["role"] == "player"
            ws.send_json({"type": "chat", "text": "hello"})
            error = ws.receive_json()
            while error["type"] != "error":  # the log's events come first
                error = ws.receive_json()
            assert (error["code"], error["message"]) == ("preview_read_only", REFUSED)
    assert [e for e in logs if e["log_level"] in ("error", "critical", "exception")] == []


def test_selftest_reports_the_mock_sandbox_in_a_preview(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in {"ENVIRONMENT": "preview", "SECRET_KEY": KEY, "DATA_DIR": str(tmp_path),
                        "BASE_URL": "https://preview.example"}.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(selftest, "run_checks", lambda: pytest.fail("checked the host"))
    result = CliRunner().invoke(cli.app, ["judge", "selftest"])
    assert result.exit_code == 0, result.output
    assert result.output == f"sandbox: {MOCK_SANDBOX}\n"


def test_a_crash_answers_500_with_the_preview_header(tmp_path: Path, sqlite_url: str) -> None:
    """The 500 page comes from Starlette's outermost middleware: the header is added around
    the whole stack (app.App), once, as on every other response."""
    app = create_app(preview_settings(tmp_path, DATABASE_URL=sqlite_url))

    async def crash() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/_test/crash", crash, methods=["GET"])
    with TestClient(app, base_url="https://testserver", raise_server_exceptions=False) as client:
        answer = client.get("/_test/crash")
        assert answer.status_code == 500
        assert answer.headers.get_list("x-preview") == ["1"]
        assert client.get("/healthz").headers.get_list("x-preview") == ["1"]
