"""The metrics sampler stops when it is cancelled, even when the cancellation arrives as a
sample's read ends: with asyncio.wait_for (Python 3.11) that cancellation was swallowed, the
sampling loop went on, and Services.stop waited for it forever (a hung test run)."""

from __future__ import annotations

import asyncio

import pytest

from codebattle.ops import metrics


async def test_a_cancellation_as_a_read_ends_stops_the_sampler() -> None:
    reached = asyncio.Event()

    async def read() -> None:
        task.cancel()  # the stop arrives while the read finishes

    async def sampler() -> None:
        await metrics._part("games", read)
        reached.set()  # the next step may run; its first await must raise
        await asyncio.sleep(30)

    task = asyncio.create_task(sampler())
    with pytest.raises(asyncio.CancelledError):
        async with asyncio.timeout(5):
            await task
    assert task.cancelled()
