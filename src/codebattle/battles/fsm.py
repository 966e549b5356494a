"""The match state machine: waiting → countdown → running → (judging →) finished | cancelled.

Pure and synchronous: `apply(match, event, now)` returns the events that happened (for the
match's event log) and changes `match` in place, or raises IllegalEvent with a code; the
battle service runs it inside one database transaction with the match row locked, so
concurrent events are applied one at a time. The server owns time: every event carries the
server's `now`, and `tick(match, now)` enforces the deadlines (countdown end, time limit,
disconnect grace) whether or not a client is connected.

Win rules: the first to pass all tests wins. At the time limit, the most tests passed wins,
then whoever reached that count first; equal on both is a draw. A player who gives up loses.
A submission counts by the time it was MADE (`made_at`), not when its verdict arrives: when
the outcome is known (a solve, or the time limit) while a submission made before that moment
is still being judged, the match waits in `judging` for its verdict, at most
`Settings.judging_wait` seconds, then decides (`made_in_time` is the rule rooms follow too).
A player disconnected longer than the grace period loses by a technical win for the one who
stayed; if everyone is gone, the match is cancelled. A game that ends before it starts is
cancelled, never won: giving up in the countdown, or leaving in it and not coming back within
the grace period (cancelled games are unrated).

A player may have several sockets open (two tabs, maybe on two API instances): each
`reconnect` / `disconnect` names its socket, the match keeps the open ones, and the player is
disconnected only when the last one closes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class State(StrEnum):
    waiting = "waiting"
    countdown = "countdown"
    running = "running"
    judging = "judging"  # the outcome waits for verdicts of submissions made in time
    finished = "finished"
    cancelled = "cancelled"


# Games under way (spectators' live list), and games not over yet (a player is in one game).
UNDER_WAY = (State.countdown, State.running, State.judging)
UNDECIDED = (State.waiting, *UNDER_WAY)


class IllegalEvent(Exception):
    """An event that this match cannot take now; `code` is for clients and translations."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code


@dataclass
class Player:
    user_id: int
    ai: bool = False
    ready: bool = False
    connected: bool = True
    disconnected_at: float | None = None
    passed: int = 0  # best number of tests passed so far
    passed_at: float | None = None  # when the submission that first reached `passed` was made
    pending: dict[str, float] = field(default_factory=dict)  # submission id -> made at
    gave_up: bool = False
    sockets: list[str] = field(default_factory=list)  # open sockets' ids, on any instance


MAX_SOCKETS = 16  # socket ids kept per player (the oldest is forgotten beyond)


@dataclass
class Settings:
    players: int = 2
    duration: float = 600.0  # seconds of play
    countdown: float = 5.0
    grace: float = 30.0  # a disconnected player's time to come back
    tests: int = 1  # tests of the problem: passing all of them wins
    judging_wait: float = 60.0  # longest wait for verdicts of submissions made in time


@dataclass
class Match:
    settings: Settings
    state: State = State.waiting
    players: list[Player] = field(default_factory=list)
    starts_at: float | None = None  # end of the countdown
    ends_at: float | None = None  # the time limit
    winner: int | None = None  # user id; None with a draw or before the end
    reason: str = ""  # "solved", "time", "gave_up", "disconnect", "draw", "abandoned"
    rematch_offers: set[int] = field(default_factory=set)
    decide_by: float | None = None  # in `judging`: the outcome is decided by then at the latest

    def player(self, user_id: int) -> Player:
        for player in self.players:
            if player.user_id == user_id:
                return player
        raise IllegalEvent("not_a_player")

    @property
    def over(self) -> bool:
        return self.state in (State.finished, State.cancelled)


Event = dict[str, Any]


def made_in_time(made_at: float, ends_at: float | None) -> bool:
    """Whether a submission made at `made_at` counts for a game (match or room) that ends
    at `ends_at`, whenever its verdict arrives: made strictly before the end."""
    return ends_at is not None and made_at < ends_at


