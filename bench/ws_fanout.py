"""WebSocket fan-out: N clients (default 1000) watching one room on one API process.

The host broadcasts announcements (`POST /api/rooms/{id}/announce`); every socket in the
room receives each one as an `event`. Each announcement's text carries its send time
(`time.time()` in this process, just before the request), so a client's delivery latency is
its receive time minus that. The peer, in the same run and with the same clients: a minimal
broadcast server written directly on `websockets` (asyncio server, `websockets.broadcast`)
that relays each message of a "host" connection to every other one; the host sends the
same JSON shape and size as the product's event, at the same rate.

Phases, for each server:
- memory: server RSS (/proc/<pid>/status VmRSS) with N idle clients connected, minus
  before (after a warm-up of a few sockets), divided by N;
- rate: `--rate` messages/s for `--seconds`, open loop; p50 / p99 delivery latency (a
  delivery that never comes counts as infinitely late);
- burst: `--burst` messages as fast as the host can send them (the product's host waits for
  each announce's answer); deliveries/s = deliveries / (last delivery - first send). `--burst`
  stays below the product's per-socket send queue (256), past which a socket is closed.

The clients run in `--client-procs` processes of their own, the same ones for every server:
a minimal WebSocket client (`Client`, on uvloop) so that they cost little next to the
server. They offer permessage-deflate as browsers do, unless `--no-deflate`. CPU seconds of
the server and of the clients are read from /proc for each phase.

Diagnosis: `--floors` adds bare Starlette relays on uvicorn WebSocket implementations (with
"+stream", through the product's own `Stream` and `MemoryPubSub`); `--product-ws` serves the
product on another uvicorn WebSocket implementation than `codebattle serve` picks.

Targets: p99 < 250 ms with 1000 clients at 20 messages/s on 2 cores, at least 60% of the
peer's burst throughput, and the 1000 sockets connected in at most 1.5 s (each connection's
time and server CPU printed next to the peer's).

    .venv/bin/python bench/ws_fanout.py [--clients 1000] [--seconds 10] [--rate 20]
        [--burst 200] [--no-deflate] [--redis redis://127.0.0.1:6379/5]
        [--floors websockets,websockets+stream,websockets-sansio] [--product-ws NAME]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import os
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import zlib
from array import array
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

import httpx
import websockets

ROOT = Path(__file__).resolve().parents[1]
PROBLEM = "hello-battle"
CODEBATTLE = str(Path(sys.executable).parent / "codebattle")
MARK = "@T"  # the text of every timed message starts with MARK and the send time
STAMP = 17  # len(f"{time.time():.6f}")
TICKS = os.sysconf("SC_CLK_TCK")
SCRIPT = str(Path(__file__).resolve())


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def raise_nofile(need: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard if hard < need else need, hard))


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def timed_text(i: int, pad: int) -> str:
    return f"{MARK}{time.time():.6f} #{i:06d} " + "x" * pad


# --- the clients (a process of their own) ------------------------------------------------


class Sink:
    """What the sockets of one client process received: a latency per timed message."""

    def __init__(self) -> None:
        self.latencies = array("d")
        self.last = 0.0  # receive time of the last timed message
        self.size = 0  # characters of the last timed message
        self.closed = 0  # sockets closed by the server or failed

    def take(self, raw: str, now: float) -> None:
        j = raw.find(MARK)
        if j >= 0:
            self.latencies.append(now - float(raw[j + 2 : j + 2 + STAMP]))
            self.last, self.size = now, len(raw)


def client_frame(opcode: int, payload: bytes) -> bytes:
    """A masked frame, as a client must send (RFC 6455, 5.3)."""
    mask = os.urandom(4)
    n = len(payload)
    head = bytes([0x80 | opcode]) + (
        bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + n.to_bytes(2, "big")
    )
    masked = (int.from_bytes(payload, "little") ^ int.from_bytes(mask * (n // 4 + 1), "little")
              ).to_bytes(n + 4, "little")[:n]  # fmt: skip
    return head + mask + masked


class Client(asyncio.Protocol):
    """A minimal WebSocket client, so that the clients cost little next to the server: the
    handshake (offering permessage-deflate as browsers do, or not), then unmasked text frames
    from the server, decompressed when they say so; pings answered. Each text frame after the
    first (the welcome) goes to the sink with the time its bytes arrived."""

    TAIL = b"\x00\x00\xff\xff"

    def __init__(self, url: str, headers: dict[str, str], hello: str, deflate: bool,
                 sink: Sink, ready: asyncio.Future[None]) -> None:  # fmt: skip
        self.parts = urlsplit(url)
        self.headers, self.hello, self.deflate = headers, hello, deflate
        self.sink, self.ready = sink, ready
        self.buffer = bytearray()
        self.open = False
        self.leaving = False  # closed by us: not counted as closed by the server
        self.inflate: Any = None
        self.bits = 15
        self.reset = False  # server_no_context_takeover: a fresh decompressor per message
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport = cast(asyncio.Transport, transport)  # uvloop's is not one
        lines = [
            f"GET {self.parts.path} HTTP/1.1", f"Host: {self.parts.netloc}",
            "Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Version: 13",
            f"Sec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}",
            *(f"{k}: {v}" for k, v in self.headers.items()),
        ]  # fmt: skip
        if self.deflate:
            lines.append("Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits")
        transport.write(("\r\n".join(lines) + "\r\n\r\n").encode())

    def data_received(self, data: bytes) -> None:
        now = time.time()
        buffer = self.buffer
        buffer += data
        if not self.open and not self.handshake():
            return
        while len(buffer) >= 2:
            b0, n = buffer[0], buffer[1] & 0x7F
            start = 2
            if n == 126:
                if len(buffer) < 4:
                    return
                n, start = int.from_bytes(buffer[2:4], "big"), 4
            elif n == 127:
                if len(buffer) < 10:
                    return
                n, start = int.from_bytes(buffer[2:10], "big"), 10
            if len(buffer) < start + n:
                return
            payload = bytes(buffer[start : start + n])
            del buffer[: start + n]
            self.frame(b0, payload, now)

    def handshake(self) -> bool:
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return False
        head = self.buffer[:end].decode("latin-1").split("\r\n")
        del self.buffer[: end + 4]
        if " 101 " not in head[0] + " ":
            self.fail(RuntimeError(f"handshake refused: {head[0]}"))
            return False
        for line in head[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "sec-websocket-extensions" and "permessage-deflate" in value:
                bits = 15
                for param in value.split(";"):
                    key, _, arg = param.strip().partition("=")
                    if key == "server_max_window_bits" and arg:
                        bits = int(arg.strip('"'))
                    self.reset |= key == "server_no_context_takeover"
                self.inflate = zlib.decompressobj(wbits=-bits)
                self.bits = bits
        self.open = True
        assert self.transport is not None
        self.transport.write(client_frame(0x1, self.hello.encode()))
        return True

    def frame(self, b0: int, payload: bytes, now: float) -> None:
        opcode = b0 & 0x0F
        assert b0 & 0x80, "fragmented messages are not expected here"
        if opcode == 0x1:
            if b0 & 0x40:  # RSV1: compressed (permessage-deflate)
                payload = self.inflate.decompress(payload + self.TAIL)
                if self.reset:
                    self.inflate = zlib.decompressobj(wbits=-self.bits)
            if not self.ready.done():
                self.ready.set_result(None)  # the welcome
            else:
                self.sink.take(payload.decode(), now)
        elif opcode == 0x9 and self.transport is not None:
            self.transport.write(client_frame(0xA, payload))
        elif opcode == 0x8 and self.transport is not None:
            self.transport.write(client_frame(0x8, payload[:2]))
            self.transport.close()

    def fail(self, exc: Exception) -> None:
        if not self.ready.done():
            self.ready.set_exception(exc)
        if self.transport is not None:
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.sink.closed += not self.leaving
        if not self.ready.done():
            self.ready.set_exception(exc or ConnectionError("closed before the welcome"))


async def client_process() -> None:
    """Commands on stdin, one JSON line each; one JSON line back on stdout for each."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=1 << 20)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    sink = Sink()
    sockets: list[Client] = []

    async def connect(cmd: dict[str, Any]) -> dict[str, Any]:
        gate = asyncio.Semaphore(50)
        parts = urlsplit(cmd["url"])

        async def one() -> None:
            async with gate:
                ready = loop.create_future()
                _, client = await loop.create_connection(
                    lambda: Client(cmd["url"], cmd["headers"], cmd["hello"], cmd["deflate"],
                                   sink, ready),
                    parts.hostname, parts.port,
                )  # fmt: skip
                sockets.append(client)
                await asyncio.wait_for(ready, 120)

        await asyncio.gather(*(one() for _ in range(cmd["n"])))
        return {"connected": cmd["n"]}

    while line := await reader.readline():
        cmd = json.loads(line)
        if cmd["cmd"] == "connect":
            reply = await connect(cmd)
        elif cmd["cmd"] == "count":
            reply = {"count": len(sink.latencies), "closed": sink.closed}
        elif cmd["cmd"] == "take":
            reply = {"latencies": [round(x, 6) for x in sink.latencies], "last": sink.last,
                     "size": sink.size}  # fmt: skip
            del sink.latencies[:]
        elif cmd["cmd"] == "close":
            for client in sockets:
                client.leaving = True
                if client.transport is not None:
                    client.transport.close()
            sockets.clear()
            await asyncio.sleep(0.5)
            sink.closed = 0
            reply = {}
        else:
            break
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


