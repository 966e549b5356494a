"""Who may open a socket, and how a refusal is said (docs/protocol.md).

A socket closed before it is accepted reaches a browser as an HTTP 403 and close code 1006,
which a client cannot tell from a network failure: it retries forever. So every refusal
accepts the socket first, then closes it with a code the client acts on (stops, and says why).
"""

from __future__ import annotations

from fastapi import WebSocket

from codebattle import logs
from codebattle.accounts import profiles
from codebattle.accounts.models import User
from codebattle.services import services_of
from codebattle.web.ids import valid_id
from codebattle.web.security import SignIns, same_origin, store_of

NOT_SIGNED_IN = 4401  # no session, or a bad API token
FOREIGN_ORIGIN = 4403  # a browser on another site (cross-site socket hijacking)
NOT_FOUND = 4404  # no such thing, not the caller's, or an id that cannot name a row


async def refuse(websocket: WebSocket, code: int) -> None:
    await websocket.accept()
    await websocket.close(code=code)


async def admit(websocket: WebSocket, raw_id: str) -> tuple[User, int] | None:
    """The signed-in caller and the id in the socket's path; or None, the socket refused.

    Origin is checked first, so a page on another site learns nothing about whether its
    visitor is signed in here; then the caller is found (web/security.SignIns: one read
    shared by the sockets that arrive together, the socket's only one when what it serves
    is cached). An id outside 1..MAX_ID (or not
    a number) is "not found" without reading the thing. Whether the thing exists and is the
    caller's to see is the socket's own check, refused with `refuse(websocket, NOT_FOUND)`.
    """
    if not same_origin(websocket):
        await refuse(websocket, FOREIGN_ORIGIN)
        return None
    nickname_sign_in = services_of(websocket).settings.nickname_sign_in
    user, auth = await sign_ins(websocket).who(websocket, nickname_sign_in)
    if user is None or user.deleted_at is not None or profiles.restriction(user) is not None:
        # A restricted account (first sign-in unfinished, under 14 without a guardian's
        # consent) is signed in only for its own account pages, never a game or a room.
        await refuse(websocket, NOT_SIGNED_IN)
        return None
    websocket.state.user, websocket.state.auth = user, auth
    logs.bind(user_id=user.id)  # on the connection's log lines
    stream_id = valid_id(raw_id)
    if stream_id is None:
        await refuse(websocket, NOT_FOUND)
        return None
    return user, stream_id


def sign_ins(websocket: WebSocket) -> SignIns:
    """The app's socket sign-in reader (one per process, made on first use)."""
    state = websocket.app.state
    if not hasattr(state, "sign_ins"):
        services = services_of(websocket)
        state.sign_ins = SignIns(
            services.db, store_of(websocket), touch_tokens=not services.settings.preview
        )
    readers: SignIns = state.sign_ins
    return readers
