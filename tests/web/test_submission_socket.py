"""The submission socket runs on the streams' loop (realtime/stream.py), as the match and room
sockets do: the same pong, the same error messages for frames it does not take, and it ends
with the submission's `done`."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from tests.support.site import sign_in

SLOW_SUM_PY = "import time\ntime.sleep(0.5)\na, b = map(int, input().split())\nprint(a + b)\n"


def test_the_submission_socket_answers_as_every_stream_does(client: TestClient) -> None:
    csrf = sign_in(client, "streamer")
    body = {"problem": "hello-battle", "language": "python", "code": SLOW_SUM_PY}
    created = client.post("/api/submissions", json=body, headers={"X-CSRF-Token": csrf})
    assert created.status_code == 201, created.text
    with client.websocket_connect(f"/ws/submissions/{created.json()['id']}") as ws:
        assert ws.receive_json()["type"] == "snapshot"
        ws.send_json({"type": "ping"})
        ws.send_text("{broken")
        ws.send_json({"type": "hello"})
        answers, done = [], None
        while done is None:
            message = ws.receive_json()
            if message["type"] in ("pong", "error"):
                answers.append((message["type"], message.get("code")))
            elif message["type"] == "done":
                done = message
        with pytest.raises(WebSocketDisconnect) as closed:  # the server closes after it
            ws.receive_json()
    assert closed.value.code == 1000
    assert answers == [("pong", None), ("error", "bad_frame"), ("error", "unknown_action")]
    assert done["submission"]["verdict"] == "AC"
