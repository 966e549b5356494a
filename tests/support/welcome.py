"""A first sign-in in a test: the app gets a test-only route that calls the public
`web.sessions.start_pending` (as an OAuth callback does for a new person), so the tests
follow however sessions keep it; then the welcome form is filled like a person does."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response
from fastapi.testclient import TestClient
from httpx import Response as HttpResponse

from codebattle.app import create_app
from codebattle.judge.engine import Judge
from codebattle.services import Services
from codebattle.web.sessions import start_pending
from tests.support.site import runner_factory, settings_for

PENDING_ROUTE = "/_test/pending"


def add_pending_route(app: FastAPI) -> FastAPI:
    """Add the test-only route that starts an unfinished first sign-in (JSON body: `via`,
    `profile`, `next`)."""

    async def begin(request: Request) -> Response:
        data: dict[str, Any] = await request.json()
        await start_pending(
            request, data["via"], {"profile": data["profile"], "next": data.get("next")}
        )
        return Response(status_code=204)

    app.add_api_route(PENDING_ROUTE, begin, methods=["POST"], include_in_schema=False)
    return app


def profile(
    provider: str = "kakao",
    subject: str = "kakao-1",
    *,
    email: str | None = "kid@example.com",
    email_verified: bool = True,
    display_name: str | None = "민수",
    avatar_url: str | None = "https://example.com/a.png",
    age_band: str | None = None,
    birth_year: int | None = None,
) -> dict[str, Any]:
    """A provider's profile as the OAuth callbacks store it (`asdict(Profile)`)."""
    return {
        "provider": provider,
        "subject": subject,
        "email": email,
        "email_verified": email_verified,
        "display_name": display_name,
        "avatar_url": avatar_url,
        "age_band": age_band,
        "birth_year": birth_year,
    }


def begin_signup(client: TestClient, next: str | None = "/play", **fields: Any) -> None:
    """A new person back from their provider: the welcome page is theirs to fill."""
    data = profile(**fields)
    reply = client.post(
        PENDING_ROUTE, json={"via": data["provider"], "profile": data, "next": next}
    )
    assert reply.status_code == 204, reply.text


def form_csrf(html: str) -> str:
    token = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert token is not None
    return token.group(1)


def finish_signup(
    client: TestClient,
    nickname: str,
    *,
    agree: bool = True,
    birth_year: int | str | None = None,
    invite_code: str | None = None,
) -> HttpResponse:
    """Fill and send the welcome form; the reply is not followed."""
    page = client.get("/welcome")
    assert page.status_code == 200, page.text
    data = {"csrf_token": form_csrf(page.text), "nickname": nickname}
    if agree:
        data["agree"] = "on"
    if birth_year is not None:
        data["birth_year"] = str(birth_year)
    if invite_code is not None:
        data["invite_code"] = invite_code
    return client.post("/welcome", data=data, follow_redirects=False)


class Clients:
    """Test clients of apps on one SQLite database, each with the pending route; settings
    overridden per client (e.g. ALPHA_INVITE_ONLY=True). `close` stops them all."""

    def __init__(self, tmp_path: Path, sqlite_url: str, judge: Judge, judge_root: Path) -> None:
        self.tmp_path, self.sqlite_url = tmp_path, sqlite_url
        self.judge, self.judge_root = judge, judge_root
        self.open: list[TestClient] = []

    def __call__(self, **overrides: Any) -> TestClient:
        settings = settings_for(
            self.tmp_path, DATABASE_URL=self.sqlite_url.replace("+aiosqlite", ""), **overrides
        )
        runner = runner_factory(self.judge, settings, self.judge_root)
        app = add_pending_route(create_app(settings, Services.from_settings(settings, runner)))
        client = TestClient(app, base_url="http://testserver")
        client.__enter__()
        self.open.append(client)
        return client

    def close(self) -> None:
        for client in self.open:
            client.__exit__(None, None, None)
