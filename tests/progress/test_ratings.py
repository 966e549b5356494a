from __future__ import annotations

import pytest

from codebattle.progress.ratings import Rating, rate


def test_a_new_player_starts_at_1000() -> None:
    assert Rating().display == 1000


def test_the_winner_gains_what_the_loser_loses_roughly() -> None:
    winner, loser = rate([Rating(), Rating()], [1, 2], ["won", "lost"])
    assert winner.delta > 0 > loser.delta
    assert winner.after.mu > winner.before.mu and loser.after.mu < loser.before.mu
    assert winner.after.sigma < winner.before.sigma  # more certain after a game
    assert (winner.reason, loser.reason) == ("won", "lost")


def test_a_draw_between_equals_moves_no_mean() -> None:
    first, second = rate([Rating(), Rating()], [1, 1], ["draw", "draw"])
    assert first.after.mu == pytest.approx(first.before.mu)
    assert second.after.mu == pytest.approx(second.before.mu)


def test_beating_a_stronger_player_is_worth_more() -> None:
    strong = Rating(mu=35.0, sigma=3.0)
    upset, _ = rate([Rating(mu=25.0, sigma=3.0), strong], [1, 2], ["won", "lost"])
    expected, _ = rate([strong, Rating(mu=25.0, sigma=3.0)], [1, 2], ["won", "lost"])
    assert upset.after.mu - upset.before.mu > expected.after.mu - expected.before.mu


def test_rooms_rate_many_players_by_place() -> None:
    changes = rate([Rating()] * 4, [1, 2, 3, 4], ["1st", "2nd", "3rd", "4th"])
    deltas = [c.after.mu - c.before.mu for c in changes]
    assert deltas == sorted(deltas, reverse=True)


def test_bad_input() -> None:
    with pytest.raises(ValueError):
        rate([Rating()], [1], ["alone"])
    with pytest.raises(ValueError):
        rate([Rating(), Rating()], [1], ["won", "lost"])
