"""The virtual players of the load test; run by bench/load.py, which starts the site and
writes the configuration this file reads (LOAD_CONFIG: API addresses, one API token per
user, the rooms and their codes).

`Player` does, by weight: practice submissions (3), duels against the AI (1) and room play
(2). Each of its submissions is polled (GET /api/submissions/{id}) until done, and the time
from the POST to the verdict is reported as its own entry ("practice: submit→verdict", ...),
beside the HTTP requests. Users are spread over the API instances in turn.

`Healthz` is the bare figure: GET /healthz without pause, against the first instance.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import time
import uuid
from pathlib import Path
from typing import Any

from locust import FastHttpUser, between, constant, task
from locust.exception import StopUser

CONFIG: dict[str, Any] = json.loads(Path(os.environ["LOAD_CONFIG"]).read_text())
PROBLEM = CONFIG["problem"]
POLL_SECONDS = 0.3  # between polls of a submission (a browser would hold its socket)
VERDICT_WAIT = 90.0  # a submission not done by then counts as a failure
MATCH_WAIT = 90.0  # nor a duel not over by then
FLOW = "FLOW"  # request type of the submit→verdict and start→end entries
_seats = itertools.count()  # each user takes the next token, instance and room


def solution(tag: str) -> str:
    # A distinct comment per submission: nothing is served from a cache.
    return f"# {tag}\na, b = map(int, input().split())\nprint(a + b)\n"


def wrong(tag: str) -> str:
    return f"# {tag}\nprint(0)\n"


class Failed(Exception):
    """An answer a player would call broken (reported as the entry's failure)."""


class Player(FastHttpUser):
    wait_time = between(1.0, 3.0)  # a player reads the verdict, edits, submits again

    def on_start(self) -> None:
        seat = next(_seats)
        if seat >= len(CONFIG["tokens"]):
            raise StopUser()  # more users than tokens: load.py makes one per user
        self.base = CONFIG["hosts"][seat % len(CONFIG["hosts"])]
        self.headers = {"Authorization": f"Bearer {CONFIG['tokens'][seat]}"}
        self.room = CONFIG["rooms"][seat % len(CONFIG["rooms"])]
        self.joined = False

    # --- helpers ------------------------------------------------------------------------

    def call(self, method: str, path: str, name: str, body: Any = None,
             ok: tuple[int, ...] = (200, 201)) -> tuple[int, Any]:  # fmt: skip
        """One request; a status outside `ok` is a failure. (status, JSON body)."""
        with self.client.request(
            method, self.base + path, name=name, headers=self.headers, json=body,
            catch_response=True,
        ) as reply:  # fmt: skip
            if reply.status_code not in ok:
                reply.failure(f"{reply.status_code}: {(reply.text or '')[:200]}")
                return reply.status_code, None
            reply.success()
            return reply.status_code, reply.json() if reply.text else None

    def flow(self, name: str, started: float, error: str | None = None) -> None:
        """Report a whole step (submit→verdict, a duel's start→end) as one entry."""
        self.environment.events.request.fire(
            request_type=FLOW, name=name, response_time=(time.monotonic() - started) * 1000,
            response_length=0, exception=Failed(error) if error else None, context={},
        )  # fmt: skip

    def submit_and_wait(self, kind: str, extra: dict[str, Any], good: bool) -> str | None:
        """Submit, poll to the verdict; reports "<kind>: submit→verdict". The verdict, or
        None if the submission was refused (a duel that ended first) or failed."""
        tag = f"{kind}-{uuid.uuid4().hex}"
        body = {"problem": PROBLEM, "language": "python",
                "code": solution(tag) if good else wrong(tag), **extra}  # fmt: skip
        started = time.monotonic()
        ok = (201, 409) if kind == "duel" else (201,)
        status, created = self.call("POST", "/api/submissions", f"POST /api/submissions [{kind}]",
                                    body, ok=ok)  # fmt: skip
        if status != 201:
            return None
        deadline = started + VERDICT_WAIT
        while time.monotonic() < deadline:
            status, data = self.call("GET", f"/api/submissions/{created['id']}",
                                     "GET /api/submissions/{id}")  # fmt: skip
            if data is not None and data.get("status") == "done":
                expected = "AC" if good else "WA"
                error = None if data["verdict"] == expected else f"verdict {data['verdict']}"
                self.flow(f"{kind}: submit→verdict", started, error)
                return str(data["verdict"])
            time.sleep(POLL_SECONDS)
        self.flow(f"{kind}: submit→verdict", started, f"no verdict in {VERDICT_WAIT:.0f} s")
        return None

    # --- what players do ----------------------------------------------------------------

    @task(3)
    def practice(self) -> None:
        self.submit_and_wait("practice", {}, good=random.random() < 0.8)

    @task(1)
    def duel(self) -> None:
        """A game against the (offline, fast) AI: wait for the countdown, submit a solution,
        wait until the game is over. Easy AI: the player usually submits first."""
        started = time.monotonic()
        status, created = self.call("POST", "/api/matches/ai", "POST /api/matches/ai",
                                    {"level": "easy"})  # fmt: skip
        if created is None:
            return
        path = f"/api/matches/{created['id']}"
        submitted = False
        deadline = started + MATCH_WAIT
        while time.monotonic() < deadline:
            _, match = self.call("GET", path, "GET /api/matches/{id}")
            state = match and match["state"]
            if state in ("finished", "cancelled"):
                self.flow("duel: start→end", started)
                return
            if state == "running" and not submitted:
                submitted = True
                self.submit_and_wait("duel", {"match": created["id"]}, good=True)
                continue
            time.sleep(POLL_SECONDS)
        self.flow("duel: start→end", started, f"not over in {MATCH_WAIT:.0f} s")

    @task(2)
    def room_play(self) -> None:
        """Join the user's room once (by its code), then submit in it and read the
        leaderboard, as the room page does after a verdict."""
        if not self.joined:
            status, _ = self.call("POST", "/api/rooms/join", "POST /api/rooms/join",
                                  {"code": self.room["code"]})  # fmt: skip
            if status != 200:
                return
            self.joined = True
        self.submit_and_wait("room", {"room": self.room["id"]}, good=random.random() < 0.7)
        self.call("GET", f"/api/rooms/{self.room['id']}", "GET /api/rooms/{id}")


class Healthz(FastHttpUser):
    """The bare figure: the cheapest request, as fast as the users can send it."""

    wait_time = constant(0)

    @task
    def healthz(self) -> None:
        self.client.get(CONFIG["hosts"][0] + "/healthz", name="GET /healthz")