def _event(kind: str, now: float, **data: Any) -> Event:
    return {"type": kind, "at": now, **data}


def apply(match: Match, event: Event, now: float) -> list[Event]:
    """Apply a player's event; return what happened (deadlines passed first)."""
    happened = tick(match, now)
    kind = event.get("type")
    handler = _HANDLERS.get(str(kind))
    if handler is None:
        raise IllegalEvent("unknown_event", str(kind)[:40])
    user_id = event.get("user")
    if not isinstance(user_id, int):
        raise IllegalEvent("bad_event", "user")
    return happened + handler(match, user_id, event, now)


def tick(match: Match, now: float) -> list[Event]:
    """Enforce the deadlines that have passed by `now`."""
    happened: list[Event] = []
    if match.state == State.countdown and match.starts_at is not None and now >= match.starts_at:
        match.state = State.running
        match.ends_at = match.starts_at + match.settings.duration
        happened.append(_event("started", match.starts_at, ends_at=match.ends_at))
    if match.state in (State.countdown, State.running):
        gone = [
            p
            for p in match.players
            if not p.connected
            and p.disconnected_at is not None
            and now >= p.disconnected_at + match.settings.grace
        ]
        if gone:
            stayed = [p for p in match.players if p not in gone and not p.gave_up]
            if not stayed:
                happened += _cancel(match, now, "abandoned")
            elif any(_left_before_start(match, p) for p in gone):
                happened += _cancel(match, now, "left")  # no win for a game never played
            elif len(stayed) == 1:
                happened += _finish(match, now, stayed[0].user_id, "disconnect")
    if match.state in (State.running, State.judging):
        happened += _decide(match, now)
    return happened


def never_played(match: Match) -> bool:
    """Whether a cancelled game ended before it started: cancelled in the waiting room or
    the countdown (no time limit was ever set), or because a player left in the countdown
    and never came back. Such a game is no game: it is unrated and uses up no day's game."""
    return match.state == State.cancelled and (
        match.ends_at is None or any(_left_before_start(match, p) for p in match.players)
    )


def _join(match: Match, user_id: int, event: Event, now: float) -> list[Event]:
    if match.state != State.waiting:
        raise IllegalEvent("match_started")
    if any(p.user_id == user_id for p in match.players):
        raise IllegalEvent("already_joined")
    if len(match.players) >= match.settings.players:
        raise IllegalEvent("match_full")
    match.players.append(Player(user_id, ai=bool(event.get("ai", False))))
    return [_event("joined", now, user=user_id, ai=match.players[-1].ai)]


def _ready(match: Match, user_id: int, event: Event, now: float) -> list[Event]:
    if match.state != State.waiting:
        raise IllegalEvent("match_started")
    match.player(user_id).ready = True
    happened = [_event("ready", now, user=user_id)]
    if len(match.players) == match.settings.players and all(p.ready for p in match.players):
        match.state = State.countdown
        match.starts_at = now + match.settings.countdown
        happened.append(_event("countdown", now, starts_at=match.starts_at))
    return happened


def _submitted(match: Match, user_id: int, event: Event, now: float) -> list[Event]:
    """A player sent code to the judge (made at `made_at`, default now); its result comes
    later as a "result" event, which the outcome waits for if it was made in time."""
    made_at = _made_at(event, now)
    in_time = match.state == State.running or (
        match.state == State.judging
        and made_at <= _cutoff(match)
        and made_in_time(made_at, match.ends_at)
    )
    if not in_time:
        raise IllegalEvent("match_not_running")
    player = match.player(user_id)
    if player.gave_up:
        raise IllegalEvent("gave_up")
    submission = event.get("submission")
    if not isinstance(submission, int):
        raise IllegalEvent("bad_event", "submission")
    player.pending = {**player.pending, str(submission): made_at}
    return [_event("submitted", now, user=user_id, submission=submission)]


