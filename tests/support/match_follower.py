"""A match's socket followed the way the arena page follows it (docs/protocol.md,
`/ws/matches/{id}`): `hello` with the last sequence number it holds, each logged event kept
by its number, and on any close that is not a refusal (an instance killed, 4408 resync,
1013 try later) a reconnect, to the first of the given API instances that answers, with
its `last_seq`. The crash tests read from it what a player's page would have shown."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import websockets

REFUSED = {4401, 4403, 4404}  # will not change by trying again
PAUSE = 0.3  # seconds between reconnects (the page backs off longer)


@dataclass
class MatchFollower:
    ws_urls: Callable[[], Sequence[str]]  # the instances to try, in order, at each connect
    match_id: int
    token: str
    events: dict[int, dict[str, Any]] = field(default_factory=dict)  # seq -> event
    out_of_order: list[tuple[int, int]] = field(default_factory=list)  # (held, received)
    closes: list[int | None] = field(default_factory=list)
    connected_to: list[str] = field(default_factory=list)

    @property
    def last_seq(self) -> int:
        return max(self.events, default=0)

    def types(self) -> list[str]:
        return [str(self.events[seq]["type"]) for seq in sorted(self.events)]

    def over(self) -> bool:
        return any(t in ("finished", "cancelled") for t in self.types())

    async def follow(self) -> None:
        """Until cancelled: connect, read, reconnect."""
        while True:
            for url in self.ws_urls():
                with contextlib.suppress(OSError, websockets.InvalidHandshake):
                    await self._read(url)
                    break
            await asyncio.sleep(PAUSE)

    async def _read(self, url: str) -> None:
        async with websockets.connect(
            f"{url}/ws/matches/{self.match_id}",
            additional_headers={"Authorization": f"Bearer {self.token}"},
            open_timeout=5,
        ) as ws:
            self.connected_to.append(url)
            await ws.send(json.dumps({"type": "hello", "last_seq": self.last_seq}))
            try:
                async for raw in ws:
                    self._take(json.loads(raw))
            except websockets.ConnectionClosed:
                pass
            code = ws.close_code
            self.closes.append(code)
            if code in REFUSED:
                raise AssertionError(f"the match socket was refused: {code} {ws.close_reason}")

    def _take(self, message: dict[str, Any]) -> None:
        if message.get("type") != "event":
            return
        seq = int(message["seq"])
        if seq != self.last_seq + 1:  # the server promises each number once, in order
            self.out_of_order.append((self.last_seq, seq))
        self.events[seq] = dict(message["event"])