@dataclass
class Clients:
    """The client processes, driven over their stdin / stdout."""

    procs: list[asyncio.subprocess.Process]

    @classmethod
    async def start(cls, count: int) -> Clients:
        procs = [
            await asyncio.create_subprocess_exec(
                sys.executable,
                SCRIPT,
                "--_clients",
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                limit=1 << 28,
            )  # fmt: skip
            for _ in range(count)
        ]
        return cls(procs)

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.procs]

    async def ask(self, proc: asyncio.subprocess.Process, cmd: dict[str, Any]) -> Any:
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write((json.dumps(cmd) + "\n").encode())
        await proc.stdin.drain()
        line = await proc.stdout.readline()
        if not line:
            raise RuntimeError("a client process died")
        return json.loads(line)

    async def all(self, cmd: dict[str, Any]) -> list[Any]:
        return await asyncio.gather(*(self.ask(p, cmd) for p in self.procs))

    async def connect(self, n: int, **cmd: Any) -> float:
        shares = [n // len(self.procs) + (i < n % len(self.procs)) for i in range(len(self.procs))]
        start = time.monotonic()
        asks = [{"cmd": "connect", "n": k, **cmd} for k in shares]
        await asyncio.gather(*(self.ask(p, a) for p, a in zip(self.procs, asks, strict=True)))
        return time.monotonic() - start

    async def wait(self, expected: int, stall: float = 10.0) -> tuple[int, int]:
        """Until `expected` deliveries are in, or none came for `stall` seconds."""
        seen, since = -1, time.monotonic()
        while True:
            counts = await self.all({"cmd": "count"})
            count, closed = sum(c["count"] for c in counts), sum(c["closed"] for c in counts)
            if count >= expected:
                return count, closed
            if count != seen:
                seen, since = count, time.monotonic()
            elif time.monotonic() - since > stall:
                return count, closed
            await asyncio.sleep(0.2)

    async def take(self) -> tuple[list[float], float, int]:
        replies = await self.all({"cmd": "take"})
        latencies = [x for r in replies for x in r["latencies"]]
        return latencies, max(r["last"] for r in replies), max(r["size"] for r in replies)

    async def stop(self) -> None:
        for proc in self.procs:
            with contextlib.suppress(Exception):
                assert proc.stdin is not None
                proc.stdin.write(b'{"cmd": "quit"}\n')
                await proc.stdin.drain()
        for proc in self.procs:
            try:
                await asyncio.wait_for(proc.wait(), 10)
            except TimeoutError:
                proc.kill()


# --- the servers under test ---------------------------------------------------------------


class Product:
    """`codebattle serve` (embedded default: SQLite, in-process pub/sub; or REDIS_URL). With
    `ws`, the same app and settings served on that uvicorn WebSocket implementation instead
    (`serve_product`), to measure a change of `codebattle serve` before making it."""

    def __init__(self, redis: str | None, ws: str | None = None) -> None:
        self.name = f"product[{ws}]" if ws else "product"
        self.ws = ws
        self.data = Path(tempfile.mkdtemp(prefix="cb-bench-ws-"))
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = ""
        self.env = {
            "PATH": os.environ["PATH"],
            "HOME": str(self.data),
            "DATA_DIR": str(self.data / "var"),
            "SECRET_KEY": secrets.token_urlsafe(48),  # production refuses weak keys
            "ENVIRONMENT": "production",
            # Production needs https; the scheme only marks cookies Secure (tokens here).
            "BASE_URL": "https" + self.url.removeprefix("http"),
        }
        if redis:
            self.env["REDIS_URL"] = redis
        self.proc: subprocess.Popen[bytes] | None = None
        self.http: httpx.AsyncClient | None = None
        self.room = 0
        self.headers: dict[str, str] = {}
        self.send_times: list[float] = []  # seconds per announce request

    def cli(self, *args: str) -> str:
        return subprocess.run(
            [CODEBATTLE, *args], env=self.env, cwd=self.data, check=True, capture_output=True,
            text=True,
        ).stdout.strip()  # fmt: skip

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    async def start(self) -> None:
        self.cli("problems", "import", str(ROOT / "problems" / PROBLEM))
        host, watcher = self.cli("users", "token", "host"), self.cli("users", "token", "watcher")
        log = (self.data / "server.log").open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, SCRIPT, "--_serve", str(self.port), "--_asgi", self.ws]
            if self.ws else [CODEBATTLE, "serve", "--port", str(self.port)],
            env=self.env, cwd=self.data, stdout=log, stderr=log, start_new_session=True,
        )  # fmt: skip
        self.http = httpx.AsyncClient(
            base_url=self.url, headers={"Authorization": f"Bearer {host}"}, timeout=60,
            limits=httpx.Limits(max_connections=50),
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while True:
            try:
                if (await self.http.get("/readyz")).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((self.data / "server.log").read_text())
            await asyncio.sleep(0.3)
        reply = await self.http.post("/api/rooms", json={
            "title": "fan-out", "problems": [PROBLEM], "duration_minutes": 60,
            "size_limit": 1000, "public": True,
        })  # fmt: skip
        reply.raise_for_status()
        self.room = reply.json()["id"]
        self.ws_url = f"ws://127.0.0.1:{self.port}/ws/rooms/{self.room}"
        self.headers = {"Authorization": f"Bearer {watcher}"}

    async def hello(self) -> str:
        """Resume from the room's current sequence number: no replay of earlier messages."""
        assert self.http is not None
        seq = (await self.http.get(f"/api/rooms/{self.room}")).json()["seq"]
        return json.dumps({"type": "hello", "last_seq": seq})

    async def send(self, text: str) -> bool:
        """False when the server refused (an error status), or took over a minute."""
        assert self.http is not None
        start = time.monotonic()
        try:
            reply = await self.http.post(f"/api/rooms/{self.room}/announce", json={"text": text})
        except httpx.HTTPError:
            return False
        self.send_times.append(time.monotonic() - start)
        return reply.status_code == 200

    async def stop(self) -> None:
        if self.http is not None:
            await self.http.aclose()
        if self.proc is not None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.report_errors()
        shutil.rmtree(self.data, ignore_errors=True)

    def report_errors(self) -> None:
        """The server's unhandled errors (its JSON log lines), by their first cause."""
        causes: Counter[str] = Counter()
        log = self.data / "server.log"
        for line in log.read_text(errors="replace").splitlines() if log.exists() else []:
            if line.startswith("{") and '"unhandled error"' in line:
                trace = json.loads(line).get("exception", "")
                causes[next((t for t in trace.splitlines() if t[:1] not in " T"), "?")] += 1
        for cause, count in causes.most_common():
            print(f"  {self.name}: server log: {count} x unhandled error, {cause[:120]}")


class Peer:
    """The ceiling: `peer_server` below, in a process of its own (or, with `asgi`, the
    `asgi_floor` server on that uvicorn WebSocket implementation)."""

    def __init__(self, asgi: str | None = None) -> None:
        self.name = f"asgi:{asgi}" if asgi else "peer"
        self.argv = ["--_asgi", asgi] if asgi else []
        self.port = free_port()
        self.ws_url = f"ws://127.0.0.1:{self.port}/room"
        self.headers = {"Authorization": "Bearer peer"}
        self.proc: subprocess.Popen[bytes] | None = None
        self.host: Any = None
        self.seq = 0
        self.send_times: list[float] = []

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    async def start(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, SCRIPT, "--_peer", str(self.port), *self.argv],
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                self.host = await websockets.connect(
                    f"ws://127.0.0.1:{self.port}/host", compression=None, max_size=1 << 22
                )
                return
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.2)

    async def hello(self) -> str:
        return json.dumps({"type": "hello", "last_seq": 0})

    async def send(self, text: str) -> bool:
        """The product's event message, same shape and size: the server relays it as is."""
        self.seq += 1
        start, now = time.monotonic(), time.time()
        event = {"type": "announcement", "at": now, "text": text}
        message = {"v": 1, "type": "event", "seq": self.seq, "event": event, "server_time": now}
        await self.host.send(json.dumps(message, separators=(",", ":"), ensure_ascii=False))
        self.send_times.append(time.monotonic() - start)
        return True

    async def stop(self) -> None:
        if self.host is not None:
            await self.host.close()
        if self.proc is not None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(20)


