"""The fake Giftishow (codebattle.integrations.fake_giftishow) served by a real uvicorn on
127.0.0.1, in a thread of the test process, so a test reads and steers its state (cards,
business money, faults) while our client talks to it over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from codebattle.integrations.fake_giftishow import FakeGiftishow
from codebattle.integrations.giftishow import (
    FAKE_AUTH_CODE,
    FAKE_AUTH_TOKEN,
    FAKE_CALLBACK_NO,
    FAKE_USER_ID,
    Giftishow,
)
from tests.support.fake_portone import serving


@contextmanager
def running_fake(balance: int | None = None) -> Iterator[tuple[FakeGiftishow, str]]:
    """A fake provider on loopback: (its state, its base URL)."""
    fake = FakeGiftishow() if balance is None else FakeGiftishow(balance=balance)
    with serving(fake.app) as url:
        yield fake, url


def client_of(
    base_url: str,
    *,
    auth_code: str = FAKE_AUTH_CODE,
    auth_token: str = FAKE_AUTH_TOKEN,
    timeout: float = 5.0,
) -> Giftishow:
    """Our client, pointed at the fake (dev_yn=Y)."""
    return Giftishow(
        auth_code,
        auth_token,
        base_url=base_url,
        user_id=FAKE_USER_ID,
        callback_no=FAKE_CALLBACK_NO,
        dev=True,
        timeout=timeout,
    )
