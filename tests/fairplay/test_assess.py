"""Fair play's assessment of finished rated duels, on SQLite and PostgreSQL (the pass the
server runs, `runtime.fair_play_pass`): a renamed copy of the opponent's solution pasted
from outside is flagged high with its evidence and the game's rating is held; a typed
independent solution is not flagged and the game is rated; each assessment and each
settlement happens once, however many passes run at once; GPTZero's answer is cached by
content and a missing key marks the signal unavailable."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import func, select

from codebattle import runtime
from codebattle.battles import service as battles
from codebattle.battles.models import ChatMessage, MatchEvent, MatchRow
from codebattle.config import Settings
from codebattle.db.session import Database
from codebattle.fairplay import assess, telemetry
from codebattle.fairplay.models import AITextResult, Flag, RiskAssessment
from codebattle.progress.models import RatingChange
from tests.fairplay.test_examine import (
    ALICE,
    BOB_COPY,
    BOB_OWN,
    Duel,
    Services,
    running_duel,
    submit,
)
from tests.support.fake_gptzero import FakeGPTZero


def done(submission_id: int) -> Any:
    """The judge's last event for an accepted submission: all 22 tests of the duel."""
    tests = [{"name": f"secret/{i}", "verdict": "AC", "time": 0.01, "memory": 1024,
              "sample": False} for i in range(22)]  # fmt: skip
    result = {"verdict": "AC", "compile_output": "", "message": "", "tests_total": 22,
              "judge_time": 0.1, "tests": tests}  # fmt: skip
    return {"submission": submission_id, "type": "done", "result": result}


def typing_of(code: str, start_ms: int) -> list[dict[str, Any]]:
    """Telemetry of someone typing `code` in bursts of 5 s, with the odd look elsewhere."""
    events: list[dict[str, Any]] = []
    at, left = start_ms, len(code)
    while left > 0:
        chunk = min(left, 90)
        events.append({"kind": "typing", "at": at, "span": 5000, "chars": chunk, "deletes": 3})
        at, left = at + 5000, left - chunk
    events.append({"kind": "run", "at": at})
    return events


def pasted(code: str, at_ms: int) -> list[dict[str, Any]]:
    """Telemetry of a player who looked away, came back and pasted `code` from outside."""
    return [
        {"kind": "typing", "at": at_ms - 20000, "span": 3000, "chars": 12, "deletes": 0},
        {"kind": "blur", "at": at_ms - 15000},
        {"kind": "focus", "at": at_ms - 2000},
        {"kind": "paste", "at": at_ms, "chars": len(code), "lines": code.count("\n"),
         "internal": False},
    ]  # fmt: skip


async def store(duel: Duel, user_id: int, events: list[dict[str, Any]], settings: Settings) -> None:
    async with duel.db.session() as session:
        await telemetry.store(session, user_id, events, match_id=duel.match_id, settings=settings)
        await session.commit()


async def finish(services: Any, duel: Duel, alice_code: str, bob_code: str) -> tuple[int, int]:
    """Alice solves first, then Bob (their telemetry stored before); the duel ends when
    the first accepted verdict is recorded... so Bob submits while it runs."""
    now_ms = int(time.time() * 1000)
    await store(duel, duel.alice.id, typing_of(alice_code, now_ms - 600_000), services.settings)
    mine = await submit(duel, duel.alice, alice_code)
    theirs = await submit(duel, duel.bob, bob_code)
    await runtime.record_and_pass_on(services, [done(mine)])
    await runtime.record_and_pass_on(services, [done(theirs)])
    return mine, theirs


async def rows(db: Database, model: Any) -> list[Any]:
    async with db.reading() as session:
        return list(await session.scalars(select(model).order_by(model.id)))


async def log_types(db: Database, match_id: int) -> list[str]:
    async with db.reading() as session:
        return [e.type for e in await battles.events_since(session, match_id, 0)]