async def peer_server(port: int) -> None:
    """Every message from /host goes to every other socket; the others get a welcome after
    their hello, then only broadcasts."""
    from websockets.asyncio.server import ServerConnection, broadcast, serve

    room: set[ServerConnection] = set()

    async def handler(ws: ServerConnection) -> None:
        assert ws.request is not None
        if ws.request.path == "/host":
            async for message in ws:
                broadcast(room, message)
            return
        await ws.recv()  # the hello
        await ws.send(json.dumps({"v": 1, "type": "welcome", "seq": 0}))
        room.add(ws)
        try:
            await ws.wait_closed()
        finally:
            room.discard(ws)

    stop = asyncio.get_running_loop().create_future()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set_result, None)
    async with serve(handler, "127.0.0.1", port, max_size=1 << 22, backlog=2048):
        await stop


def serve_product(port: int, ws: str) -> None:
    """What `codebattle serve` does, on another uvicorn WebSocket implementation."""
    import uvicorn

    from codebattle.app import create_app
    from codebattle.config import load_settings
    from codebattle.db.migrate import upgrade
    from codebattle.logs import configure

    settings = load_settings()
    configure(settings)
    upgrade(settings.database_url)
    uvicorn.run(create_app(settings), host="127.0.0.1", port=port, log_config=None, ws=ws)


