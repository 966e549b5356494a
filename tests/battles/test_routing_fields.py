"""What routes a judge result on the server (the match, room, user and problem version a
submission belongs to) never reaches a browser: the submission socket, the match socket and
`GET /api/submissions/{id}` carry exactly the fields docs/protocol.md lists, in a duel and in
a room alike."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.clients import Api, Socket, room_joined, submission_frames
from tests.support.servers import BATTLE_ENV, Server, Site

SUM_PY = "a, b = map(int, input().split())\nprint(a + b)\n"
# docs/protocol.md, `/ws/submissions/{id}`: each message's fields.
SUBMISSION_MESSAGES = {
    "snapshot": {"v", "type", "submission", "server_time"},
    "status": {"v", "type", "status"},
    "test": {"v", "type", "test"},
    "done": {"v", "type", "submission"},
    "ping": {"v", "type", "server_time"},
}
SUBMISSION_FIELDS = {
    "id", "problem", "kind", "match", "room", "language", "status", "verdict", "tests_total",
    "tests_passed", "compile_output", "run_output", "message", "max_time", "max_memory",
    "judge_time", "created_at", "finished_at", "tests",
}  # fmt: skip
TEST_FIELDS = {"index", "name", "verdict", "time", "wall_time", "memory", "sample", "feedback"}
# docs/protocol.md, `/ws/matches/{id}`: the judging progress of a player's submission.
JUDGING_FIELDS = {"v", "type", "user", "submission", "stage", "tests_done", "server_time"}
ROUTING = {"user", "version", "submission_id", "user_id", "version_id", "match_id", "room_id"}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    site = Site(tmp_path_factory.mktemp("routing-fields"), env=BATTLE_ENV)
    site.import_problems("hello-battle")
    yield site
    site.stop()


async def follow(server: Server, token: str, submission_id: int) -> list[dict[str, Any]]:
    """Every message of the submission's socket, to the end."""
    seen = [json.loads(raw) for raw in await submission_frames(server, token, submission_id)]
    assert seen[-1]["type"] == "done" or seen[-1]["submission"]["status"] == "done"
    return seen


def assert_submission_fields(submission: dict[str, Any]) -> None:
    assert set(submission) == SUBMISSION_FIELDS, set(submission) ^ SUBMISSION_FIELDS
    for test in submission["tests"]:
        assert set(test) <= TEST_FIELDS, test


def assert_submission_socket(messages: list[dict[str, Any]]) -> None:
    assert {m["type"] for m in messages} >= {"snapshot", "done"}
    for message in messages:
        assert set(message) == SUBMISSION_MESSAGES[message["type"]], message
        if message["type"] in ("snapshot", "done"):
            assert_submission_fields(message["submission"])
        if message["type"] == "test":
            assert set(message["test"]) <= TEST_FIELDS, message


async def submit(api: Api, **extra: Any) -> int:
    body = {"problem": "hello-battle", "language": "python", "code": SUM_PY, **extra}
    reply = await api.call("POST", "/api/submissions", body)
    assert reply.status_code == 201, reply.text
    return int(reply.json()["id"])


async def assert_read_back(api: Api, submission_id: int) -> None:
    shown = (await api.call("GET", f"/api/submissions/{submission_id}")).json()
    extra = {"code", "custom_input"}  # the owner's own code and input, over HTTP only
    assert_submission_fields({k: v for k, v in shown.items() if k not in extra})
    assert extra <= set(shown) and not ROUTING & set(shown)


async def test_a_duel_sends_no_routing_field(site: Site, server: Server) -> None:
    player, opponent = Api(server, site.token("rita")), Api(server, site.token("otto"))
    await player.call("POST", "/api/queue")
    match_id = (await opponent.call("POST", "/api/queue")).json()["match"]
    socket = await Socket.open(server, opponent.token, match_id)
    await socket.event("started")
    submission_id = await submit(player, match=match_id)
    messages = await follow(server, player.token, submission_id)
    assert_submission_socket(messages)
    assert [m for m in messages if m["type"] == "test"], "the tests were streamed"
    done = messages[-1]["submission"]
    assert done["match"] == match_id and done["room"] is None  # the submission's own fields
    await assert_read_back(player, submission_id)
    result = (await socket.event("result"))["event"]
    assert set(result) == {"type", "at", "user", "passed", "submission", "verdict", "made_at"}
    judging = [m for m in socket.received if m["type"] == "judging"]
    for message in judging:
        assert set(message) == JUDGING_FIELDS, message
    await socket.close()


async def test_a_room_sends_no_routing_field(site: Site, server: Server) -> None:
    host, member = Api(server, site.token("hana")), Api(server, site.token("mina"))
    room = await room_joined(host, member, "Routes")
    await host.call("POST", f"/api/rooms/{room['id']}/start")
    submission_id = await submit(member, room=room["id"])
    messages = await follow(server, member.token, submission_id)
    assert_submission_socket(messages)
    assert messages[-1]["submission"]["room"] == room["id"]
    await assert_read_back(member, submission_id)
