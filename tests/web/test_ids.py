"""Ids that cannot name a row never reach the database: every route with an id in its path
answers 404 (a socket closes with 4404), and an id in a JSON body is a 422 naming the field.
On SQLite and PostgreSQL, whose 32-bit ids overflowed (a 500) from 2**31 on. Numbers in JSON
bodies are strict: `true` is no number.

The routes are read from the app itself, so a new route with an unbounded id, or a body with a
lax number, fails here."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, APIWebSocketRoute, iter_route_contexts
from fastapi.testclient import TestClient
from pydantic import BaseModel
from starlette.websockets import WebSocketDisconnect

from codebattle.accounts import service as accounts
from codebattle.app import create_app
from codebattle.db.session import Database
from codebattle.judge.engine import Judge
from codebattle.services import Services
from codebattle.web.ids import MAX_ID, valid_id
from tests.support.site import import_problems, runner_factory, settings_for

# Out of range, or no number at all: 2**31 and 2**63 overflowed PostgreSQL and SQLite.
BAD_PATH_IDS = ("0", "-1", str(MAX_ID + 1), str(2**63), "9" * 23, "1e3", "abc")
# A body that every route with a JSON body accepts (extra fields are ignored).
ANY_BODY = {"minutes": 1, "text": "hello"}


@dataclass
class IdRoute:
    path: str
    methods: list[str]  # empty for a socket
    ids: list[str]  # the path parameters that are ids
    others: list[str]

    def url(self, value: str) -> str:
        url = self.path
        for name in self.ids:
            url = url.replace("{" + name + "}", value)
        for name in self.others:
            url = url.replace("{" + name + "}", "start")  # rooms' {action}
        return url


def id_routes(app: FastAPI) -> list[IdRoute]:
    """Every HTTP route and socket of the app with an id in its path: a parameter that is an
    int, or whose name ends in `id`."""
    found = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if not isinstance(route, APIRoute | APIWebSocketRoute):
            continue
        params = route.dependant.path_params
        ids = [p.name for p in params if p.field_info.annotation is int or p.name.endswith("id")]
        if ids:
            others = [p.name for p in params if p.name not in ids]
            methods = sorted(set(getattr(route, "methods", ())) - {"HEAD"})
            found.append(IdRoute(route.path, methods, ids, others))
    return found


@pytest.fixture
def moderator(database_url: str, tmp_path: Path, judge: Judge, judge_root: Path) -> Iterator[Any]:
    """The app on this database, and a moderator's API token (moderation routes then reach
    their own checks)."""

    async def make_moderator() -> str:
        db = Database(database_url)
        try:
            async with db.session() as session:
                user = await accounts.ensure_user(session, "idmod")
                await accounts.set_role(session, "idmod", "moderator", reason="test")
                return (await accounts.create_token(session, user, "ids"))[1]
        finally:
            await db.dispose()

    token = asyncio.run(make_moderator())
    settings = settings_for(tmp_path, DATABASE_URL=database_url.replace("+aiosqlite", ""))
    import_problems(settings, "hello-battle")
    services = Services.from_settings(settings, runner_factory(judge, settings, judge_root))
    app = create_app(settings, services)
    with TestClient(app, base_url="http://testserver", raise_server_exceptions=False) as client:
        client.headers["Authorization"] = f"Bearer {token}"
        yield client


def test_valid_id_takes_only_ids_a_row_can_have() -> None:
    assert [valid_id(v) for v in (1, "1", MAX_ID, str(MAX_ID))] == [1, 1, MAX_ID, MAX_ID]
    for value in (0, -1, MAX_ID + 1, 2**70, True, 1.0, 1e23, "1e3", " 1", "+1", "١", None):
        assert valid_id(value) is None, value


def test_ids_out_of_range_in_any_path_are_not_found(moderator: TestClient) -> None:
    client = moderator
    routes = id_routes(client.app)  # type: ignore[arg-type]
    paths = {r.path for r in routes}
    # The enumeration sees the routes the issue named (and with them, every other one).
    assert {
        "/api/submissions/{submission_id}", "/api/matches/{match_id}",
        "/api/matches/{match_id}/replay", "/api/rooms/{room_id}",
        "/settings/tokens/{token_id}/revoke", "/api/users/{user_id}/mute",
        "/api/matches/{match_id}/chat/{message_id}",
    } <= paths  # fmt: skip
    assert any(path.startswith("/ws/") for path in paths)
    for route in routes:
        for value in (*BAD_PATH_IDS, str(MAX_ID)):
            url = route.url(value)
            if not route.methods:
                with (
                    pytest.raises(WebSocketDisconnect) as closed,
                    client.websocket_connect(url) as ws,
                ):
                    ws.receive_json()  # accepted, then closed (docs/protocol.md)
                assert closed.value.code == 4404, url
            for method in route.methods:
                reply = client.request(method, url, json=ANY_BODY, follow_redirects=False)
                if value == str(MAX_ID):  # in range, no such row: the route's own 4xx
                    assert 400 <= reply.status_code < 500, (method, url, reply.text)
                    continue
                assert reply.status_code == 404, (method, url, reply.status_code, reply.text)
                if url.startswith("/api/"):
                    assert reply.json()["error"]["code"] == "not_found", (url, reply.text)


@pytest.mark.parametrize("field", ["match", "room"])
def test_ids_in_a_submission_body_must_be_ids(moderator: TestClient, field: str) -> None:
    base = {"problem": "hello-battle", "language": "python", "code": "print(1)\n"}
    for raw in ("1e23", str(2**70), "-1", "0", "true", '"5"', "1.0", str(MAX_ID + 1)):
        body = json.dumps(base)[:-1] + f', "{field}": {raw}}}'  # raw JSON: 1e23 stays a float
        reply = moderator.post(
            "/api/submissions", content=body, headers={"Content-Type": "application/json"}
        )
        assert reply.status_code == 422, (raw, reply.text)
        assert [f["field"] for f in reply.json()["error"]["fields"]] == [field], reply.text
    # In range but no such match or room: 404, on PostgreSQL too.
    reply = moderator.post("/api/submissions", json={**base, field: MAX_ID})
    assert reply.status_code == 404, reply.text
    assert reply.json()["error"]["code"] == f"{field}_unknown"


def test_every_json_body_takes_numbers_and_booleans_strictly(moderator: TestClient) -> None:
    """`true` is not 1 (a minute, a size, an id), nor 1 true: each such field of every JSON
    body on the app is a 422 that names it."""
    checked = []
    for context in iter_route_contexts(moderator.app.routes):  # type: ignore[attr-defined]
        route = context.original_route
        if not isinstance(route, APIRoute):
            continue
        for param in route.dependant.body_params:
            model = param.field_info.annotation
            if not (isinstance(model, type) and issubclass(model, BaseModel)):
                continue  # a form field (the pages' forms), not a JSON body
            for name, field in model.model_fields.items():
                kinds = set(re.findall(r"\b(int|float|bool)\b", repr(field.annotation)))
                if not kinds:
                    continue
                wrong = 1 if kinds == {"bool"} else True
                url = re.sub(r"\{[^}]+\}", "1", route.path)
                method = sorted(route.methods)[0]
                reply = moderator.request(method, url, json={name: wrong})
                assert reply.status_code == 422, (url, name, reply.text)
                named = [f["field"] for f in reply.json()["error"]["fields"]]
                assert name in named, (url, name, named)
                checked.append(f"{url} {name}")
    # Among them the ones the issue named: a room's duration and size, a mute's minutes.
    assert {
        "/api/rooms duration_minutes", "/api/rooms size_limit", "/api/rooms public",
        "/api/users/1/mute minutes", "/api/submissions match", "/api/submissions room",
    } <= set(checked)  # fmt: skip


def test_ids_out_of_range_in_a_query_are_ignored_or_refused(moderator: TestClient) -> None:
    """A query parameter that is a number (an id, a page size) never reaches the database
    out of range: the page ignores an id that names nothing, a size is a 4xx."""
    for value in BAD_PATH_IDS:
        page = moderator.get(f"/problems/hello-battle?room={value}")
        assert page.status_code == 200, (value, page.text)
    for context in iter_route_contexts(moderator.app.routes):  # type: ignore[attr-defined]
        route = context.original_route
        if not isinstance(route, APIRoute):
            continue
        numbers = [
            p.name for p in route.dependant.query_params if "int" in repr(p.field_info.annotation)
        ]
        url = re.sub(r"\{[^}]+\}", "1", route.path)
        for name in numbers:
            for value in BAD_PATH_IDS:
                for method in route.methods - {"HEAD"}:
                    reply = moderator.request(method, f"{url}?{name}={value}")
                    assert reply.status_code < 500, (url, name, value, reply.text)