def asgi_floor(port: int, spec: str) -> None:
    """The same relay as a bare Starlette app on uvicorn (uvloop, httptools), on the uvicorn
    WebSocket implementation named by `spec` (`codebattle serve` uses "websockets"): what
    the framework costs without the product's code; the host's messages go to each socket in
    turn. With "+stream" (e.g. "websockets+stream"), each socket is served by the product's
    own `realtime.stream.Stream` on a `MemoryPubSub` subscription, as the room socket is, and
    the host publishes each message (parsed) there: the product's fan-out path without its
    middleware, HTTP or database."""
    import warnings

    import uvicorn
    from starlette.applications import Starlette
    from starlette.routing import WebSocketRoute
    from starlette.websockets import WebSocket, WebSocketDisconnect

    from codebattle.realtime.pubsub import MemoryPubSub
    from codebattle.realtime.stream import Stream, read_hello

    ws, _, variant = spec.partition("+")
    room: set[WebSocket] = set()
    pubsub = MemoryPubSub()
    welcome = json.dumps({"v": 1, "type": "welcome", "seq": 0})

    async def host(websocket: WebSocket) -> None:
        await websocket.accept()
        with contextlib.suppress(WebSocketDisconnect):
            while True:
                text = await websocket.receive_text()
                if variant:
                    await pubsub.publish("room", json.loads(text))
                    continue
                for member in list(room):
                    with contextlib.suppress(Exception):
                        await member.send_text(text)

    async def member(websocket: WebSocket) -> None:
        await websocket.accept()
        if variant:

            async def nothing(_: Any) -> Any:
                return []

            stream = Stream(websocket, "en", load_since=nothing, handle=nothing, frame_limit=4096)
            async with pubsub.subscribe("room") as messages:
                last_seq = await read_hello(websocket)
                await websocket.send_text(welcome)
                await stream.run(messages, last_seq)
            return
        await websocket.receive_text()  # the hello
        await websocket.send_text(welcome)
        room.add(websocket)
        try:
            while (await websocket.receive())["type"] != "websocket.disconnect":
                pass
        finally:
            room.discard(websocket)

    warnings.filterwarnings("ignore", message="The `websockets` implementation is deprecated")
    app = Starlette(routes=[WebSocketRoute("/host", host), WebSocketRoute("/room", member)])
    uvicorn.run(app, host="127.0.0.1", port=port, ws=ws, log_level="warning", backlog=2048)