async def test_a_pasted_renamed_copy_is_flagged_high_and_the_rating_held(
    db: Database, tmp_path: Path
) -> None:
    duel = await running_duel(db, tmp_path)
    services: Any = Services(db, tmp_path, duel.blobs)
    await store(duel, duel.bob.id, pasted(BOB_COPY, int(time.time() * 1000)), services.settings)
    mine, theirs = await finish(services, duel, ALICE, BOB_COPY)
    async with db.reading() as session:
        row = await session.get(MatchRow, duel.match_id)
        assert row is not None and row.rating_state == battles.RATING_PENDING
    assert "rated" not in await log_types(db, duel.match_id)  # not before fair play looked

    assert await runtime.fair_play_pass(services) == (2, 1)
    types = await log_types(db, duel.match_id)
    assert types[-1] == "rating_held" and "rated" not in types
    assert await rows(db, RatingChange) == []  # held: nobody's rating moved

    by_key = {a.key: a for a in await rows(db, RiskAssessment)}
    bob_game = by_key[assess.game_key(duel.match_id, duel.bob.id)]
    assert bob_game.level == "high" and bob_game.submission_id == theirs
    signals = {s["signal"]: s for s in bob_game.signals}
    [copied] = [m for m in signals["similarity"]["evidence"]["matches"] if m["same_game"]]
    assert copied["other_submission_id"] == mine and copied["other_user_id"] == duel.alice.id
    assert copied["score"] >= 0.8 and copied["fragments"]["submission"]
    assert signals["paste"]["contribution"] > 0
    assert signals["paste"]["evidence"]["pastes"][0]["internal"] is False
    assert signals["ai_text"]["status"] == "unavailable"  # no key: nothing invented
    alice_game = by_key[assess.game_key(duel.match_id, duel.alice.id)]
    assert alice_game.level != "high"

    [flag] = [f for f in await rows(db, Flag) if f.user_id == duel.bob.id]
    assert flag.level == "high" and flag.match_id == duel.match_id
    assert flag.reasons[0]["signal"] == "similarity"


async def test_a_typed_independent_solution_is_rated_and_not_flagged(
    db: Database, tmp_path: Path
) -> None:
    duel = await running_duel(db, tmp_path)
    services: Any = Services(db, tmp_path, duel.blobs)
    now_ms = int(time.time() * 1000)
    await store(duel, duel.bob.id, typing_of(BOB_OWN, now_ms - 500_000), services.settings)
    await finish(services, duel, ALICE, BOB_OWN)
    assert await runtime.fair_play_pass(services) == (2, 1)
    assert (await log_types(db, duel.match_id))[-1] == "rated"
    assert len(await rows(db, RatingChange)) == 2
    assert {a.level for a in await rows(db, RiskAssessment)} == {"none"}
    assert await rows(db, Flag) == []
    assert await runtime.fair_play_pass(services) == (0, 0)  # settled once


async def test_passes_at_once_assess_and_settle_once(db: Database, tmp_path: Path) -> None:
    duel = await running_duel(db, tmp_path)
    services: Any = Services(db, tmp_path, duel.blobs)
    await finish(services, duel, ALICE, BOB_OWN)
    ctx = assess.Context(db, duel.blobs, services.settings)
    settled = await asyncio.gather(*(assess.settle_match(ctx, duel.match_id) for _ in range(4)))
    assert sorted(len(s) for s in settled) == [0, 0, 0, 1]
    async with db.reading() as session:
        kinds = await session.execute(
            select(MatchEvent.type, func.count())
            .where(MatchEvent.match_id == duel.match_id)
            .group_by(MatchEvent.type)
        )
        assert dict(kinds.all())["rated"] == 1
    keys = [a.key for a in await rows(db, RiskAssessment)]
    assert len(keys) == len(set(keys)) == 4  # two submissions, two players' games


async def test_without_telemetry_the_editor_signals_are_unavailable(
    db: Database, tmp_path: Path
) -> None:
    duel = await running_duel(db, tmp_path)
    services: Any = Services(db, tmp_path, duel.blobs)
    mine = await submit(duel, duel.alice, ALICE)
    await runtime.record_and_pass_on(services, [done(mine)])
    found = await assess.assess_submission(assess.Context(db, duel.blobs, services.settings), mine)
    assert found is not None
    statuses = {s["signal"]: s["status"] for s in found.signals}
    assert statuses["paste"] == statuses["burst"] == "unavailable"
    assert statuses["solve_time"] == "unavailable"  # fewer than 10 other solves
    assert found.level == "none"


