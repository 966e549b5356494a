"""The fake PortOne (codebattle.integrations.fake_portone) served by a real uvicorn on
127.0.0.1, in a thread of the test process, so a test reads its state (payments, charges,
webhooks) while our client talks to it over HTTP."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn

from codebattle.integrations.fake_portone import FakePortOne
from codebattle.integrations.portone import (
    FAKE_API_SECRET,
    FAKE_CHANNEL_KEY,
    FAKE_STORE_ID,
    PortOne,
)
from tests.support.servers import free_port


@contextmanager
def running_fake(webhook_url: str | None = None) -> Iterator[tuple[FakePortOne, str]]:
    """A fake provider on loopback: (its state, its base URL)."""
    fake = FakePortOne(webhook_url=webhook_url)
    with serving(fake.app) as url:
        yield fake, url


def client_of(base_url: str, secret: str = FAKE_API_SECRET) -> PortOne:
    return PortOne(secret, base_url, store_id=FAKE_STORE_ID, channel_key=FAKE_CHANNEL_KEY)


@contextmanager
def serving(app: object) -> Iterator[str]:
    """Any ASGI app (a webhook receiver, say) on loopback: its base URL."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")  # type: ignore[arg-type]
    )
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