def _result(match: Match, user_id: int, event: Event, now: float) -> list[Event]:
    """A verdict. While the game runs, any; while it waits in `judging`, those it waits for."""
    if match.state not in (State.running, State.judging):
        raise IllegalEvent("match_not_running")
    player = match.player(user_id)
    if match.state == State.judging and str(event.get("submission")) not in player.pending:
        raise IllegalEvent("match_not_running")  # made too late: it cannot count
    if player.gave_up:
        raise IllegalEvent("gave_up")
    passed = event.get("passed")
    if not isinstance(passed, int) or not 0 <= passed <= match.settings.tests:
        raise IllegalEvent("bad_event", "passed")
    made_at = _made_at(event, now)
    player.pending = {k: v for k, v in player.pending.items() if k != str(event.get("submission"))}
    details = _details(event, "submission", "verdict")
    happened = [_event("result", now, user=user_id, passed=passed, made_at=made_at, **details)]
    # The best count, reached first by the time the submission was made (verdicts may come
    # back out of order).
    if passed > player.passed or (
        passed == player.passed > 0 and made_at < (player.passed_at or made_at)
    ):
        player.passed, player.passed_at = passed, made_at
    return happened + _decide(match, now)


def _give_up(match: Match, user_id: int, event: Event, now: float) -> list[Event]:
    if match.over:
        raise IllegalEvent("match_over")
    player = match.player(user_id)
    player.gave_up = True
    happened = [_event("gave_up", now, user=user_id)]
    if match.state in (State.waiting, State.countdown):
        # A game given up before it starts is no game: cancelled, so unrated (rating farming
        # with accounts that queue and give up at once gains nothing).
        return happened + _cancel(match, now, "gave_up")
    others = [p for p in match.players if not p.gave_up]
    if len(others) == 1:
        happened += _finish(match, now, others[0].user_id, "gave_up")
    elif not others:
        happened += _cancel(match, now, "gave_up")
    return happened


def _left_before_start(match: Match, player: Player) -> bool:
    """Whether the player went away during the countdown (and never came back)."""
    return (
        player.disconnected_at is not None
        and match.starts_at is not None
        and player.disconnected_at < match.starts_at
    )


def _disconnect(match: Match, user_id: int, event: Event, now: float) -> list[Event]:
    """One of the player's sockets closed; the last one starts the grace period."""
    player = match.player(user_id)
    socket = _socket_id(event)
    player.sockets = [s for s in player.sockets if s != socket]
    if match.over or player.sockets or not player.connected:
        return []
    player.connected, player.disconnected_at = False, now
    return [_event("disconnected", now, user=user_id, grace_ends_at=now + match.settings.grace)]


def _reconnect(match: Match, user_id: int, event: Event, now: float) -> list[Event]:
    """A socket of the player opened; the first one after a disconnect brings them back."""
    player = match.player(user_id)
    socket = _socket_id(event)
    if match.over:
        return []
    if socket not in player.sockets:
        player.sockets = [*player.sockets, socket][-MAX_SOCKETS:]
    if player.connected:
        return []
    player.connected, player.disconnected_at = True, None
    return [_event("reconnected", now, user=user_id)]


def _socket_id(event: Event) -> str:
    socket = event.get("socket")
    if not isinstance(socket, str) or not 0 < len(socket) <= 64:
        raise IllegalEvent("bad_event", "socket")
    return socket


def _rematch(match: Match, user_id: int, event: Event, now: float) -> list[Event]:
    """An offer; when every player has offered (the second one accepts), the service
    creates the new match with the same players."""
    if match.state != State.finished:
        raise IllegalEvent("match_not_finished")
    if any(p.ai for p in match.players if p.user_id == user_id):
        raise IllegalEvent("not_a_player")
    match.player(user_id)
    humans = {p.user_id for p in match.players if not p.ai}
    if humans <= match.rematch_offers:
        raise IllegalEvent("rematch_done")  # accepted already: one rematch per game
    match.rematch_offers.add(user_id)
    if humans <= match.rematch_offers:
        return [_event("rematch_accepted", now, user=user_id)]
    return [_event("rematch_offered", now, user=user_id)]