# --- the measurements ---------------------------------------------------------------------


@dataclass
class Figures:
    name: str
    clients: int = 0
    size: int = 0
    connect_s: float = 0.0
    connect_server_ms: float = 0.0  # server CPU per connection while they connect
    kib_per_conn: float = 0.0
    p50: float = 0.0
    p99: float = 0.0
    worst: float = 0.0
    rate_delivered: str = ""
    rate_server_cpu: float = 0.0
    rate_client_cpu: float = 0.0
    burst_per_s: float = 0.0
    burst_delivered: str = ""
    burst_server_us: float = 0.0
    burst_client_us: float = 0.0
    closed: int = 0


@contextlib.asynccontextmanager
async def running(server: Product | Peer) -> AsyncIterator[Product | Peer]:
    try:
        await server.start()
        yield server
    finally:
        await server.stop()


def cpu(pids: list[int]) -> float:
    return sum(cpu_seconds(p) for p in pids)


async def measure(server: Product | Peer, clients: Clients, args: argparse.Namespace) -> Figures:
    out = Figures(server.name, clients=args.clients)
    n, pad = args.clients, args.pad

    async def connect(count: int) -> float:
        return await clients.connect(count, url=server.ws_url, headers=server.headers,
                                     hello=await server.hello(), deflate=args.deflate)  # fmt: skip

    # Warm-up: a few sockets, a message, gone; then the memory of N idle sockets.
    await connect(4 * len(clients.procs))
    await server.send(timed_text(0, pad))
    await clients.wait(4 * len(clients.procs), stall=2)
    await clients.all({"cmd": "close"})
    await clients.take()
    server.send_times.clear()
    await asyncio.sleep(1)
    before, server_cpu = rss_kib(server.pid), cpu([server.pid])
    out.connect_s = await connect(n)
    out.connect_server_ms = (cpu([server.pid]) - server_cpu) / n * 1000
    await asyncio.sleep(2)
    out.kib_per_conn = (rss_kib(server.pid) - before) / n
    print(f"  {server.name}: {n} clients connected in {out.connect_s:.2f} s "
          f"({out.connect_server_ms:.2f} ms of server CPU each), "
          f"{out.kib_per_conn:.1f} KiB/connection")  # fmt: skip

    # Fixed rate, open loop: each send starts on time, whether or not the last one is done.
    total = round(args.rate * args.seconds)
    server_cpu, client_cpu = cpu([server.pid]), cpu(clients.pids)
    start = time.monotonic()
    sends = []
    for i in range(total):
        await asyncio.sleep(max(0.0, start + i / args.rate - time.monotonic()))
        sends.append(asyncio.create_task(server.send(timed_text(i, pad))))
    accepted = sum(await asyncio.gather(*sends))
    expected = accepted * n
    count, closed = await clients.wait(expected)
    elapsed = time.monotonic() - start
    out.rate_server_cpu = (cpu([server.pid]) - server_cpu) / elapsed
    out.rate_client_cpu = (cpu(clients.pids) - client_cpu) / elapsed
    latencies, _, out.size = await clients.take()
    # A delivery that never came (its socket was closed as too slow) counts as infinitely late.
    latencies += [float("inf")] * max(0, expected - len(latencies))
    out.p50, out.p99 = percentile(latencies, 50) * 1000, percentile(latencies, 99) * 1000
    out.worst = max(x for x in latencies if x < float("inf")) * 1000
    out.rate_delivered = f"{count}/{expected}" + (
        f" ({total - accepted} sends got an error)" if accepted < total else ""
    )
    sent = server.send_times or [0.0]
    print(f"  {server.name}: rate {args.rate:g}/s for {args.seconds:g} s: p50 {out.p50:.1f} ms, "
          f"p99 {out.p99:.1f} ms, max {out.worst:.0f} ms, {out.rate_delivered} delivered, "
          f"{closed} sockets closed; host's send p50 {percentile(sent, 50) * 1000:.1f} ms, "
          f"p99 {percentile(sent, 99) * 1000:.1f} ms; CPU: server {out.rate_server_cpu:.0%}, "
          f"clients {out.rate_client_cpu:.0%}")  # fmt: skip

    # Burst: as fast as the host can send; the clock runs to the last delivery.
    await asyncio.sleep(1)
    server.send_times.clear()
    server_cpu, client_cpu = cpu([server.pid]), cpu(clients.pids)
    first = time.time()
    accepted = 0
    for i in range(args.burst):
        accepted += await server.send(timed_text(i, pad))
    sent = time.time() - first
    expected = accepted * (n - closed)
    count, out.closed = await clients.wait(expected)
    _, last, _ = await clients.take()
    out.burst_per_s = count / (last - first)
    out.burst_server_us = (cpu([server.pid]) - server_cpu) / count * 1e6
    out.burst_client_us = (cpu(clients.pids) - client_cpu) / count * 1e6
    out.burst_delivered = f"{count}/{expected}" + (
        f" ({args.burst - accepted} sends got an error)" if accepted < args.burst else ""
    )
    print(f"  {server.name}: burst of {args.burst} (sent in {sent:.2f} s): "
          f"{out.burst_per_s:,.0f} deliveries/s over {last - first:.2f} s, "
          f"{out.burst_delivered} delivered, {out.closed} sockets closed; CPU per delivery: "
          f"server {out.burst_server_us:.1f} us, clients {out.burst_client_us:.1f} us")  # fmt: skip
    await clients.all({"cmd": "close"})
    return out


