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


async def test_services_stop_does_not_wait_forever_for_a_stuck_task(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    from codebattle import services as services_module
    from codebattle.services import Services
    from tests.support.site import settings_for

    monkeypatch.setattr(services_module, "STOP_TASK_SECONDS", 0.2)
    services = Services.from_settings(settings_for(tmp_path))  # type: ignore[arg-type]

    released = asyncio.Event()

    async def stubborn() -> None:
        while not released.is_set():
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                continue  # swallows the cancellation

    services.spawn(stubborn())
    (task,) = services.background
    await asyncio.sleep(0)
    async with asyncio.timeout(10):
        await services.stop()
    assert not task.done()  # stop went on without it
    released.set()
    task.cancel()
    await asyncio.wait([task])
