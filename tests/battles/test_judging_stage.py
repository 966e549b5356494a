"""A duel shows the stage of a player's submission (issue 18): the match socket's ephemeral
`judging` message says "compiling" once a worker started, then "running" with the tests
done; one per submission and batch (its latest change). On SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from codebattle.battles import live
from codebattle.db.session import Database
from codebattle.submissions import recording
from tests.battles.test_verdicts_once import running_duel, submit

TEST = {"name": "secret/1", "verdict": "AC", "time": 0.01, "memory": 5, "sample": False}


async def test_judging_says_compiling_then_running(db: Database, tmp_path: Path) -> None:
    duel = await running_duel(db, tmp_path)
    sent: list[dict[str, Any]] = []

    async def publish(channel: str, message: dict[str, Any]) -> None:
        if channel == live.channel(duel.match_id) and message["type"] == "judging":
            sent.append({k: message[k] for k in ("user", "submission", "stage", "tests_done")})

    duel.services.pubsub.publish = publish
    sub = await submit(duel, duel.alice)
    batches: list[list[dict[str, Any]]] = [
        [{"submission": sub, "type": "started"}],
        [{"submission": sub, "type": "compiled"},
         {"submission": sub, "type": "test", "index": 0, "test": TEST}],
        [{"submission": sub, "type": "compiled"}],  # late: the page keeps its count
    ]  # fmt: skip
    for events in batches:
        async with db.session() as session:
            found = await recording.record_batch(session, events)  # type: ignore[arg-type]
        await live.on_judge_results(duel.services, [r for r in found if r is not None])
    me = {"user": duel.alice.id, "submission": sub}
    assert sent == [
        {**me, "stage": "compiling", "tests_done": 0},
        {**me, "stage": "running", "tests_done": 1},
        {**me, "stage": "running", "tests_done": 0},
    ]