def report(product: Figures, peer: Figures, floors: list[Figures]) -> None:
    width = max(len(f.name) for f in (product, peer, *floors))
    print()
    print(f"{'server':<{width}} {'clients':>7} {'connect s':>9} {'bytes':>6} {'p50 ms':>8} "
          f"{'p99 ms':>8} {'max ms':>8} {'deliveries/s':>13} {'us CPU/deliv':>13} {'KiB/conn':>9} "
          f"{'dropped':>8}")  # fmt: skip
    for f in (product, peer, *floors):
        print(f"{f.name:<{width}} {f.clients:>7} {f.connect_s:>9.2f} {f.size:>6} {f.p50:>8.1f} "
              f"{f.p99:>8.1f} {f.worst:>8.0f} {f.burst_per_s:>13,.0f} {f.burst_server_us:>13.1f} "
              f"{f.kib_per_conn:>9.1f} {f.closed:>8}")  # fmt: skip
    throughput = product.burst_per_s / peer.burst_per_s
    p99 = product.p99 / peer.p99
    met = {True: "met", False: "NOT met"}
    print(f"connecting {product.clients} sockets: product {product.connect_s:.2f} s, peer "
          f"{peer.connect_s:.2f} s ({product.connect_s / peer.connect_s:.1f}x; target <= 1.5 s: "
          f"{met[product.connect_s <= 1.5]})")  # fmt: skip
    print(f"ratio product / peer: throughput {throughput:.2f} (target >= 0.60: "
          f"{met[throughput >= 0.6]}), p99 {p99:.1f}x; product p99 {product.p99:.0f} ms "
          f"(target < 250: {met[product.p99 < 250]})")  # fmt: skip


