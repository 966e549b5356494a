"""One resumable event stream on one WebSocket (a match's, a room's).

The client says which sequence number it saw last; the stream sends what it missed from the
stored log, then every new message from pub/sub, in order: a logged message (one with a
`seq`) that arrives out of order is filled in from the log, so the client sees every number
once. Messages without `seq` (activity, chat) pass straight through. A client too slow to
keep up is told to resync and closed rather than slowing anyone else; a silent stream sends
heartbeats. Frames from the client are size-checked and parsed here, then handed to the
stream's owner; a refused one gets an error message and the connection stays open.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import structlog
from fastapi import WebSocket, WebSocketDisconnect

from codebattle.errors import UserError
from codebattle.i18n import translate

log = structlog.get_logger(__name__)
Message = dict[str, Any]
SEND_QUEUE = 256  # messages buffered for a slow client before it is told to resync
HEARTBEAT_SECONDS = 20.0
HELLO_SECONDS = 10.0
RESYNC_SECONDS = 1.0  # how long a stuck client's "resync" and close may take


async def read_hello(websocket: WebSocket) -> int | None:
    """The client's first message: {"type": "hello", "last_seq": n}, or {"type": "hello",
    "snapshot": true} for a client that starts from the welcome's snapshot (None). Without
    a valid one in time, the client gets the whole log."""
    try:
        hello = json.loads(await asyncio.wait_for(websocket.receive_text(), HELLO_SECONDS))
        if not isinstance(hello, dict):
            return 0
        if hello.get("snapshot") is True:
            return None
        seq = hello.get("last_seq", 0)
        return seq if isinstance(seq, int) and seq >= 0 else 0
    except (TimeoutError, ValueError, KeyError, TypeError):
        return 0


class Stream:
    def __init__(
        self,
        websocket: WebSocket,
        locale: str,
        *,
        load_since: Callable[[int], Awaitable[list[Message]]],
        handle: Callable[[Message], Awaitable[None]],
        frame_limit: int,
        visible: Callable[[Message], bool] = lambda message: True,
    ) -> None:
        self.websocket = websocket
        self.locale = locale
        self.load_since = load_since  # logged messages after a sequence number, in order
        self.handle = handle  # a client's message; raises UserError to refuse it
        self.frame_limit = frame_limit
        self.visible = visible

    async def send(self, message: Message) -> None:
        await self.websocket.send_json({"v": 1, **message, "server_time": time.time()})

    async def error(self, code: str, **params: Any) -> None:
        with contextlib.suppress(WebSocketDisconnect, RuntimeError):
            await self.send(
                {"type": "error", "code": code, "message": translate(code, self.locale, **params)}
            )

    async def run(self, messages: AsyncIterator[Message], last_seq: int) -> None:
        """Serve until the client leaves (or falls too far behind)."""
        outbox: asyncio.Queue[Message] = asyncio.Queue(SEND_QUEUE)
        tasks = {
            asyncio.create_task(self._send(last_seq, outbox)),
            asyncio.create_task(self._feed(messages, outbox)),
            asyncio.create_task(self._receive()),
        }
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            for outcome in await asyncio.gather(*tasks, return_exceptions=True):
                if isinstance(outcome, Exception):
                    log.error("stream failed", exc_info=outcome)

    async def _feed(self, messages: AsyncIterator[Message], outbox: asyncio.Queue[Message]) -> None:
        async for message in messages:
            if not self.visible(message):
                continue
            try:
                outbox.put_nowait(message)
            except asyncio.QueueFull:  # too slow: this client resyncs, nobody else waits
                # Its socket may be stuck: say so briefly, then drop it either way.
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(self.send({"type": "resync"}), RESYNC_SECONDS)
                    await asyncio.wait_for(self.websocket.close(code=4408), RESYNC_SECONDS)
                return

    async def _send(self, last_seq: int, outbox: asyncio.Queue[Message]) -> None:
        sent = last_seq

        async def catch_up(until: int | None = None) -> None:
            nonlocal sent
            for message in await self.load_since(sent):
                if until is not None and message["seq"] > until:
                    break
                await self.websocket.send_json(message)
                sent = message["seq"]

        with contextlib.suppress(WebSocketDisconnect, RuntimeError):
            await catch_up()
            while True:
                try:
                    message = await asyncio.wait_for(outbox.get(), HEARTBEAT_SECONDS)
                except TimeoutError:
                    await self.send({"type": "ping"})
                    continue
                if "seq" not in message:
                    await self.websocket.send_json(message)
                    continue
                seq = int(message["seq"])
                if seq <= sent:
                    continue  # already sent from the log
                if seq > sent + 1:
                    await catch_up(seq - 1)
                await self.websocket.send_json(message)
                sent = seq

    async def _receive(self) -> None:
        while True:
            try:
                frame = await self.websocket.receive()
            except (WebSocketDisconnect, RuntimeError):
                return
            if frame["type"] == "websocket.disconnect":
                return
            text = frame.get("text")
            if text is None or len(text) > self.frame_limit:
                await self.error("bad_frame")
                continue
            try:
                data = json.loads(text)
            except ValueError:
                data = None
            if not isinstance(data, dict) or not isinstance(data.get("type"), str):
                await self.error("bad_frame")
                continue
            if data["type"] == "ping":
                await self.send({"type": "pong"})
                continue
            try:
                await self.handle(data)
            except UserError as exc:
                await self.error(exc.key, **exc.params)
