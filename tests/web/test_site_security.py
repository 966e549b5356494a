"""The site as an attacker meets it: who may sign in by nickname, what a session cookie still
proves, cookies and headers in production, error responses, and oversized bodies."""

from __future__ import annotations

import asyncio
import contextlib
import re
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from codebattle.accounts import service as accounts
from codebattle.app import create_app
from codebattle.cli import app as cli
from codebattle.db.session import Database
from codebattle.judge.engine import Judge
from codebattle.services import Services
from tests.support.servers import Server, Site
from tests.support.site import csrf_of, runner_factory, settings_for, sign_in

STRONG_KEY = "Vq3xN8d-Lr0Zp2Yk_Tg7Hw5Jm1Sa9Fe4Ub6Oc0Ri8Xn2Ql7Kz3Dy5Gv1Pt9Bh4Ws6"
PRODUCTION = {
    "ENVIRONMENT": "production",
    "SECRET_KEY": STRONG_KEY,
    "BASE_URL": "https://testserver",
}
HEADERS = ("content-security-policy", "x-content-type-options", "x-frame-options")
MIB = 1 << 20

MakeClient = Callable[..., TestClient]


@pytest.fixture
def make_client(
    tmp_path: Path, sqlite_url: str, judge: Judge, judge_root: Path
) -> Iterator[MakeClient]:
    """A running app on one database with the given settings; over https when BASE_URL is."""
    opened: list[TestClient] = []

    def make(**overrides: Any) -> TestClient:
        settings = settings_for(
            tmp_path, DATABASE_URL=sqlite_url.replace("+aiosqlite", ""), **overrides
        )
        services = Services.from_settings(settings, runner_factory(judge, settings, judge_root))
        client = TestClient(
            create_app(settings, services),
            base_url=settings.BASE_URL,
            raise_server_exceptions=False,
        )
        opened.append(client.__enter__())
        return client

    yield make
    for client in opened:
        client.__exit__(None, None, None)


def page_csrf(client: TestClient) -> str:
    found = re.search(r'name="csrf-token" content="([^"]+)"', client.get("/signin").text)
    assert found is not None
    return found.group(1)


def post_signin(client: TestClient, nickname: str, **headers: str) -> Any:
    return client.post(
        "/signin",
        data={"nickname": nickname, "csrf_token": page_csrf(client), "next": "/problems"},
        headers=headers,
        follow_redirects=False,
    )


def set_role(database_url: str, nickname: str, role: str) -> None:
    async def run() -> None:
        db = Database(database_url)
        try:
            async with db.session() as session:
                await accounts.set_role(session, nickname, role, reason="test")
        finally:
            await db.dispose()

    asyncio.run(run())


# Item 2: nickname sign-in.


@pytest.mark.parametrize("provider", [{}, {"GITHUB_CLIENT_ID": "id"}])
def test_nickname_sign_in_is_never_offered_in_production(
    make_client: MakeClient, provider: dict[str, str]
) -> None:
    client = make_client(**PRODUCTION, **provider)
    for lang, says in (("en", "Sign-in is not available"), ("ko", "로그인할 수 없습니다")):
        page = client.get("/signin", headers={"Accept-Language": lang})
        assert page.status_code == 200
        assert says in page.text and 'id="signin-unavailable"' in page.text
        assert 'id="signin-form"' not in page.text
    refused = post_signin(client, "anyone", **{"Accept-Language": "en"})
    assert refused.status_code == 403
    assert "Sign-in is not available" in refused.text
    assert client.get("/api/me").status_code == 401


@pytest.mark.parametrize("role", ["moderator", "operator", "admin"])
def test_staff_cannot_be_signed_into_by_nickname(
    make_client: MakeClient, sqlite_url: str, role: str
) -> None:
    client = make_client()  # ENVIRONMENT=test: nickname sign-in is on, as in development
    sign_in(client, "boss")
    client.cookies.clear()
    set_role(sqlite_url, "boss", role)
    refused = post_signin(client, "Boss", **{"Accept-Language": "en"})  # any case
    assert refused.status_code == 403
    assert "moderators, operators and admins use an API token" in refused.text
    assert client.get("/api/me").status_code == 401
    sign_in(client, "pawn")  # players still can
    assert client.get("/api/me").json()["role"] == "player"


def test_a_nickname_session_ends_when_its_user_becomes_staff(
    make_client: MakeClient, sqlite_url: str
) -> None:
    client = make_client()
    sign_in(client, "climber")
    assert client.get("/api/me").json()["nickname"] == "climber"
    set_role(sqlite_url, "climber", "moderator")
    assert client.get("/api/me").status_code == 401  # the old cookie proves nothing now


def test_a_nickname_session_ends_when_the_site_goes_to_production(
    make_client: MakeClient,
) -> None:
    development = make_client(SECRET_KEY=STRONG_KEY, BASE_URL="https://testserver")
    sign_in(development, "early")
    cookie = development.cookies.get("codebattle_session")
    assert cookie is not None
    production = make_client(**PRODUCTION)
    production.cookies.set("codebattle_session", cookie)
    assert production.get("/api/me").status_code == 401


