"""The room state machine, pure: no database, the time passed in."""

from __future__ import annotations

import pytest

from codebattle.errors import UserError
from codebattle.judge.verdicts import Verdict
from codebattle.rooms import fsm

T0 = 1_000_000.0


def room(**changes: object) -> fsm.Room:
    made = fsm.Room(host=1, duration=600.0, size_limit=2, public=True, code="abcd1234")
    for name, value in changes.items():
        setattr(made, name, value)
    return made


def test_a_room_opens_runs_and_ends_by_the_host_or_the_time() -> None:
    r = room()
    assert fsm.start(r, T0) == [{"type": "started", "at": T0, "ends_at": T0 + 600}]
    assert (r.state, r.starts_at, r.ends_at) == (fsm.State.running, T0, T0 + 600)
    with pytest.raises(UserError) as again:
        fsm.start(r, T0 + 1)
    assert (again.value.status, again.value.key) == (409, "room_started")
    assert fsm.tick(r, T0 + 599) == []
    # The time ends it at its end, whenever the tick comes.
    assert fsm.tick(r, T0 + 700) == [{"type": "ended", "at": T0 + 600, "reason": "time"}]
    assert r.state == fsm.State.ended and fsm.tick(r, T0 + 800) == []
    hosted = room(state=fsm.State.running, starts_at=T0, ends_at=T0 + 600)
    assert fsm.end(hosted, T0 + 5) == [{"type": "ended", "at": T0 + 5, "reason": "host"}]
    assert hosted.ends_at == T0 + 5
    with pytest.raises(UserError) as not_running:
        fsm.end(room(), T0)
    assert not_running.value.key == "room_not_running"


def test_joining_needs_the_code_of_a_private_room_a_place_and_a_room_not_over() -> None:
    r = room(public=False)
    with pytest.raises(UserError) as wrong:
        fsm.join(r, 2, "two", "nope", T0)
    assert (wrong.value.status, wrong.value.key) == (403, "room_code_wrong")
    assert fsm.join(r, 2, "two", "abcd1234", T0) == [
        {"type": "joined", "at": T0, "user": 2, "nickname": "two"}
    ]
    fsm.join(r, 3, "three", "abcd1234", T0)
    with pytest.raises(UserError) as full:
        fsm.join(r, 4, "four", "abcd1234", T0)
    assert (full.value.key, full.value.params) == ("room_full", {"limit": 2})
    assert r.members == 2
    with pytest.raises(UserError) as over:
        fsm.join(room(state=fsm.State.ended), 2, "two", None, T0)
    assert over.value.key == "room_ended"


def test_scoring_is_icpc_style_and_counts_by_when_a_submission_was_made() -> None:
    r = room(state=fsm.State.running, starts_at=T0, ends_at=T0 + 600)
    score = fsm.Score()

    def judged(verdict: Verdict, made: float, now: float = T0 + 1000) -> list[fsm.Event]:
        return fsm.result(
            r, score, user=2, version=7, problem=0, verdict=verdict, submitted_at=made, now=now
        )

    # A compile error or a judge fault costs nothing and says nothing.
    assert judged(Verdict.CE, T0 + 10) == [] and judged(Verdict.IE, T0 + 10) == []
    [attempt] = judged(Verdict.WA, T0 + 20)
    assert (attempt["type"], attempt["verdict"], attempt["problem"]) == ("attempt", "WA", 0)
    # Made before the end, judged after it (and after the tick): it counts.
    fsm.tick(r, T0 + 900)
    [solved] = judged(Verdict.AC, T0 + 120)
    assert solved["type"] == "solved" and score.solved == 1
    assert score.penalty == 120 + fsm.PENALTY_PER_REJECTION
    assert score.board == {"7": {"rejected": 1, "solved_at": 120.0}}
    # Once solved, nothing more; made after the end, nothing at all.
    assert judged(Verdict.WA, T0 + 130) == [] and judged(Verdict.AC, T0 + 601) == []
    assert fsm.result(
        room(), fsm.Score(), user=2, version=7, problem=0, verdict=Verdict.AC,
        submitted_at=T0, now=T0,
    ) == []  # fmt: skip


def test_submissions_stop_at_the_end_even_before_the_tick() -> None:
    r = room(state=fsm.State.running, starts_at=T0, ends_at=T0 + 600)
    assert fsm.accepts_submissions(r, T0 + 599)
    assert not fsm.accepts_submissions(r, T0 + 600)
    assert r.state == fsm.State.running  # only the tick changes the room
    assert not fsm.accepts_submissions(room(), T0)


def test_announcements_are_events_of_any_state() -> None:
    for state in fsm.State:
        assert fsm.announce(room(state=state), "hi", T0) == [
            {"type": "announcement", "at": T0, "text": "hi"}
        ]
