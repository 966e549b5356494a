"""The submission WebSocket: a submission's state, then each change as it is recorded, then
the close. The same stream loop as the match and room sockets (realtime/stream.py: heartbeat,
pong, the slow client's resync and close, frame checks) and the same refusals (web/sockets.py).
Messages: {"v": 1, "type": "snapshot"|"status"|"test"|"done", ...} (docs/protocol.md)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, WebSocket

from codebattle import logs
from codebattle.errors import UserError
from codebattle.realtime.stream import Stream, frame_limit
from codebattle.services import services_of
from codebattle.submissions import service
from codebattle.submissions.models import DONE
from codebattle.web.sockets import NOT_FOUND, admit, refuse

router = APIRouter()


@router.websocket("/ws/submissions/{path_id}")
async def submission_socket(websocket: WebSocket, path_id: str) -> None:
    admitted = await admit(websocket, path_id)
    if admitted is None:
        return
    user, submission_id = admitted
    logs.bind(submission_id=submission_id)  # on the connection's log lines
    services = services_of(websocket)
    # Subscribe before reading the snapshot so that nothing falls between the two.
    async with services.pubsub.subscribe(f"submission:{submission_id}") as messages:
        async with services.db.reading() as session:
            try:
                submission = await service.get_owned(session, user, submission_id)
            except UserError:  # none, or someone else's: the same answer
                snapshot = None
            else:
                snapshot = await service.to_json(session, submission)
        if snapshot is None:
            await refuse(websocket, NOT_FOUND)
            return
        stream = Stream(
            websocket, getattr(websocket.state, "locale", "ko"), load_since=_no_log,
            handle=_nothing_taken, frame_limit=frame_limit(),
            last=lambda message: message.get("type") == "done",
        )  # fmt: skip
        await websocket.accept()
        await stream.send({"type": "snapshot", "submission": snapshot})
        if snapshot["status"] == DONE:
            await websocket.close()
            return
        await stream.run(messages, 0, logged=0)


async def _no_log(after_seq: int) -> list[dict[str, Any]]:
    return []  # a submission's messages are not logged: a client that missed one polls


async def _nothing_taken(data: dict[str, Any]) -> None:
    raise UserError(422, "unknown_action")  # this socket only sends updates
