"""The match socket: resume from a sequence number, players act, spectators only watch,
broken frames get an error and the connection survives."""

from __future__ import annotations

import asyncio

from fastapi.testclient import TestClient
from sqlalchemy import select

from codebattle.accounts import service as accounts
from codebattle.battles import fsm
from codebattle.battles import service as battles
from codebattle.config import Settings
from codebattle.db.session import Database
from codebattle.problems.models import Problem
from tests.platform.conftest import sign_in


def make_match(settings: Settings) -> tuple[int, int, int]:
    async def run() -> tuple[int, int, int]:
        db = Database(settings.database_url)
        try:
            async with db.session() as session:
                problem = await session.scalar(
                    select(Problem).where(Problem.slug == "hello-battle")
                )
                assert problem is not None and problem.current_version_id is not None
                a = await accounts.sign_in_nickname(session, "alice", "en")
                b = await accounts.sign_in_nickname(session, "bob", "en")
                row = await battles.create(
                    session, mode="ranked", problem_id=problem.id,
                    problem_version_id=problem.current_version_id,
                    settings=fsm.Settings(tests=22, countdown=0.5, duration=60), rated=True,
                )  # fmt: skip
                for user in (a.id, b.id):
                    await battles.apply(session, row.id, {"type": "join", "user": user})
                return row.id, a.id, b.id
        finally:
            await db.dispose()

    return asyncio.run(run())


def events(ws: object, until: str) -> list[dict[str, object]]:
    seen = []
    while True:
        message = ws.receive_json()  # type: ignore[attr-defined]
        if message["type"] == "event":
            seen.append(message)
            if message["event"]["type"] == until:
                return seen


def test_players_act_spectators_watch_and_resume_misses_nothing(
    client: TestClient, app_settings: Settings
) -> None:
    match_id, _a, _b = make_match(app_settings)
    # One client (the app's event loop), signed in as each person in turn; a socket keeps
    # the cookies it was opened with.
    url = f"/ws/matches/{match_id}"
    sign_in(client, "alice")
    with client.websocket_connect(url) as alice_ws:
        alice_ws.send_text('{"type": "hello", "last_seq": 0}')
        welcome = alice_ws.receive_json()
        assert welcome["role"] == "player" and welcome["v"] == 1 and "server_time" in welcome
        joined = events(alice_ws, "joined")
        joined += events(alice_ws, "joined")
        assert [m["seq"] for m in joined] == [1, 2]  # the log so far
        alice_ws.send_text('{"type": "ready"}')
        alice_ws.send_text("{broken")
        alice_ws.send_text('{"type": "fly"}')
        alice_ws.send_text("x" * 5000)
        errors = set()
        while len(errors) < 2:
            message = alice_ws.receive_json()
            if message["type"] == "error":
                errors.add(message["code"])
        assert errors == {"bad_frame", "unknown_action"}
    # Alice's socket closed: she is disconnected (an event). The watcher resumes from seq 2.
    client.cookies.clear()
    sign_in(client, "carol")
    with client.websocket_connect(url) as spectator:
        spectator.send_text('{"type": "hello", "last_seq": 2}')
        welcome = spectator.receive_json()
        assert welcome["role"] == "spectator" and welcome["seq"] >= 3  # alice's "ready"
        spectator.send_text('{"type": "give_up"}')
        seqs, refused = [], False
        while not (refused and seqs and seqs[-1] >= welcome["seq"]):
            message = spectator.receive_json()
            if message["type"] == "error":
                refused = message["code"] == "not_a_player"
            elif message["type"] == "event":
                seqs.append(message["seq"])
        assert seqs == list(range(3, seqs[-1] + 1))  # from 3 on: nothing missed, no repeat
    client.cookies.clear()
    sign_in(client, "bob")
    with client.websocket_connect(url) as bob_ws:
        bob_ws.send_text('{"type": "hello", "last_seq": 0}')
        bob_ws.receive_json()
        bob_ws.send_text('{"type": "ready"}')
        log = events(bob_ws, "started")  # the server ends the countdown on its own clock
        bob_ws.send_text('{"type": "give_up"}')
        log += events(bob_ws, "finished")
        assert [m["seq"] for m in log] == list(range(1, len(log) + 1))
        assert log[-1]["event"]["reason"] == "gave_up"
