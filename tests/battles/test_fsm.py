"""The match state machine: every rule, with the server's clock passed in."""

from __future__ import annotations

import pytest

from codebattle.battles.fsm import IllegalEvent, Match, Settings, State, apply, made_in_time, tick

A, B = 1, 2


def started(tests: int = 10, duration: float = 600.0, grace: float = 30.0) -> Match:
    match = Match(Settings(tests=tests, duration=duration, countdown=5.0, grace=grace))
    apply(match, {"type": "join", "user": A}, 0.0)
    apply(match, {"type": "join", "user": B}, 1.0)
    apply(match, {"type": "ready", "user": A}, 2.0)
    happened = apply(match, {"type": "ready", "user": B}, 3.0)
    assert [e["type"] for e in happened] == ["ready", "countdown"]
    assert match.state == State.countdown and match.starts_at == 8.0
    assert tick(match, 7.9) == [] and match.state == State.countdown
    assert [e["type"] for e in tick(match, 8.0)] == ["started"]
    assert match.state == State.running and match.ends_at == 608.0
    return match


def result(match: Match, user: int, passed: int, now: float) -> list[str]:
    return [
        e["type"] for e in apply(match, {"type": "result", "user": user, "passed": passed}, now)
    ]


def test_first_to_pass_every_test_wins() -> None:
    match = started()
    assert result(match, B, 9, 100.0) == ["result"]
    assert result(match, A, 10, 120.0) == ["result", "finished"]
    assert (match.state, match.winner, match.reason) == (State.finished, A, "solved")
    with pytest.raises(IllegalEvent) as caught:
        apply(match, {"type": "result", "user": B, "passed": 10}, 121.0)
    assert caught.value.code == "match_not_running"  # the late one changes nothing


def test_at_the_time_limit_most_tests_then_earliest_wins() -> None:
    match = started()
    result(match, A, 6, 100.0)
    result(match, B, 6, 90.0)  # B reached 6 first
    result(match, A, 3, 200.0)  # a worse later attempt keeps the best
    happened = tick(match, 608.0)  # no client needed: the server's clock ends it
    assert [e["type"] for e in happened] == ["finished"]
    assert (match.winner, match.reason) == (B, "time")


def test_equal_at_the_time_limit_is_a_draw() -> None:
    match = started()
    assert tick(match, 700.0)[0]["reason"] == "draw"  # nobody passed anything
    match = started()
    result(match, A, 4, 50.0)
    result(match, B, 4, 50.0)
    tick(match, 608.0)
    assert (match.winner, match.reason) == (None, "draw")


def test_a_late_event_first_lets_the_deadline_pass() -> None:
    match = started()
    result(match, A, 5, 100.0)
    with pytest.raises(IllegalEvent):  # after the time limit: too late, the match is over
        apply(match, {"type": "result", "user": B, "passed": 10}, 609.0)
    assert (match.state, match.winner, match.reason) == (State.finished, A, "time")


def test_giving_up_ends_the_game() -> None:
    match = started()
    assert [e["type"] for e in apply(match, {"type": "give_up", "user": A}, 50.0)] == [
        "gave_up",
        "finished",
    ]
    assert (match.winner, match.reason) == (B, "gave_up")
    waiting = Match(Settings())
    apply(waiting, {"type": "join", "user": A}, 0.0)
    apply(waiting, {"type": "give_up", "user": A}, 1.0)
    assert waiting.state == State.cancelled


def socket(match: Match, kind: str, user: int, socket_id: str, now: float) -> list[str]:
    return [e["type"] for e in apply(match, {"type": kind, "user": user, "socket": socket_id}, now)]


def test_disconnect_grace_then_technical_win() -> None:
    match = started(grace=30.0)
    socket(match, "reconnect", A, "tab", 90.0)
    socket(match, "disconnect", A, "tab", 100.0)
    assert tick(match, 129.0) == []
    socket(match, "reconnect", A, "tab2", 129.0)  # back in time
    assert tick(match, 200.0) == [] and match.state == State.running
    socket(match, "disconnect", A, "tab2", 300.0)
    happened = tick(match, 330.0)
    assert happened[0]["type"] == "finished"
    assert (match.winner, match.reason) == (B, "disconnect")


def test_everyone_gone_cancels() -> None:
    match = started()
    socket(match, "disconnect", A, "a", 100.0)
    socket(match, "disconnect", B, "b", 100.0)
    tick(match, 131.0)
    assert (match.state, match.reason) == (State.cancelled, "abandoned")


