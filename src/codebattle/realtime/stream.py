"""One event stream on one WebSocket (a match's, a room's, a submission's): every socket's loop.

The client says which sequence number it saw last; the stream sends what it missed from the
stored log, then every new message from pub/sub, in order: a logged message (one with a
`seq`) that arrives out of order is filled in from the log, so the client sees every number
once. Messages without `seq` (activity, chat, a submission's progress) pass straight
through; a stream may have a last message, after which the socket closes. Each message goes out
as the text pub/sub encoded once for everyone. A client too slow to keep up (its
subscription's bounded queue overflowed) is told to resync and closed rather than slowing
anyone else; a silent stream sends heartbeats. Frames from the client are size-checked and
parsed here, then handed to the stream's owner; a refused one gets an error message and the
connection stays open. A failure (the database or Redis down, say) ends the stream and is
raised to its route, so the app closes the socket with a code that says what happened.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from fastapi import WebSocket, WebSocketDisconnect

from codebattle.config import Settings
from codebattle.errors import UserError
from codebattle.i18n import translate
from codebattle.realtime.pubsub import SubscriberTooSlow, Subscription

log = structlog.get_logger(__name__)
Message = dict[str, Any]


def _log_failure(failure: BaseException) -> None:
    log.error("stream failed", exc_info=failure)


# What becomes of a failure that is not the one raised (two of a stream's tasks failed at
# once). The app sets one that sends an outage to db/outage.report (a layer above this one)
# and logs anything else as a crash.
report_failure: Callable[[BaseException], None] = _log_failure
HEARTBEAT_SECONDS = 20.0
HELLO_SECONDS = 10.0
RESYNC_SECONDS = 1.0  # how long a stuck client's "resync" and close may take
MESSAGE_BYTES = 4096  # a frame without code: hello, chat, actions
TRANSPORT_MARGIN = 1024  # the transport's limit sits this far above the largest frame


# The streams open in this process, by their socket's path ("/ws/matches/12"): how many
# sockets this instance serves, and which games (ops/fleet.py, the fleet page).
open_streams: Counter[str] = Counter()


def _opened(websocket: WebSocket) -> str:
    path = str(getattr(websocket, "scope", {}).get("path", ""))
    open_streams[path] += 1
    return path


def _closed(path: str) -> None:
    open_streams[path] -= 1
    if open_streams[path] <= 0:
        del open_streams[path]


def frame_limit(code_bytes: int = 0) -> int:
    """Bytes a client's frame may have on a stream: a message, plus the code it may carry
    (a player's editor content, at most MAX_CODE_BYTES)."""
    return MESSAGE_BYTES + code_bytes


def transport_limit(settings: Settings) -> int:
    """The server's WebSocket frame limit (uvicorn's ws_max_size): just above the largest
    frame any socket takes (a player's code), so a bigger one is refused by the transport
    (close 1009) before it is buffered, and anything smaller reaches the app, which answers
    `bad_frame` when it is over that socket's own limit."""
    return frame_limit(settings.MAX_CODE_BYTES) + TRANSPORT_MARGIN


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
        frame_limit: int,  # bytes (UTF-8), as the transport counts them
        visible: Callable[[Message], bool] = lambda message: True,
        last: Callable[[Message], bool] = lambda message: False,
    ) -> None:
        self.websocket = websocket
        self.locale = locale
        self.load_since = load_since  # logged messages after a sequence number, in order
        self.handle = handle  # a client's message; raises UserError to refuse it
        self.frame_limit = frame_limit
        self.visible = visible
        self.last = last  # the stream's final message: once it is sent, the socket closes
        self.last_sent = time.monotonic()
        self._resyncing = False

    async def send(self, message: Message) -> None:
        await self.websocket.send_json({"v": 1, **message, "server_time": time.time()})

    async def error(self, code: str, **params: Any) -> None:
        with contextlib.suppress(WebSocketDisconnect, RuntimeError):
            await self.send(
                {"type": "error", "code": code, "message": translate(code, self.locale, **params)}
            )

    async def run(
        self, subscription: Subscription, last_seq: int, logged: int | None = None
    ) -> None:
        """Serve until the client leaves (or falls too far behind). `logged`: the log's last
        sequence number when the subscription was already open; a client that has it needs
        no catch-up read (a later gap is still filled from the log)."""
        self.last_sent = time.monotonic()
        path = _opened(self.websocket)
        tasks = [
            asyncio.create_task(self._pump(subscription, last_seq, logged)),
            asyncio.create_task(self._watch(subscription)),
            asyncio.create_task(self._receive()),
        ]
        finished: list[asyncio.Task[None]] = []  # in the order they ended
        for task in tasks:
            task.add_done_callback(finished.append)
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            _closed(path)
            for task in tasks:
                task.cancel()
            # Shielded: if this task is cancelled meanwhile, its own cancellation is what
            # is raised (not one of the children's), so its caller's cancel scope takes it.
            await asyncio.shield(asyncio.gather(*tasks, return_exceptions=True))
        finished += [task for task in tasks if task not in finished]  # (all are, by now)
        failures = [
            failure
            for task in finished
            if not task.cancelled()
            and isinstance(failure := task.exception(), Exception)
            and not isinstance(failure, WebSocketDisconnect)  # the client left: no failure
        ]
        for failure in failures[1:]:
            report_failure(failure)
        if failures:
            # The first to fail (what the others' failures most likely follow from) is
            # raised to the socket's route, then to the app, which tells an outage (the
            # database or Redis down: close 1013, the client reconnects) from a crash.
            raise failures[0]

    async def _pump(self, subscription: Subscription, last_seq: int, logged: int | None) -> None:
        """The log from `last_seq`, then live messages straight from the subscription (one
        hop: its bounded queue is this client's send queue)."""
        sent = last_seq

        async def catch_up(until: int | None = None) -> None:
            nonlocal sent
            for message in await self.load_since(sent):
                if until is not None and message["seq"] > until:
                    break
                await self.websocket.send_text(json.dumps(message))
                sent = message["seq"]

        with contextlib.suppress(WebSocketDisconnect, RuntimeError):
            if logged is None or last_seq < logged:
                await catch_up()
            while True:
                try:
                    envelope = await subscription.get()
                except SubscriberTooSlow:  # this client resyncs, nobody else waits
                    await self._resync()
                    return
                message = envelope.message
                if not self.visible(message):
                    continue
                seq = message.get("seq")
                if seq is not None:
                    if seq <= sent:
                        continue  # already sent from the log
                    if seq > sent + 1:
                        await catch_up(seq - 1)
                    sent = seq
                await self.websocket.send_text(envelope.text)
                self.last_sent = time.monotonic()
                if self.last(message):
                    await self.websocket.close()
                    return

    async def _resync(self) -> None:
        # Its socket may be stuck: say so briefly, then drop it either way. The pump and the
        # watcher both see an overflow: the first to do so resyncs, once.
        if self._resyncing:
            return
        self._resyncing = True
        try:
            await asyncio.wait_for(self.send({"type": "resync"}), RESYNC_SECONDS)
            await asyncio.wait_for(self.websocket.close(code=4408), RESYNC_SECONDS)
        except (TimeoutError, WebSocketDisconnect, RuntimeError, OSError) as exc:
            log.info("slow client dropped without a goodbye", reason=repr(exc))
        except Exception:  # unexpected: the client is dropped all the same, and we say why
            log.exception("slow client's resync failed")

    async def _watch(self, subscription: Subscription) -> None:
        """A ping after HEARTBEAT_SECONDS without anything sent (a timer, not a timeout on
        every message); and the resync as soon as the subscription overflows, even while
        the pump is stuck sending to this client."""
        with contextlib.suppress(WebSocketDisconnect, RuntimeError):
            while True:
                idle = time.monotonic() - self.last_sent
                if idle >= HEARTBEAT_SECONDS:
                    await self.send({"type": "ping"})
                    self.last_sent = time.monotonic()
                    idle = 0.0
                try:
                    await asyncio.wait_for(subscription.overflow.wait(), HEARTBEAT_SECONDS - idle)
                except TimeoutError:
                    continue
                await self._resync()
                return

    async def _receive(self) -> None:
        while True:
            try:
                frame = await self.websocket.receive()
            except (WebSocketDisconnect, RuntimeError):
                return
            if frame["type"] == "websocket.disconnect":
                return
            text = frame.get("text")
            if text is None or len(text.encode()) > self.frame_limit:  # bytes, as documented
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