PROSE = '''"""Solution to the island counting problem.

This implementation performs an iterative depth-first search over the grid, marking each
visited land cell so that every island is counted exactly once. It also tracks the size of
the largest island encountered during the traversal, which is reported alongside the count.
The approach runs in linear time with respect to the number of cells in the grid.
"""
'''


@pytest.fixture
def gptzero() -> Any:
    with FakeGPTZero() as server:
        yield server


async def test_gptzero_is_asked_once_per_text_and_its_answer_is_evidence(
    db: Database, tmp_path: Path, gptzero: Any
) -> None:
    duel = await running_duel(db, tmp_path)
    services: Any = Services(db, tmp_path, duel.blobs)
    services.settings = services.settings.model_copy(
        update={"GPTZERO_API_KEY": SecretStr(gptzero.api_key), "GPTZERO_API_URL": gptzero.base_url}
    )
    mine = await submit(duel, duel.alice, PROSE + ALICE)
    theirs = await submit(duel, duel.bob, PROSE + BOB_OWN)
    await runtime.record_and_pass_on(services, [done(mine)])
    await runtime.record_and_pass_on(services, [done(theirs)])
    assert await runtime.fair_play_pass(services) == (2, 1)
    assert len(gptzero.requests) == 1  # the same prose: asked once, then from the cache
    assert len(await rows_by_hash(db)) == 1
    [first, _second] = [a for a in await rows(db, RiskAssessment) if a.scope == "submission"]
    ai = {s["signal"]: s for s in first.signals}["ai_text"]
    assert ai["status"] == "ok" and ai["evidence"]["predicted_class"]
    assert 0 <= ai["evidence"]["completely_generated_prob"] <= 1


async def rows_by_hash(db: Database) -> list[AITextResult]:
    async with db.reading() as session:
        return list(await session.scalars(select(AITextResult)))