def test_closing_one_of_two_tabs_keeps_the_player_connected() -> None:
    match = started(grace=30.0)
    assert socket(match, "reconnect", A, "tab1", 10.0) == []  # connected from the start
    assert socket(match, "reconnect", A, "tab2", 11.0) == []
    assert socket(match, "disconnect", A, "tab1", 20.0) == []  # tab2 is still open
    assert match.player(A).connected and match.player(A).sockets == ["tab2"]
    assert tick(match, 100.0) == [] and match.state == State.running  # no forfeit
    assert socket(match, "disconnect", A, "tab2", 110.0) == ["disconnected"]  # the last one
    assert socket(match, "disconnect", A, "tab2", 111.0) == []  # a repeated close: nothing
    assert socket(match, "reconnect", A, "tab3", 120.0) == ["reconnected"]  # the first back
    assert socket(match, "reconnect", A, "tab4", 121.0) == []
    assert tick(match, 200.0) == [] and match.state == State.running


def test_a_socket_event_must_name_its_socket() -> None:
    match = started()
    for bad in (None, 5, "", "x" * 65):
        with pytest.raises(IllegalEvent) as caught:
            apply(match, {"type": "disconnect", "user": A, "socket": bad}, 50.0)
        assert caught.value.code == "bad_event"
    assert match.player(A).connected


def test_rematch_needs_every_human() -> None:
    match = started()
    result(match, A, 10, 60.0)
    assert apply(match, {"type": "rematch", "user": A}, 61.0)[0]["type"] == "rematch_offered"
    assert apply(match, {"type": "rematch", "user": B}, 62.0)[0]["type"] == "rematch_accepted"
    with pytest.raises(IllegalEvent) as again:  # one rematch per game, however many clicks
        apply(match, {"type": "rematch", "user": A}, 63.0)
    assert again.value.code == "rematch_done"
    vs_ai = Match(Settings())
    apply(vs_ai, {"type": "join", "user": A}, 0)
    apply(vs_ai, {"type": "join", "user": B, "ai": True}, 0)
    for user in (A, B):
        apply(vs_ai, {"type": "ready", "user": user}, 0)
    tick(vs_ai, 10)
    apply(vs_ai, {"type": "result", "user": A, "passed": 1}, 11)
    assert apply(vs_ai, {"type": "rematch", "user": A}, 12)[0]["type"] == "rematch_accepted"


@pytest.mark.parametrize(
    ("event", "code"),
    [
        ({"type": "result", "user": A, "passed": 1}, "match_not_running"),
        ({"type": "join", "user": A}, "already_joined"),
        ({"type": "ready", "user": 99}, "not_a_player"),
        ({"type": "rematch", "user": A}, "match_not_finished"),
        ({"type": "fly", "user": A}, "unknown_event"),
        ({"type": "ready", "user": "A"}, "bad_event"),
        ({"type": "ready"}, "bad_event"),
    ],
)
def test_illegal_events_get_a_clear_code(event: dict[str, object], code: str) -> None:
    match = Match(Settings())
    apply(match, {"type": "join", "user": A}, 0.0)
    with pytest.raises(IllegalEvent) as caught:
        apply(match, event, 1.0)
    assert caught.value.code == code


def test_joining_is_closed_when_full_or_started() -> None:
    match = started()
    with pytest.raises(IllegalEvent) as caught:
        apply(match, {"type": "join", "user": 3}, 20.0)
    assert caught.value.code == "match_started"
    full = Match(Settings(players=1))
    apply(full, {"type": "join", "user": A}, 0.0)
    with pytest.raises(IllegalEvent) as caught:
        apply(full, {"type": "join", "user": B}, 0.0)
    assert caught.value.code == "match_full"


def test_bad_results_are_refused() -> None:
    match = started(tests=10)
    for passed in (-1, 11, "ten", None):
        with pytest.raises(IllegalEvent):
            apply(match, {"type": "result", "user": A, "passed": passed}, 50.0)


def test_a_match_stored_before_socket_ids_still_loads() -> None:
    from codebattle.battles.service import dump, load

    stored = dump(started())
    for player in stored["players"]:
        del player["sockets"], player["pending"]  # as written before these were tracked
    del stored["decide_by"], stored["settings"]["judging_wait"]
    match = load(stored)
    assert match.settings.judging_wait == 60.0 and match.decide_by is None
    assert match.player(A).sockets == [] and match.player(A).connected
    assert socket(match, "disconnect", A, "old-tab", 50.0) == ["disconnected"]


def submit(match: Match, user: int, submission: int, now: float) -> list[str]:
    happened = apply(match, {"type": "submitted", "user": user, "submission": submission}, now)
    return [e["type"] for e in happened]


def verdict(
    match: Match, user: int, submission: int, passed: int, made_at: float, now: float
) -> list[str]:
    event = {"type": "result", "user": user, "submission": submission, "passed": passed,
             "made_at": made_at}  # fmt: skip
    return [e["type"] for e in apply(match, event, now)]


def test_a_solve_made_before_the_deadline_counts_when_judged_after_it() -> None:
    match = started(tests=22)  # ends at 608
    verdict(match, B, 1, 5, 100.0, 101.0)
    submit(match, A, 2, 605.0)  # made in time; the judge is slow
    happened = tick(match, 608.0)
    assert [e["type"] for e in happened] == ["awaiting_verdicts"]
    assert happened[0]["submissions"] == [2] and happened[0]["until"] == 668.0
    assert match.state == State.judging and tick(match, 620.0) == []
    assert verdict(match, A, 2, 22, 605.0, 621.0) == ["result", "finished"]  # 22/22: a win
    assert (match.winner, match.reason) == (A, "solved")


