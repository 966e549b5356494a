from __future__ import annotations

import pytest

from codebattle.progress.ratings import (
    PROVISIONAL_GAMES,
    PROVISIONAL_OPPONENT_WEIGHT,
    Rating,
    provisional,
    rate,
    weight,
)


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


def test_a_new_account_is_provisional_for_its_first_rated_games() -> None:
    assert provisional(0) and provisional(PROVISIONAL_GAMES - 1)
    assert not provisional(PROVISIONAL_GAMES)


def test_the_weight_of_a_game() -> None:
    assert weight(opponent_provisional=False, repeat=1) == 1.0
    assert weight(opponent_provisional=True, repeat=1) == PROVISIONAL_OPPONENT_WEIGHT
    assert weight(opponent_provisional=False, repeat=3) == pytest.approx(1 / 3)
    assert weight(opponent_provisional=True, repeat=2) == pytest.approx(
        PROVISIONAL_OPPONENT_WEIGHT / 2
    )


def test_a_weighted_change_scales_mean_and_uncertainty() -> None:
    (full, _) = rate([Rating(mu=30.0, sigma=3.0), Rating()], [1, 2], ["won", "lost"])
    half = full.weighted(0.5)
    assert half.after.mu == pytest.approx((full.before.mu + full.after.mu) / 2)
    assert half.after.sigma == pytest.approx((full.before.sigma + full.after.sigma) / 2)
    assert 0 < half.delta < full.delta and half.reason == "won"
    assert full.weighted(1.0) == full and full.weighted(0.0).after == full.before