async def bench(args: argparse.Namespace) -> None:
    clients = await Clients.start(args.client_procs)
    try:
        async with running(Product(args.redis, args.product_ws)) as product:
            ours = await measure(product, clients, args)
        async with running(Peer()) as peer:
            ceiling = await measure(peer, clients, args)
        floors = []
        for ws in filter(None, args.floors.split(",")):
            async with running(Peer(ws)) as floor:
                floors.append(await measure(floor, clients, args))
    finally:
        await clients.stop()
    report(ours, ceiling, floors)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=1000, help="sockets in the room")
    parser.add_argument("--seconds", type=float, default=10, help="length of the rate phase")
    parser.add_argument("--rate", type=float, default=20, help="messages per second")
    parser.add_argument("--burst", type=int, default=200, help="messages in the burst (<256)")
    parser.add_argument("--pad", type=int, default=80, help="characters of text per message")
    parser.add_argument("--client-procs", type=int, default=2, help="client processes")
    parser.add_argument("--no-deflate", dest="deflate", action="store_false",
                        help="clients do not offer permessage-deflate")  # fmt: skip
    parser.add_argument("--redis", help="REDIS_URL for the product (loopback only)")
    parser.add_argument("--_clients", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument(
        "--floors",
        default="",
        help="also measure a bare Starlette relay on "
        "these uvicorn ws implementations, e.g. websockets,websockets-sansio",
    )
    parser.add_argument(
        "--product-ws",
        help="serve the product on this uvicorn ws "
        "implementation (e.g. websockets-sansio) instead of its own choice",
    )
    parser.add_argument("--_peer", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--_serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--_asgi", help=argparse.SUPPRESS)
    args = parser.parse_args()
    raise_nofile(4 * args.clients + 256)
    import uvloop

    if args._clients:
        uvloop.run(client_process())
        return
    if args._serve:
        serve_product(args._serve, args._asgi)
        return
    if args._peer and args._asgi:
        asgi_floor(args._peer, args._asgi)
        return
    if args._peer:
        uvloop.run(peer_server(args._peer))
        return
    if args.redis and urlsplit(args.redis).hostname not in ("127.0.0.1", "localhost", "::1"):
        parser.error("--redis: loopback addresses only")
    print(
        f"{args.clients} clients in one room, {args.client_procs} client processes, "
        f"deflate {'on' if args.deflate else 'off'}, {'Redis' if args.redis else 'embedded'}"
    )
    asyncio.run(bench(args))


if __name__ == "__main__":
    main()
