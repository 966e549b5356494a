"""Test clients of a real server: the JSON API (httpx) and the match socket (websockets),
signed in with API tokens."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import httpx
import websockets

from tests.support.servers import Server

WAIT = 60.0  # seconds any expected message may take (judging included)


@dataclass
class Api:
    server: Server
    token: str

    def _client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=self.server.url, headers={"Authorization": f"Bearer {self.token}"},
            timeout=30,
        )  # fmt: skip

    async def call(self, method: str, path: str, body: Any = None) -> httpx.Response:
        async with self._client() as client:
            return await client.request(method, path, json=body)

    async def submit(self, match_id: int, code: str, language: str = "python") -> int:
        reply = await self.call(
            "POST", "/api/submissions",
            {"problem": "hello-battle", "language": language, "code": code, "match": match_id},
        )  # fmt: skip
        assert reply.status_code == 201, reply.text
        return int(reply.json()["id"])


@dataclass
class Socket:
    """One match (or room) socket; keeps every message it received, in order."""

    ws: Any
    received: list[dict[str, Any]] = field(default_factory=list)
    welcome: dict[str, Any] = field(default_factory=dict)
    _taken: set[int] = field(default_factory=set)
    path: ClassVar[str] = "/ws/matches/"

    @classmethod
    async def open(cls, server: Server, token: str, stream_id: int, last_seq: int = 0) -> Socket:
        ws = await websockets.connect(
            f"{server.ws_url}{cls.path}{stream_id}",
            additional_headers={"Authorization": f"Bearer {token}"},
            max_size=2**22,
        )
        await ws.send(json.dumps({"type": "hello", "last_seq": last_seq}))
        socket = cls(ws)
        socket.welcome = await socket.next("welcome")
        return socket

    async def send(self, message: dict[str, Any] | str) -> None:
        await self.ws.send(message if isinstance(message, str) else json.dumps(message))

    async def next(self, kind: str, **match: Any) -> dict[str, Any]:
        """The first message of this kind (and fields) not returned yet, waiting for it if
        need be; messages of other kinds stay available."""
        return await self._first(
            lambda m: m.get("type") == kind and all(m.get(k) == v for k, v in match.items())
        )

    async def event(self, kind: str) -> dict[str, Any]:
        """The first logged event of this kind not returned yet."""
        return await self._first(lambda m: m.get("type") == "event" and m["event"]["type"] == kind)

    async def _first(self, wanted: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        async with asyncio.timeout(WAIT):
            scanned = 0
            while True:
                for index in range(scanned, len(self.received)):
                    if index not in self._taken and wanted(self.received[index]):
                        self._taken.add(index)
                        return self.received[index]
                scanned = len(self.received)
                self.received.append(json.loads(await self.ws.recv()))

    def seqs(self) -> list[int]:
        return [m["seq"] for m in self.received if m.get("type") == "event"]

    def events(self) -> list[dict[str, Any]]:
        return [m["event"] for m in self.received if m.get("type") == "event"]

    async def close(self) -> None:
        await self.ws.close()


class RoomSocket(Socket):
    path: ClassVar[str] = "/ws/rooms/"


async def room_joined(host: Api, member: Api, title: str) -> dict[str, Any]:
    """A room of the starter problem, made by `host`, with `member` joined (not started)."""
    made = await host.call("POST", "/api/rooms", {"title": title, "problems": ["hello-battle"]})
    room: dict[str, Any] = made.json()
    joined = await member.call("POST", "/api/rooms/join", {"code": room["code"]})
    assert joined.status_code == 200, joined.text
    return room


async def submission_frames(server: Server, token: str, submission_id: int) -> list[str]:
    """Every frame of a submission's socket, as sent, until the server closes it after `done`."""
    frames = []
    async with websockets.connect(
        f"{server.ws_url}/ws/submissions/{submission_id}",
        additional_headers={"Authorization": f"Bearer {token}"},
    ) as ws:
        async for raw in ws:
            frames.append(str(raw))
    return frames
