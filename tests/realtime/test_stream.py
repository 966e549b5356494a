"""The resumable stream: every logged message once and in order (gaps filled from the log,
repeats dropped), ephemeral ones passed through, a client too slow to keep up told to
resync and dropped without holding anything up, and of several failures the first raised."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from fastapi import WebSocketDisconnect
from structlog.testing import capture_logs

from codebattle.realtime import stream as stream_module
from codebattle.realtime.pubsub import QUEUE_SIZE, Envelope, Subscription
from codebattle.realtime.stream import Stream


class FakeSocket:
    def __init__(self, stuck: bool = False) -> None:
        self.sent: list[dict[str, Any]] = []
        self.closed: int | None = None
        self.stuck = stuck
        self.leave = asyncio.Event()

    async def send_json(self, message: dict[str, Any]) -> None:
        await self.send_text(json.dumps(message))

    async def send_text(self, text: str) -> None:
        if self.stuck and self.sent:
            await asyncio.Event().wait()  # the network never takes it
        self.sent.append(json.loads(text))

    async def close(self, code: int = 1000) -> None:
        self.closed = code

    async def receive(self) -> dict[str, Any]:
        await self.leave.wait()
        return {"type": "websocket.disconnect"}


def logged(seq: int) -> dict[str, Any]:
    return {"v": 1, "type": "event", "seq": seq, "event": {"type": "x"}}


async def no_frames(_data: dict[str, Any]) -> None:
    raise AssertionError("no client messages in these tests")


async def test_each_logged_message_once_and_in_order() -> None:
    log = [logged(n) for n in range(1, 5)]

    async def load_since(seq: int) -> list[dict[str, Any]]:
        return [m for m in log if m["seq"] > seq]

    socket = FakeSocket()
    live = Subscription()
    stream = Stream(socket, "en", load_since=load_since, handle=no_frames,  # type: ignore[arg-type]
                    frame_limit=100)  # fmt: skip
    task = asyncio.create_task(stream.run(live, 2))  # the client saw up to 2
    async with asyncio.timeout(5):
        while len(socket.sent) < 2:  # 3 and 4, from the log
            await asyncio.sleep(0.01)
        # Then 5..7 are logged; pub/sub brings 3 again, an activity message, 7 (so 5 and 6
        # must come from the log), and 7 again.
        log.extend(logged(n) for n in range(5, 8))
        for message in (logged(3), {"v": 1, "type": "activity"}, logged(7), logged(7)):
            live.put(Envelope(message, json.dumps(message)))
        while len(socket.sent) < 6:
            await asyncio.sleep(0.01)
    socket.leave.set()
    await task
    assert [m.get("seq", "activity") for m in socket.sent] == [3, 4, "activity", 5, 6, 7]


async def test_a_client_at_the_snapshot_reads_the_log_only_for_a_gap() -> None:
    log = [logged(n) for n in range(1, 4)]
    reads: list[int] = []

    async def load_since(seq: int) -> list[dict[str, Any]]:
        reads.append(seq)
        return [m for m in log if m["seq"] > seq]

    socket = FakeSocket()
    live = Subscription()
    stream = Stream(socket, "en", load_since=load_since, handle=no_frames,  # type: ignore[arg-type]
                    frame_limit=100)  # fmt: skip
    task = asyncio.create_task(stream.run(live, 3, logged=3))  # it has the snapshot at 3
    async with asyncio.timeout(5):
        log.append(logged(4))
        live.put(Envelope(logged(4), json.dumps(logged(4))))
        while len(socket.sent) < 1:
            await asyncio.sleep(0.01)
        assert reads == []  # nothing to catch up on
        log.extend(logged(n) for n in (5, 6))
        live.put(Envelope(logged(6), json.dumps(logged(6))))  # 5 went missing
        while len(socket.sent) < 3:
            await asyncio.sleep(0.01)
    socket.leave.set()
    await task
    assert reads == [4]
    assert [m["seq"] for m in socket.sent] == [4, 5, 6]


async def test_a_stuck_client_is_told_to_resync_and_dropped() -> None:
    async def load_since(seq: int) -> list[dict[str, Any]]:
        return []

    socket = FakeSocket(stuck=True)
    subscription = Subscription()
    stream = Stream(socket, "en", load_since=load_since, handle=no_frames,  # type: ignore[arg-type]
                    frame_limit=100)  # fmt: skip
    task = asyncio.create_task(stream.run(subscription, 0))
    for n in range(1, QUEUE_SIZE * 3):  # the publisher never waits for this client
        subscription.put(Envelope(logged(n), json.dumps(logged(n))))
        await asyncio.sleep(0)
    async with asyncio.timeout(10):  # and the stream ends by itself
        await task


class BrokenCloseSocket(FakeSocket):
    async def close(self, code: int = 1000) -> None:
        raise ValueError("the transport broke")


async def test_a_resync_that_fails_is_logged_not_hidden() -> None:
    async def load_since(seq: int) -> list[dict[str, Any]]:
        return []

    socket = BrokenCloseSocket()
    subscription = Subscription(size=1)
    stream = Stream(socket, "en", load_since=load_since, handle=no_frames,  # type: ignore[arg-type]
                    frame_limit=100)  # fmt: skip
    for n in (1, 2):  # one more than the queue holds
        subscription.put(Envelope(logged(n), json.dumps(logged(n))))
    with capture_logs() as logs:
        async with asyncio.timeout(10):  # the client is dropped all the same
            await stream.run(subscription, 0, logged=0)
    failed = [e for e in logs if e["event"] == "slow client's resync failed"]
    assert failed and all(e["log_level"] == "error" and e["exc_info"] for e in failed)


async def test_a_stream_with_a_last_message_closes_after_it() -> None:
    async def load_since(seq: int) -> list[dict[str, Any]]:
        return []

    socket = FakeSocket()
    subscription = Subscription()
    stream = Stream(socket, "en", load_since=load_since, handle=no_frames,  # type: ignore[arg-type]
                    frame_limit=100, last=lambda m: m["type"] == "done")  # fmt: skip
    for message in ({"type": "test"}, {"type": "done"}, {"type": "late"}):
        subscription.put(Envelope(message, json.dumps(message)))
    async with asyncio.timeout(10):  # it ends without the client leaving
        await stream.run(subscription, 0, logged=0)
    assert [m["type"] for m in socket.sent] == ["test", "done"] and socket.closed == 1000


class OneFrameSocket(FakeSocket):
    """A client that sends one frame, then stays."""

    def __init__(self) -> None:
        super().__init__()
        self.frames = [{"type": "websocket.receive", "text": json.dumps({"type": "chat"})}]

    async def receive(self) -> dict[str, Any]:
        if self.frames:
            return self.frames.pop()
        return await super().receive()


async def fail_twice() -> BaseException:
    """A stream whose client's message fails, and then its log read: what it raises."""
    handled = asyncio.Event()

    async def load_since(seq: int) -> list[dict[str, Any]]:
        await handled.wait()
        raise ValueError("the log's read, second")

    async def handle(data: dict[str, Any]) -> None:
        handled.set()
        raise KeyError("the client's message, first")

    stream = Stream(OneFrameSocket(), "en", load_since=load_since, handle=handle,  # type: ignore[arg-type]
                    frame_limit=100)  # fmt: skip
    with pytest.raises(Exception) as raised:
        async with asyncio.timeout(10):
            await stream.run(Subscription(), 0)
    return raised.value


async def test_the_first_failure_is_raised_and_the_later_ones_reported(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for _ in range(10):  # the same every time, not whichever a set yields first
        reported: list[BaseException] = []
        monkeypatch.setattr(stream_module, "report_failure", reported.append)
        assert isinstance(await fail_twice(), KeyError)
        assert [type(failure) for failure in reported] == [ValueError]


async def test_a_client_gone_is_no_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    reported: list[BaseException] = []
    monkeypatch.setattr(stream_module, "report_failure", reported.append)

    async def load_since(seq: int) -> list[dict[str, Any]]:
        return []

    async def handle(data: dict[str, Any]) -> None:
        raise WebSocketDisconnect(1001)  # its answer found the client gone

    stream = Stream(OneFrameSocket(), "en", load_since=load_since, handle=handle,  # type: ignore[arg-type]
                    frame_limit=100)  # fmt: skip
    with capture_logs() as logs:
        async with asyncio.timeout(10):
            await stream.run(Subscription(), 0)  # ends, raising nothing
    assert not reported and not [e for e in logs if e["log_level"] == "error"]
