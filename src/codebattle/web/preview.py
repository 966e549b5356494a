"""A preview's responses say what they are: `X-Preview: 1` on every HTTP response (the
pages say it with base.html's banner too; decision 0030), and a refusal on a path that
can never work in a preview names what is off rather than "changes are not saved"."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from codebattle.db.preview import PreviewReadOnly
from codebattle.errors import UserError

HEADER = (b"x-preview", b"1")


@contextmanager
def refused_as(key: str) -> Iterator[None]:
    """A preview's refusal inside the block answers 403 with `key` (a message that says
    what is off, e.g. `preview_games_off`); the refused transaction is already undone."""
    try:
        yield
    except PreviewReadOnly as exc:
        raise UserError(403, key) from exc


class PreviewHeader:
    """Pure ASGI middleware (no body buffering): adds the header to each response start."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def marked(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), HEADER]
            await send(message)

        await self.app(scope, receive, marked)
