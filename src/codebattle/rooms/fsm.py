"""The room state machine: open → running → ended.

Pure and synchronous, as the match's (battles/fsm.py, decision 0006): each function takes
the room (and, for a result, the member's score), the server's `now`, and returns the events
that happened (for the room's event log), changing its arguments in place, or raises
UserError with the code clients and translations know. The room service runs it inside one
database transaction with the room row locked; who may act (the host, a member) is the
service's check, what the room's state allows is this machine's.

Scoring is ICPC style: the leaderboard ranks by problems solved, then penalty time (from
the start to each solve, plus 20 minutes per rejected attempt before it; compile errors and
judge faults do not count). A submission counts by when it was made (`made_in_time`, the rule
matches follow too), even when judged after the end.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from codebattle.battles.fsm import made_in_time
from codebattle.errors import UserError
from codebattle.judge.verdicts import Verdict

Event = dict[str, Any]
PENALTY_PER_REJECTION = 20 * 60.0
NOT_ATTEMPTS = frozenset({Verdict.CE, Verdict.IE})  # verdicts that cost no penalty


class State(StrEnum):
    open = "open"
    running = "running"
    ended = "ended"


LISTED = (State.open, State.running)  # rooms the public list shows


@dataclass
class Room:
    host: int
    duration: float  # seconds
    size_limit: int
    public: bool
    code: str  # the invite code
    state: State = State.open
    starts_at: float | None = None
    ends_at: float | None = None
    members: int = 0


@dataclass
class Score:
    """A member's standing: per problem (by position in the room), rejected attempts and
    when it was solved (seconds from the start)."""

    solved: int = 0
    penalty: float = 0.0  # seconds
    board: dict[str, dict[str, Any]] = field(default_factory=dict)  # version id -> status


def tick(room: Room, now: float) -> list[Event]:
    """The time ends a running room."""
    if room.state == State.running and room.ends_at is not None and now >= room.ends_at:
        room.state = State.ended
        return [{"type": "ended", "at": room.ends_at, "reason": "time"}]
    return []


def join(room: Room, user: int, nickname: str, code: object, now: float) -> list[Event]:
    """A new member (the service has checked that they are not one already)."""
    if room.state == State.ended:
        raise UserError(409, "room_ended")
    if not room.public and code != room.code:
        raise UserError(403, "room_code_wrong")
    if room.members >= room.size_limit:
        raise UserError(409, "room_full", limit=room.size_limit)
    room.members += 1
    return [{"type": "joined", "at": now, "user": user, "nickname": nickname}]


def start(room: Room, now: float) -> list[Event]:
    if room.state != State.open:
        raise UserError(409, "room_started")
    room.state, room.starts_at, room.ends_at = State.running, now, now + room.duration
    return [{"type": "started", "at": now, "ends_at": room.ends_at}]


def end(room: Room, now: float) -> list[Event]:
    if room.state != State.running:
        raise UserError(409, "room_not_running")
    room.state, room.ends_at = State.ended, now
    return [{"type": "ended", "at": now, "reason": "host"}]


def announce(room: Room, text: str, now: float) -> list[Event]:
    """The host's message (already checked as chat is) to everyone in the room."""
    return [{"type": "announcement", "at": now, "text": text}]


def accepts_submissions(room: Room, now: float) -> bool:
    """Whether a member may submit now (also when the time is up and no tick ended it yet)."""
    return room.state == State.running and made_in_time(now, room.ends_at)


def result(
    room: Room,
    score: Score,
    *,
    user: int,
    version: int,
    problem: int,
    verdict: Verdict,
    submitted_at: float,
    now: float,
) -> list[Event]:
    """A member's judged submission of the room's `problem`-th problem (`version`): a solve
    (its first AC) or a rejected attempt; nothing once solved, for a compile error or a
    judge fault, in a room not started, or for a submission made after the end."""
    if room.state not in (State.running, State.ended) or not made_in_time(
        submitted_at, room.ends_at
    ):
        return []
    if verdict in NOT_ATTEMPTS:
        return []
    key = str(version)
    status = dict(score.board.get(key) or {"rejected": 0, "solved_at": None})
    if status["solved_at"] is not None:
        return []
    if verdict != Verdict.AC:
        status["rejected"] += 1
        score.board = {**score.board, key: status}
        return [{"type": "attempt", "at": now, "user": user, "problem": problem,
                 "verdict": verdict.value}]  # fmt: skip
    elapsed = max(0.0, submitted_at - (room.starts_at or submitted_at))
    status["solved_at"] = round(elapsed, 1)
    score.board = {**score.board, key: status}
    score.solved += 1
    score.penalty += elapsed + PENALTY_PER_REJECTION * status["rejected"]
    return [
        {"type": "solved", "at": now, "user": user, "problem": problem,
         "solved": score.solved, "penalty": round(score.penalty, 1)}
    ]  # fmt: skip
