"""The web app and JSON API on the embedded default, with the real judge."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from codebattle.config import Settings
from codebattle.judge.engine import Judge
from tests.support.site import csrf_of, sign_in, wait_done

SUM_PY = "a, b = map(int, input().split())\nprint(a + b)\n"
SUM_CPP_INT32 = """#include <iostream>
int main() { int a, b; std::cin >> a >> b; std::cout << a + b << "\\n"; }
"""


def submit(client: TestClient, csrf: str, **body: object) -> tuple[int, dict[str, object]]:
    reply = client.post("/api/submissions", json=body, headers={"X-CSRF-Token": csrf})
    return reply.status_code, reply.json()


def test_health_and_readiness(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.text
    checks = {"database": "ok", "queue": "ok", "blobs": "ok", "sandbox": "ok"}
    assert ready.json()["checks"] == checks
    assert set(ready.json()["log_sink"]) == {"written", "dropped", "pending"}


def test_openapi_schema_is_served(client: TestClient) -> None:
    schema = client.get("/api/openapi.json").json()
    assert "/api/submissions" in schema["paths"]
    assert "/api/submissions/{submission_id}" in schema["paths"]
    assert client.get("/api/docs").status_code == 200


def test_practice_submission_streams_tests_then_the_verdict(client: TestClient) -> None:
    csrf = sign_in(client)
    status, created = submit(client, csrf, problem="hello-battle", language="python", code=SUM_PY)
    assert status == 201
    final = wait_done(client, int(created["id"]))  # type: ignore[arg-type]
    assert final["verdict"] == "AC"
    assert final["tests_passed"] == final["tests_total"] == len(final["tests"]) > 5
    shown = client.get(f"/api/submissions/{created['id']}").json()
    assert set(shown) >= {"id", "status", "verdict", "tests", "compile_output", "code"}
    assert shown["code"] == SUM_PY and shown["status"] == "done"
    assert {"name", "verdict", "time", "memory"} <= set(shown["tests"][0])
    # The problem list now marks it solved; the page shows the history with the code link.
    listing = client.get("/api/problems").json()
    assert next(p for p in listing if p["slug"] == "hello-battle")["solved"] is True
    page = client.get("/problems/hello-battle")
    assert f"/submissions/{created['id']}" in page.text
    assert SUM_PY.split("\n")[0] in client.get(f"/submissions/{created['id']}").text


def test_wrong_answer_names_the_failing_test(client: TestClient) -> None:
    csrf = sign_in(client)
    _, created = submit(client, csrf, problem="hello-battle", language="cpp", code=SUM_CPP_INT32)
    final = wait_done(client, int(created["id"]))  # type: ignore[arg-type]
    assert final["verdict"] == "WA"
    failing = [t for t in final["tests"] if t["verdict"] != "AC"]
    assert len(failing) == 1 and failing[0]["name"] and failing[0]["feedback"]


def test_compile_error_comes_back(client: TestClient) -> None:
    csrf = sign_in(client)
    code = "public class Main { public static void main(String[] a) { int x = ; } }"
    _, created = submit(client, csrf, problem="hello-battle", language="java", code=code)
    final = wait_done(client, int(created["id"]))  # type: ignore[arg-type]
    assert final["verdict"] == "CE" and "error" in str(final["compile_output"])


def test_run_samples_and_custom_input(client: TestClient) -> None:
    csrf = sign_in(client)
    _, samples = submit(client, csrf, problem="hello-battle", language="python", code=SUM_PY,
                        kind="samples")  # fmt: skip
    final = wait_done(client, int(samples["id"]))  # type: ignore[arg-type]
    assert final["verdict"] == "AC" and all(t["sample"] for t in final["tests"])
    _, custom = submit(client, csrf, problem="hello-battle", language="python", code=SUM_PY,
                       kind="custom", input="40 2\n")  # fmt: skip
    final = wait_done(client, int(custom["id"]))  # type: ignore[arg-type]
    assert final["verdict"] == "OK" and final["run_output"] == "42\n"


def test_bad_input_gets_clear_errors(client: TestClient) -> None:
    csrf = sign_in(client)
    cases = [
        ({"problem": "hello-battle", "language": "python", "code": "x" * (64 * 1024 + 1)}, 413),
        ({"problem": "no-such", "language": "python", "code": SUM_PY}, 404),
        ({"problem": "hello-battle", "language": "brainfuck", "code": SUM_PY}, 422),
        ({"problem": "hello-battle", "language": "python", "code": "  \n"}, 422),
        ({"problem": "hello-battle", "language": "python", "code": "print(1)\x00\x01"}, 422),
        ({"problem": "hello-battle", "language": "python", "code": 12}, 422),
        ({"problem": "hello-battle", "language": "python"}, 422),
        ({"problem": "hello-battle", "language": "python", "code": SUM_PY, "kind": "x"}, 422),
        ({"problem": "hello-battle", "language": "python", "code": SUM_PY, "kind": "custom",
          "input": "1" * (65 * 1024)}, 413),
    ]  # fmt: skip
    for body, expected in cases:
        status, reply = submit(client, csrf, **body)
        assert status == expected, (body.get("language"), reply)
        assert reply["error"]["message"], reply
    headers = {"X-CSRF-Token": csrf, "Content-Type": "application/json"}
    for raw in (b"{not json", b"[]", b"\xff\xfe", b""):
        reply = client.post("/api/submissions", content=raw, headers=headers)
        assert reply.status_code == 422 and "error" in reply.json()
    huge = client.post("/api/submissions", content=b"x" * (2 << 20), headers=headers)
    assert huge.status_code == 413
    assert client.get("/api/submissions/99999").status_code == 404
    assert client.get("/api/submissions/abc").status_code == 404  # a path that names nothing
    page = client.get("/no/such/page")
    assert page.status_code == 404 and "Traceback" not in page.text


def test_errors_speak_the_users_language(client: TestClient) -> None:
    csrf = sign_in(client)
    client.cookies.delete("lang")  # no choice made: the browser's language decides
    reply = client.post(
        "/api/submissions",
        json={"problem": "no-such", "language": "python", "code": SUM_PY},
        headers={"X-CSRF-Token": csrf, "Accept-Language": "en-US,en;q=0.9"},
    )
    assert reply.json()["error"]["message"] == "No such problem."
    client.cookies.set("lang", "ko")
    reply = client.post(
        "/api/submissions",
        json={"problem": "no-such", "language": "python", "code": SUM_PY},
        headers={"X-CSRF-Token": csrf},
    )
    assert reply.json()["error"]["message"] == "그런 문제가 없습니다."


def test_rate_limit_answers_429_with_retry_after(client: TestClient) -> None:
    client.app.state.settings.SUBMISSIONS_PER_MINUTE = 3  # type: ignore[attr-defined]
    csrf = sign_in(client)
    statuses = []
    for _ in range(4):
        reply = client.post(
            "/api/submissions",
            json={"problem": "hello-battle", "language": "python", "code": SUM_PY, "kind": "custom",
                  "input": "1 2\n"},
            headers={"X-CSRF-Token": csrf},
        )  # fmt: skip
        statuses.append(reply.status_code)
    assert statuses == [201, 201, 201, 429]
    assert 1 <= int(reply.headers["Retry-After"]) <= 60
    assert "error" in reply.json()


def test_writes_need_sign_in_and_csrf(client: TestClient) -> None:
    body = {"problem": "hello-battle", "language": "python", "code": SUM_PY}
    assert client.post("/api/submissions", json=body).status_code == 401
    sign_in(client)
    assert client.post("/api/submissions", json=body).status_code == 403  # no CSRF header
    wrong = client.post("/api/submissions", json=body, headers={"X-CSRF-Token": "forged"})
    assert wrong.status_code == 403
    # Form posts need the token too.
    assert client.post("/signout", data={}).status_code == 403
    assert client.post("/settings/tokens", data={"name": "x"}).status_code == 403


def test_session_cookie_is_httponly_and_samesite(client: TestClient) -> None:
    page = client.get("/signin")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    reply = client.post("/signin", data={"nickname": "carol", "csrf_token": token.group(1)},
                        follow_redirects=False)  # fmt: skip
    cookie = next(v for k, v in reply.headers.multi_items() if k == "set-cookie"
                  and v.startswith("codebattle_session="))  # fmt: skip
    assert "httponly" in cookie.lower() and "samesite=lax" in cookie.lower()
    assert reply.headers["location"] == "/problems"
    # Sign-out ends the session.
    csrf = csrf_of(client)
    client.post("/signout", data={"csrf_token": csrf})
    assert client.get("/api/me").status_code == 401


def test_open_redirects_are_refused(client: TestClient) -> None:
    page = client.get("/signin")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    reply = client.post(
        "/signin",
        data={"nickname": "dave", "csrf_token": token.group(1), "next": "//evil.example/"},
        follow_redirects=False,
    )
    assert reply.headers["location"] == "/problems"


def test_personal_api_tokens(client: TestClient) -> None:
    csrf = sign_in(client, "erin")
    page = client.post("/settings/tokens", data={"name": "laptop", "csrf_token": csrf})
    match = re.search(r'id="new-token">(cb_[^<]+)<', page.text)
    assert match is not None
    token = match.group(1)
    client.cookies.clear()  # from here on only the token speaks for erin
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/me", headers=headers).json()["nickname"] == "erin"
    created = client.post(
        "/api/submissions",
        json={"problem": "hello-battle", "language": "python", "code": SUM_PY},
        headers=headers,
    )
    assert created.status_code == 201  # a token needs no CSRF header: no cookies involved
    final = wait_done(client, created.json()["id"], headers=headers)
    assert final["verdict"] == "AC"
    assert client.get("/api/me", headers={"Authorization": "Bearer cb_wrong"}).status_code == 401
    assert client.get("/api/me", headers={"Authorization": "Basic abc"}).status_code == 401
    # Revoke from the settings page.
    csrf = sign_in(client, "erin")
    settings = client.get("/settings").text
    token_id = re.search(r"/settings/tokens/(\d+)/revoke", settings)
    assert token_id is not None
    client.post(f"/settings/tokens/{token_id.group(1)}/revoke", data={"csrf_token": csrf})
    client.cookies.clear()
    assert client.get("/api/me", headers=headers).status_code == 401


def test_others_cannot_see_my_submissions(client: TestClient) -> None:
    csrf = sign_in(client, "frank")
    _, created = submit(client, csrf, problem="hello-battle", language="python", code=SUM_PY)
    wait_done(client, int(created["id"]))  # type: ignore[arg-type]
    other = TestClient(client.app, base_url="http://testserver")
    sign_in(other, "grace")
    assert other.get(f"/api/submissions/{created['id']}").status_code == 404
    assert other.get(f"/submissions/{created['id']}").status_code == 404
    assert all(s["id"] != created["id"] for s in other.get("/api/submissions").json())


def test_socket_refuses_strangers_and_survives_junk(client: TestClient) -> None:
    csrf = sign_in(client, "heidi")
    _, created = submit(client, csrf, problem="hello-battle", language="python",
                        code="import time\ntime.sleep(0.1)\n" + SUM_PY)  # fmt: skip
    stranger = TestClient(client.app, base_url="http://testserver")
    url = f"/ws/submissions/{created['id']}"
    with pytest.raises(WebSocketDisconnect), stranger.websocket_connect(url) as ws:
        ws.receive_json()
    evil = {"Origin": "http://evil.example"}
    with pytest.raises(WebSocketDisconnect), client.websocket_connect(url, headers=evil) as ws:
        ws.receive_json()
    with client.websocket_connect(f"/ws/submissions/{created['id']}") as ws:
        first = ws.receive_json()
        assert first["type"] == "snapshot" and first["v"] == 1
        ws.send_text("{broken")
        ws.send_bytes(b"\x00\xff")
        kinds = set()
        while True:
            message = ws.receive_json()
            kinds.add(message["type"])
            if message["type"] == "done":
                break
        assert "error" in kinds and message["submission"]["verdict"] == "AC"


def test_pages_render_in_both_languages(client: TestClient) -> None:
    sign_in(client, "ivan")
    client.cookies.set("lang", "en")
    english = client.get("/problems/hello-battle").text
    assert "Submit" in english and "Hello, Battle!" in english
    client.cookies.set("lang", "ko")
    korean = client.get("/problems/hello-battle").text
    assert "제출" in korean and "안녕, 배틀!" in korean
    assert 'class="math inline"' in korean  # math left for KaTeX in the browser
    csrf = csrf_of(client)
    reply = client.post("/lang", data={"lang": "en", "next": "/settings", "csrf_token": csrf},
                        follow_redirects=False)  # fmt: skip
    assert reply.status_code == 303 and "lang=en" in reply.headers["set-cookie"]
    assert client.get("/api/me").json()["locale"] == "en"


def test_problem_list_search_and_filters(client: TestClient) -> None:
    everything = client.get("/api/problems").json()
    assert {p["slug"] for p in everything} == {"hello-battle", "guess-number"}
    found = client.get("/api/problems", params={"q": "배틀"}).json()
    assert [p["slug"] for p in found] == ["hello-battle"]
    easy = client.get("/api/problems", params={"difficulty": "easy"}).json()
    assert all(p["difficulty"] == "easy" for p in easy)
    assert client.get("/api/problems", params={"q": "%_%"}).json() == []
    page = client.get("/problems", params={"q": "guess"})
    assert "guess-number" in page.text and "hello-battle" not in page.text


def test_submissions_queued_before_a_restart_are_judged_after_it(
    app_settings: Settings, judge: Judge, judge_root: Path
) -> None:
    """The in-process queue dies with the process; on start it queues unfinished work again."""
    import asyncio
    from datetime import UTC, datetime

    from codebattle.accounts import service as accounts
    from codebattle.app import create_app
    from codebattle.db.session import Database
    from codebattle.services import Services
    from codebattle.storage import LocalBlobStore
    from codebattle.submissions import outbox
    from codebattle.submissions import service as submissions
    from tests.support.site import runner_factory

    settings = app_settings

    async def queue_one() -> int:
        db = Database(settings.database_url)
        try:
            async with db.session() as session:
                user = await accounts.sign_in_nickname(session, "restart", "en")
                sub, _job = await submissions.create(
                    session, LocalBlobStore(settings.DATA_DIR / "blobs"), user, "hello-battle",
                    "python", SUM_PY, max_code_bytes=65536,
                )  # fmt: skip
                outbox.add(session, sub.id, datetime.now(UTC))  # as submit records it
                await session.commit()
                return sub.id
        finally:
            await db.dispose()

    submission_id = asyncio.run(queue_one())  # saved, but its job was never run
    services = Services.from_settings(settings, runner_factory(judge, settings, judge_root))
    with TestClient(create_app(settings, services), base_url="http://testserver") as client:
        sign_in(client, "restart")
        assert wait_done(client, submission_id)["verdict"] == "AC"


def test_a_sign_in_gives_a_browser_without_a_language_the_accounts(client: TestClient) -> None:
    """web/sessions.signed_in_redirect: a browser that never chose a language takes the
    account's at sign-in; one that chose keeps its own."""
    sign_in(client, "lena")
    csrf = csrf_of(client)
    client.post("/lang", data={"lang": "en", "next": "/", "csrf_token": csrf})
    client.cookies.clear()  # another browser, no language chosen
    reply = client.post(
        "/signin",
        data={"nickname": "lena", "csrf_token": csrf_of(client)},
        follow_redirects=False,
    )
    assert reply.status_code == 303 and "lang=en" in reply.headers["set-cookie"]
    client.cookies.set("lang", "ko")
    again = client.post(
        "/signin",
        data={"nickname": "lena", "csrf_token": csrf_of(client)},
        follow_redirects=False,
    )
    assert "lang=" not in again.headers.get("set-cookie", "")