def _details(event: Event, *keys: str) -> dict[str, Any]:
    return {key: event[key] for key in keys if key in event}


def _made_at(event: Event, now: float) -> float:
    made_at = event.get("made_at", now)
    if isinstance(made_at, bool) or not isinstance(made_at, int | float) or made_at > now:
        raise IllegalEvent("bad_event", "made_at")
    return float(made_at)


def _solvers(match: Match) -> list[Player]:
    return [p for p in match.players if not p.gave_up and p.passed == match.settings.tests]


def _cutoff(match: Match) -> float:
    """The moment that decides: the earliest solve's, or else the time limit. A submission
    made after it cannot change the outcome."""
    solves = [p.passed_at for p in _solvers(match) if p.passed_at is not None]
    if solves:
        return min(solves)
    return match.ends_at if match.ends_at is not None else float("inf")


def _decide(match: Match, now: float) -> list[Event]:
    """End the game once its outcome is known (a solve, or the time limit), after the
    verdicts of submissions made before the deciding moment, waited for at most
    `judging_wait` seconds (`awaiting_verdicts` says so, once)."""
    solvers = _solvers(match)
    time_up = match.ends_at is not None and now >= match.ends_at
    if not solvers and not time_up:
        return []
    cutoff = _cutoff(match)
    awaited = sorted(
        int(submission)
        for p in match.players
        if not p.gave_up
        for submission, made_at in p.pending.items()
        if made_at <= cutoff and made_in_time(made_at, match.ends_at)
    )
    happened: list[Event] = []
    if awaited and match.state == State.running:
        since = now if solvers else (match.ends_at or now)
        match.state, match.decide_by = State.judging, since + match.settings.judging_wait
        happened.append(
            _event("awaiting_verdicts", since, submissions=awaited, until=match.decide_by)
        )
    if awaited and match.decide_by is not None and now < match.decide_by:
        return happened
    if match.state == State.judging and match.decide_by is not None:
        at = min(now, match.decide_by)  # decided when the last verdict came, or at the bound
    else:
        at = now if solvers else (match.ends_at or now)
    if solvers:
        first = min(p.passed_at or at for p in solvers)
        leaders = [p for p in solvers if (p.passed_at or at) == first]
        winner = leaders[0].user_id if len(leaders) == 1 else None
        return happened + _finish(match, at, winner, "draw" if winner is None else "solved")
    return happened + _finish_at_time_limit(match, at)


def _finish_at_time_limit(match: Match, at: float) -> list[Event]:
    contenders = [p for p in match.players if not p.gave_up]
    best = max((p.passed for p in contenders), default=0)
    leaders = [p for p in contenders if p.passed == best]
    if best > 0:
        first = min(p.passed_at or at for p in leaders)
        leaders = [p for p in leaders if (p.passed_at or at) == first]
    if len(leaders) == 1 and best > 0:
        return _finish(match, at, leaders[0].user_id, "time")
    return _finish(match, at, None, "draw")


def _finish(match: Match, now: float, winner: int | None, reason: str) -> list[Event]:
    match.state, match.winner, match.reason = State.finished, winner, reason
    return [_event("finished", now, winner=winner, reason=reason)]


def _cancel(match: Match, now: float, reason: str) -> list[Event]:
    match.state, match.winner, match.reason = State.cancelled, None, reason
    return [_event("cancelled", now, reason=reason)]


_HANDLERS = {
    "join": _join,
    "ready": _ready,
    "submitted": _submitted,
    "result": _result,
    "give_up": _give_up,
    "disconnect": _disconnect,
    "reconnect": _reconnect,
    "rematch": _rematch,
}