def test_the_wait_for_verdicts_is_bounded() -> None:
    match = started(tests=22)
    verdict(match, B, 1, 5, 100.0, 101.0)
    submit(match, A, 2, 605.0)
    tick(match, 608.0)
    assert [e["type"] for e in tick(match, 668.0)] == ["finished"]  # then decides with what it has
    assert (match.winner, match.reason) == (B, "time")
    with pytest.raises(IllegalEvent) as late:
        verdict(match, A, 2, 22, 605.0, 700.0)
    assert late.value.code == "match_not_running"


def test_submissions_made_after_the_deadline_do_not_count() -> None:
    match = started(tests=22)
    submit(match, A, 1, 600.0)
    with pytest.raises(IllegalEvent) as refused:  # made after the deadline, sweeper or not
        submit(match, B, 2, 609.0)
    assert refused.value.code == "match_not_running" and match.state == State.judging
    late = {"type": "submitted", "user": B, "submission": 3, "made_at": 607.5}
    assert [e["type"] for e in apply(match, late, 609.0)] == ["submitted"]  # made in time
    with pytest.raises(IllegalEvent):  # a verdict the match does not wait for
        verdict(match, B, 4, 22, 609.0, 610.0)
    verdict(match, A, 1, 3, 600.0, 611.0)
    assert match.state == State.judging  # still waiting for B's submission 3
    assert verdict(match, B, 3, 3, 607.5, 612.0) == ["result", "finished"]
    assert (match.winner, match.reason) == (A, "time")  # 3 each: A made theirs first


def test_most_tests_then_earliest_uses_the_time_the_submission_was_made() -> None:
    match = started(tests=22)
    submit(match, A, 1, 100.0)
    submit(match, B, 2, 110.0)
    verdict(match, B, 2, 6, 110.0, 120.0)  # B's verdict arrives first
    verdict(match, A, 1, 6, 100.0, 130.0)  # but A made theirs first
    tick(match, 608.0)
    assert (match.winner, match.reason) == (A, "time")


def test_a_solve_waits_for_an_earlier_submission_still_being_judged() -> None:
    match = started(tests=22)
    submit(match, A, 1, 100.0)
    submit(match, B, 2, 101.0)
    assert verdict(match, B, 2, 22, 101.0, 105.0) == ["result", "awaiting_verdicts"]
    assert match.state == State.judging and match.decide_by == 165.0
    assert verdict(match, A, 1, 22, 100.0, 106.0) == ["result", "finished"]
    assert (match.winner, match.reason) == (A, "solved")  # made first, judged second
    other = started(tests=22)
    submit(other, A, 1, 100.0)
    submit(other, B, 2, 101.0)
    verdict(other, B, 2, 22, 101.0, 105.0)
    verdict(other, A, 1, 21, 100.0, 106.0)
    assert (other.winner, other.reason) == (B, "solved")
    later = started(tests=22)
    submit(later, B, 2, 101.0)
    submit(later, A, 3, 102.0)  # made after B's solve: it cannot change the outcome
    assert verdict(later, B, 2, 22, 101.0, 105.0) == ["result", "finished"]


def test_matches_and_rooms_count_a_submission_by_when_it_was_made() -> None:
    assert made_in_time(99.9, 100.0) and not made_in_time(100.0, 100.0)
    assert not made_in_time(1.0, None)  # no end known: not started


def test_giving_up_in_the_countdown_cancels_the_game_unrated() -> None:
    match = Match(Settings(countdown=5.0))
    for user in (A, B):
        apply(match, {"type": "join", "user": user}, 0.0)
    for user in (A, B):
        apply(match, {"type": "ready", "user": user}, 1.0)
    assert match.state == State.countdown
    happened = apply(match, {"type": "give_up", "user": B}, 2.0)
    assert [e["type"] for e in happened] == ["gave_up", "cancelled"]  # no winner, no rating
    assert (match.state, match.winner, match.reason) == (State.cancelled, None, "gave_up")


def test_leaving_in_the_countdown_for_good_cancels_the_game() -> None:
    match = Match(Settings(countdown=5.0, grace=30.0))  # starts at 6
    for user in (A, B):
        apply(match, {"type": "join", "user": user}, 0.0)
    for user in (A, B):
        apply(match, {"type": "ready", "user": user}, 1.0)
    socket(match, "disconnect", B, "tab", 2.0)
    assert [e["type"] for e in tick(match, 6.0)] == ["started"]
    assert [e["type"] for e in tick(match, 32.0)] == ["cancelled"]  # not a technical win
    assert (match.state, match.winner, match.reason) == (State.cancelled, None, "left")
