from __future__ import annotations

import pytest

from codebattle.battles.matchmaking import Rules, Ticket, offer_ai, pair

RULES = Rules(base_window=50, widen_per_second=10, max_window=500, ai_after=60)


def ids(pairs: list[tuple[Ticket, Ticket]]) -> list[tuple[int, int]]:
    return sorted((min(a.user_id, b.user_id), max(a.user_id, b.user_id)) for a, b in pairs)


def test_close_ratings_pair_at_once_and_far_ones_wait() -> None:
    tickets = [Ticket(1, 1000, 0), Ticket(2, 1040, 0), Ticket(3, 1300, 0)]
    assert ids(pair(tickets, 0, RULES)) == [(1, 2)]


def test_the_window_widens_with_waiting() -> None:
    tickets = [Ticket(1, 1000, 0), Ticket(2, 1200, 0)]
    assert pair(tickets, 10, RULES) == []  # window 150 < 200
    assert ids(pair(tickets, 15, RULES)) == [(1, 2)]  # window 200
    # Both must accept: a newcomer's narrow window holds a long waiter back.
    assert pair([Ticket(1, 1000, 0), Ticket(2, 1200, 14.9)], 15, RULES) == []


def test_closest_first_and_nobody_twice() -> None:
    tickets = [Ticket(1, 1000, 0), Ticket(2, 1010, 0), Ticket(3, 1030, 0), Ticket(4, 1045, 0)]
    assert ids(pair(tickets, 0, RULES)) == [(1, 2), (3, 4)]
    with pytest.raises(ValueError):
        pair([Ticket(1, 1000, 0), Ticket(1, 1000, 5)], 10, RULES)


def test_an_ai_opponent_is_offered_after_a_while() -> None:
    ticket = Ticket(1, 1000, 100)
    assert not offer_ai(ticket, 159.9, RULES)
    assert offer_ai(ticket, 160, RULES)


def test_the_window_is_capped() -> None:
    tickets = [Ticket(1, 1000, 0), Ticket(2, 1600, 0)]
    assert pair(tickets, 10_000, RULES) == []
