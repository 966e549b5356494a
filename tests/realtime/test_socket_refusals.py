"""Socket refusals as a browser sees them, on a real server (uvicorn, as `codebattle serve`).

A socket closed before it is accepted reaches the browser as an HTTP 403 and close code 1006,
which a client cannot tell from a network failure (the arena retried forever). Every refusal
accepts first, then closes with the code of docs/protocol.md: 4401 not signed in (or a bad
token), 4403 a foreign Origin, 4404 no such thing, not yours, or an id that names no row.
And the transport refuses frames above the app's largest limit (1009) before buffering them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import websockets
from websockets.exceptions import ConnectionClosed

from codebattle.config import load_settings
from codebattle.realtime.stream import transport_limit
from tests.support.clients import Api
from tests.support.servers import Server, Site

PATHS = ("/ws/matches/", "/ws/rooms/", "/ws/submissions/")
MAX_CODE_BYTES = 8192  # small frames keep the size test quick


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    site = Site(tmp_path_factory.mktemp("refusals"), env={"MAX_CODE_BYTES": str(MAX_CODE_BYTES)})
    site.import_problems("hello-battle")
    yield site
    site.stop()


@pytest.fixture(scope="module")
def tokens(site: Site) -> dict[str, str]:
    return {name: site.token(name) for name in ("owner", "other")}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def close_code(server: Server, path: str, headers: dict[str, str]) -> int:
    """The code the server closes the socket with, after accepting it (an HTTP refusal of
    the handshake raises here: that is what browsers see as 1006)."""
    async with websockets.connect(server.ws_url + path, additional_headers=headers) as ws:
        with pytest.raises(ConnectionClosed) as closed:
            await ws.recv()
    assert closed.value.rcvd is not None, "closed without a code"
    return closed.value.rcvd.code


async def private_room_and_submission(server: Server, token: str) -> tuple[int, int]:
    owner = Api(server, token)
    room = await owner.call(
        "POST", "/api/rooms",
        {"title": "private", "problems": ["hello-battle"], "duration_minutes": 30,
         "size_limit": 4, "public": False},
    )  # fmt: skip
    assert room.status_code == 201, room.text
    submission = await owner.call(
        "POST", "/api/submissions",
        {"problem": "hello-battle", "language": "python", "code": "print(1)\n",
         "kind": "custom", "input": "1 2\n"},
    )  # fmt: skip
    assert submission.status_code == 201, submission.text
    return int(room.json()["id"]), int(submission.json()["id"])


@pytest.mark.parametrize("path", PATHS)
async def test_socket_without_sign_in_closes_4401(server: Server, path: str) -> None:
    assert await close_code(server, path + "1", {}) == 4401


@pytest.mark.parametrize("path", PATHS)
async def test_socket_with_a_bad_token_closes_4401_not_a_redirect(
    server: Server, path: str
) -> None:
    assert await close_code(server, path + "1", bearer("not-a-token")) == 4401
    assert await close_code(server, path + "1", {"Authorization": "Basic eDp5"}) == 4401


@pytest.mark.parametrize("path", PATHS)
async def test_socket_from_a_foreign_origin_closes_4403(
    server: Server, tokens: dict[str, str], path: str
) -> None:
    foreign = {"Origin": "https://evil.example"}
    assert await close_code(server, path + "1", {**bearer(tokens["owner"]), **foreign}) == 4403
    # Checked first: a foreign page cannot learn whether its visitor is signed in here.
    assert await close_code(server, path + "1", foreign) == 4403


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize(
    "raw_id",
    ["424242", "0", "-1", "2147483648", "99999999999999999999999", "9223372036854775808", "abc"],
)
async def test_socket_for_a_missing_or_out_of_range_id_closes_4404(
    server: Server, tokens: dict[str, str], path: str, raw_id: str
) -> None:
    assert await close_code(server, path + raw_id, bearer(tokens["owner"])) == 4404


async def test_socket_on_someone_elses_private_room_or_submission_closes_4404(
    server: Server, tokens: dict[str, str]
) -> None:
    room_id, submission_id = await private_room_and_submission(server, tokens["owner"])
    other = bearer(tokens["other"])
    assert await close_code(server, f"/ws/rooms/{room_id}", other) == 4404
    assert await close_code(server, f"/ws/submissions/{submission_id}", other) == 4404
    # The owner is let in: the room's welcome, the submission's snapshot.
    owner = bearer(tokens["owner"])
    async with websockets.connect(
        f"{server.ws_url}/ws/rooms/{room_id}", additional_headers=owner
    ) as ws:
        await ws.send(json.dumps({"type": "hello", "last_seq": 0}))
        assert json.loads(await ws.recv())["type"] == "welcome"
    path = f"/ws/submissions/{submission_id}"
    async with websockets.connect(server.ws_url + path, additional_headers=owner) as ws:
        assert json.loads(await ws.recv())["type"] == "snapshot"


async def test_frames_above_the_transport_limit_close_1009_before_the_app_reads_them(
    server: Server, tokens: dict[str, str]
) -> None:
    limit = transport_limit(load_settings(MAX_CODE_BYTES=MAX_CODE_BYTES))
    room_id, _ = await private_room_and_submission(server, tokens["owner"])
    url = f"{server.ws_url}/ws/rooms/{room_id}"
    headers = bearer(tokens["owner"])

    def frame(size: int) -> str:
        message: dict[str, Any] = {"type": "chat", "text": ""}
        message["text"] = "x" * (size - len(json.dumps(message)))
        text = json.dumps(message)
        assert len(text.encode()) == size
        return text

    async with websockets.connect(url, additional_headers=headers, max_size=None) as ws:
        await ws.send(json.dumps({"type": "hello", "snapshot": True}))
        assert json.loads(await ws.recv())["type"] == "welcome"
        # At the transport's limit: the app reads it and refuses it, the socket stays open.
        await ws.send(frame(limit))
        reply = json.loads(await ws.recv())
        assert (reply["type"], reply["code"]) == ("error", "bad_frame")
        # One byte more: the transport closes with 1009 (message too big).
        await ws.send(frame(limit + 1))
        with pytest.raises(ConnectionClosed) as closed:
            await ws.recv()
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 1009