def test_operators_keep_api_tokens_from_the_command_line(
    make_client: MakeClient, sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = make_client(**PRODUCTION)
    monkeypatch.chdir(tmp_path)
    env = {
        **PRODUCTION,
        "DATA_DIR": str(tmp_path / "var"),
        "DATABASE_URL": sqlite_url.replace("+aiosqlite", ""),
    }
    runner = CliRunner()
    assert runner.invoke(cli, ["users", "token", "chief"], env=env).exit_code == 0
    promoted = runner.invoke(cli, ["users", "role", "chief", "admin", "--reason", "ops"], env=env)
    assert promoted.exit_code == 0, promoted.output
    made = runner.invoke(cli, ["users", "token", "chief"], env=env)  # staff: still works
    assert made.exit_code == 0, made.output
    me = client.get("/api/me", headers={"Authorization": f"Bearer {made.output.strip()}"})
    assert me.status_code == 200 and me.json()["role"] == "admin"


# Item 12: production hardening.


def test_every_cookie_is_secure_over_https(make_client: MakeClient) -> None:
    # Production refuses nickname sign-in, so the sign-in cookies are checked on an https
    # site in development mode; the language cookie in production too.
    client = make_client(SECRET_KEY=STRONG_KEY, BASE_URL="https://testserver")
    signed = post_signin(client, "safe")
    assert signed.status_code == 303
    cookies = [v for k, v in signed.headers.multi_items() if k == "set-cookie"]
    assert {c.split("=")[0] for c in cookies} == {"codebattle_session", "lang"}
    assert all("; secure" in c.lower() for c in cookies), cookies
    production = make_client(**PRODUCTION)
    chosen = production.post(
        "/lang", data={"lang": "en", "csrf_token": page_csrf(production)}, follow_redirects=False
    )
    cookies = [v for k, v in chosen.headers.multi_items() if k == "set-cookie"]
    assert cookies and all("; secure" in c.lower() for c in cookies), cookies


def test_hsts_only_over_https(make_client: MakeClient) -> None:
    over_https = make_client(**PRODUCTION).get("/healthz")
    assert over_https.headers["strict-transport-security"] == "max-age=31536000"
    assert "strict-transport-security" not in make_client().get("/healthz").headers


def test_csp_lets_sockets_reach_only_this_site(make_client: MakeClient) -> None:
    csp = make_client().get("/problems").headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["connect-src"] == "'self'"
    assert "ws:" not in csp and "wss:" not in csp


def test_api_docs_can_be_switched_off(make_client: MakeClient) -> None:
    production = make_client(**PRODUCTION)
    for path in ("/api/docs", "/api/openapi.json"):
        assert production.get(path).status_code == 404
    assert make_client(API_DOCS=False).get("/api/docs").status_code == 404
    wanted = make_client(**PRODUCTION, API_DOCS=True)
    assert wanted.get("/api/openapi.json").status_code == 200
    assert make_client().get("/api/docs").status_code == 200  # on by default elsewhere


# Item 7b: security headers on error responses.


def test_error_responses_carry_the_security_headers(make_client: MakeClient) -> None:
    client = make_client(**PRODUCTION)
    app = client.app
    assert isinstance(app, FastAPI)

    async def boom() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/boom", boom)
    answers = {
        404: client.get("/no/such/page"),
        413: client.post("/api/submissions", content=b"x" * (MIB + 1)),
        500: client.get("/boom"),
    }
    for status, reply in answers.items():
        assert reply.status_code == status
        for name in HEADERS:
            assert name in reply.headers, (status, name)
    assert all("strict-transport-security" in reply.headers for reply in answers.values())


# Item 14c: a chunked body over the limit is a 413.


def chunks(total: int, size: int = 64 * 1024) -> Iterator[bytes]:
    sent = 0
    while sent < total:
        yield b"x" * min(size, total - sent)
        sent += size


def test_a_chunked_body_over_the_limit_gets_413(make_client: MakeClient) -> None:
    client = make_client()
    sign_in(client, "chunky")
    csrf = csrf_of(client)
    for path, headers in (
        ("/api/submissions", {"content-type": "application/json", "x-csrf-token": csrf}),
        ("/signin", {"content-type": "application/x-www-form-urlencoded"}),
    ):
        reply = client.post(path, content=chunks(MIB + 1), headers=headers)
        assert reply.status_code == 413, (path, reply.status_code, reply.text)
        assert reply.json()["error"]["code"] == "body_too_large"
    # Under the limit, a chunked body reaches the route as usual.
    reply = client.post(
        "/api/submissions",
        content=iter([b'{"problem": "nope", ', b'"language": "python", "code": "x"}']),
        headers={"content-type": "application/json", "x-csrf-token": csrf},
    )
    assert reply.status_code == 404 and reply.json()["error"]["code"] == "problem_unknown"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    site = Site(tmp_path)
    try:
        yield site.serve()
    finally:
        site.stop()


def raw_chunked_post(server: Server, path: str, content_type: str, total: int) -> int:
    """POST a chunked body over a plain socket (no Content-Length); the status code. The
    answer is read while the body is still being sent: the server may answer (and close)
    before taking it all."""
    address = urlsplit(server.url)
    assert address.hostname is not None and address.port is not None
    answer = bytearray()
    with socket.create_connection((address.hostname, address.port), timeout=30) as sock:

        def read() -> None:
            with contextlib.suppress(OSError):
                while b"\r\n" not in answer and (data := sock.recv(4096)):
                    answer.extend(data)

        reader = threading.Thread(target=read)
        reader.start()
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {address.netloc}\r\nContent-Type: {content_type}\r\n"
            "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        )
        with contextlib.suppress(OSError):  # the server answered and closed first
            sock.sendall(head.encode())
            for chunk in chunks(total):
                sock.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            sock.sendall(b"0\r\n\r\n")
        reader.join(30)
    return int(bytes(answer).split(b" ", 2)[1])


def test_a_real_chunked_body_over_the_limit_gets_413(server: Server) -> None:
    for path, content_type in (
        ("/api/submissions", "application/json"),
        ("/signin", "application/x-www-form-urlencoded"),
    ):
        assert raw_chunked_post(server, path, content_type, MIB + 1) == 413
        # Under the limit the route answers itself (no session: the CSRF check refuses).
        assert raw_chunked_post(server, path, content_type, 1000) in (401, 403, 422)
