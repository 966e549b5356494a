"""Signing a user in by nickname in page tests on FastAPI's TestClient, as an OAuth
callback would: a test-only route starts a browser session, so the pages' forms meet the
same CSRF check as in a browser. Shared by the dashboard's and the rewards' page tests."""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response
from fastapi.testclient import TestClient
from sqlalchemy import select

from codebattle.accounts.models import User
from codebattle.web.sessions import start_session


def with_sign_in(client: TestClient, route: str) -> TestClient:
    """`client` with a POST `route` taking {"nickname": ...} that signs that user in (204),
    and English pages (the `lang` cookie)."""

    async def begin(request: Request) -> Response:
        data: dict[str, Any] = await request.json()
        async with request.app.state.services.db.reading() as session:
            user = await session.scalar(select(User).where(User.nickname == data["nickname"]))
        assert user is not None
        await start_session(request, user, "github")
        return Response(status_code=204)

    client.app.add_api_route(route, begin, methods=["POST"])  # type: ignore[attr-defined]
    client.cookies.set("lang", "en")
    return client
