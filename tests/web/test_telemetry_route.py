"""POST /api/telemetry: the editor's events for pages without a game socket (practice, a room's
problem page). Signed in with the CSRF header, as every JSON write; a bad batch is refused
whole with `telemetry_invalid`; one batch a second; a room's batches from its members only;
nothing is sent back but the count kept."""

from __future__ import annotations

import time
from typing import Any

from fastapi.testclient import TestClient

from tests.support.site import sign_in


def events(*kinds: str) -> list[dict[str, Any]]:
    at = int(time.time() * 1000)
    return [{"kind": kind, "at": at} for kind in kinds]


def post(client: TestClient, csrf: str | None, body: Any) -> Any:
    headers = {"X-CSRF-Token": csrf} if csrf else {}
    return client.post("/api/telemetry", json=body, headers=headers)


def code_of(reply: Any) -> str:
    return str(reply.json()["error"]["code"])


def wait_for_next_second() -> None:  # the rate limit's fixed window (one batch a second)
    time.sleep(1.01 - time.time() % 1.0)


def test_practice_telemetry_is_stored(client: TestClient) -> None:
    body = {"problem": "hello-battle", "events": events("run", "blur")}
    assert post(client, None, body).status_code == 401  # signed out
    csrf = sign_in(client, "practiser")
    assert post(client, None, body).status_code == 403  # no CSRF header
    garbage = post(client, csrf, {"problem": "hello-battle", "events": [{"kind": "run"}]})
    assert garbage.status_code == 422 and code_of(garbage) == "telemetry_invalid"
    assert garbage.json()["error"]["message"]  # translated
    assert code_of(post(client, csrf, {"problem": "hello-battle", "events": "x"})) == (
        "telemetry_invalid"
    )
    unknown = post(client, csrf, {**body, "problem": "no-such-problem"})
    assert unknown.status_code == 404 and code_of(unknown) == "problem_unknown"
    wait_for_next_second()
    stored = post(client, csrf, body)  # garbage before it cost nothing
    assert stored.status_code == 200, stored.text
    assert stored.json() == {"stored": 2}
    flood = post(client, csrf, body)
    assert flood.status_code == 429 and code_of(flood) == "telemetry_rate_limited"


def test_a_rooms_problem_page_sends_for_its_members_only(client: TestClient) -> None:
    csrf = sign_in(client, "roomhost")
    made = client.post(
        "/api/rooms",
        json={"title": "telemetry", "problems": ["hello-battle"], "public": True},
        headers={"X-CSRF-Token": csrf},
    )
    assert made.status_code == 201, made.text
    room = made.json()["id"]
    body = {"problem": "hello-battle", "room": room, "events": events("paste")}
    body["events"][0].update(chars=10, lines=1, internal=True)
    csrf = sign_in(client, "stranger")
    refused = post(client, csrf, body)
    assert refused.status_code == 403 and code_of(refused) == "not_a_player"
    csrf = sign_in(client, "member")
    joined = client.post(f"/api/rooms/{room}/join", json={}, headers={"X-CSRF-Token": csrf})
    assert joined.status_code == 200, joined.text
    wait_for_next_second()
    stored = post(client, csrf, body)
    assert stored.status_code == 200, stored.text
    assert stored.json() == {"stored": 1}