async def test_a_match_whose_assessment_keeps_failing_is_rated_all_the_same(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    duel = await running_duel(db, tmp_path)
    services: Any = Services(db, tmp_path, duel.blobs)
    await finish(services, duel, ALICE, BOB_OWN)
    calls: list[int] = []

    async def broken(ctx: Any, submission_id: int) -> None:
        calls.append(submission_id)
        raise RuntimeError("a bug in a signal")

    monkeypatch.setattr(assess, "assess_submission", broken)
    failures: dict[str, int] = {}
    for _ in range(runtime.FAIR_PLAY_TRIES):  # each pass fails
        assert await runtime.fair_play_pass(services, failures) == (0, 0)
    assert "rated" not in await log_types(db, duel.match_id)
    assert await runtime.fair_play_pass(services, failures) == (0, 1)  # given up: rated
    assert (await log_types(db, duel.match_id))[-1] == "rated"
    flags = await rows(db, Flag)  # ... and a person is asked to look at it
    assert {f.user_id for f in flags} == {duel.alice.id, duel.bob.id}
    assert {f.reasons[0]["signal"] for f in flags} == {"assessment_failed"}
    tried = len(calls)
    assert await runtime.fair_play_pass(services, failures) == (0, 0)
    assert len(calls) == tried  # the submissions given up are not tried again


CHAT = [
    "Certainly! Here is a concise overview of the approach I am taking for this problem.",
    "First, I parse the grid and then perform an iterative depth-first search over it.",
    "Each island is counted exactly once because every visited cell is marked as seen.",
    "Finally, the largest island's size is tracked and reported alongside the count.",
]


async def test_an_operator_asks_gptzero_about_a_players_chat(
    db: Database, tmp_path: Path, gptzero: Any
) -> None:
    duel = await running_duel(db, tmp_path)
    settings = Services(db, tmp_path, duel.blobs).settings
    async with db.session() as session:
        for n, line in enumerate(CHAT):
            session.add(ChatMessage(match_id=duel.match_id, channel="players",
                                    user_id=duel.bob.id, text=line, at=float(n)))  # fmt: skip
        await session.commit()
    keyless = assess.Context(db, duel.blobs, settings)
    assert (await assess.chat_ai_text(keyless, duel.match_id, duel.bob.id, ask=True)).status == (
        "unavailable"
    )  # no key: nothing invented
    ctx = assess.Context(db, duel.blobs, settings.model_copy(update={
        "GPTZERO_API_KEY": SecretStr(gptzero.api_key), "GPTZERO_API_URL": gptzero.base_url,
    }))  # fmt: skip
    shown = await assess.chat_ai_text(ctx, duel.match_id, duel.bob.id)  # a page: no call
    assert shown.evidence["status"] == "not_asked" and gptzero.requests == []
    asked = await assess.chat_ai_text(ctx, duel.match_id, duel.bob.id, ask=True)
    assert asked.status == "ok" and asked.evidence["predicted_class"] == "ai"
    assert gptzero.requests[0].body["document"] == "\n".join(CHAT)
    again = await assess.chat_ai_text(ctx, duel.match_id, duel.bob.id)  # cached now
    assert again.evidence == asked.evidence and len(gptzero.requests) == 1
    short = await assess.chat_ai_text(ctx, duel.match_id, duel.alice.id, ask=True)
    assert short.status == "not_applicable" and len(gptzero.requests) == 1  # nothing said


async def test_a_copy_judged_before_its_original_waits_for_it(db: Database, tmp_path: Path) -> None:
    duel = await running_duel(db, tmp_path)
    services: Any = Services(db, tmp_path, duel.blobs)
    await store(duel, duel.bob.id, pasted(BOB_COPY, int(time.time() * 1000)), services.settings)
    original = await submit(duel, duel.alice, ALICE)
    copy = await submit(duel, duel.bob, BOB_COPY)
    await runtime.record_and_pass_on(services, [done(copy)])  # the copy is judged first
    assert await runtime.fair_play_pass(services) == (0, 0)  # it waits for the original's
    await runtime.record_and_pass_on(services, [done(original)])
    assert await runtime.fair_play_pass(services) == (2, 1)
    by_key = {a.key: a for a in await rows(db, RiskAssessment)}
    copied = by_key[assess.submission_key(copy)]
    [alike] = {s["signal"]: s for s in copied.signals}["similarity"]["evidence"]["matches"]
    assert alike["other_submission_id"] == original and alike["same_game"]
    assert by_key[assess.submission_key(original)].level == "none"


async def test_a_match_given_up_is_held_when_a_stored_assessment_is_high(
    db: Database, tmp_path: Path
) -> None:
    duel = await running_duel(db, tmp_path)
    services: Any = Services(db, tmp_path, duel.blobs)
    await store(duel, duel.bob.id, pasted(BOB_COPY, int(time.time() * 1000)), services.settings)
    mine, theirs = await finish(services, duel, ALICE, BOB_COPY)
    ctx = assess.Context(db, duel.blobs, services.settings)
    for submission_id in (mine, theirs):
        await assess.assess_submission(ctx, submission_id)
    bob = await assess.assess_player_in_match(ctx, duel.match_id, duel.bob.id)
    assert bob.level == "high"  # stored before the assessment of the rest failed
    entries = await assess.settle_unassessed(ctx, duel.match_id)
    assert [e.type for e in entries] == ["rating_held"]
    assert [f.user_id for f in await rows(db, Flag) if f.key.startswith("failed:")] == [
        duel.alice.id
    ]  # bob's game has its own flag


async def test_a_match_waits_for_a_submission_still_being_judged(
    db: Database, tmp_path: Path
) -> None:
    duel = await running_duel(db, tmp_path)
    services: Any = Services(db, tmp_path, duel.blobs)
    original = await submit(duel, duel.alice, ALICE)
    copy = await submit(duel, duel.bob, BOB_COPY)  # made before the end, judged after it
    await runtime.record_and_pass_on(services, [done(original)])
    assert await runtime.fair_play_pass(services) == (1, 0)  # the match waits for the copy
    await runtime.record_and_pass_on(services, [done(copy)])
    assert await runtime.fair_play_pass(services) == (1, 1)
    by_key = {a.key: a for a in await rows(db, RiskAssessment)}
    assert by_key[assess.game_key(duel.match_id, duel.bob.id)].submission_id == copy
