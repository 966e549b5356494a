"""Ranked matchmaking: who plays whom. Pure rules; the queue's storage (in process, or Redis
so that every API instance sees one queue) comes with the real-time layer.

A waiting player accepts opponents within a rating window that widens the longer they wait;
two players are paired when each is inside the other's window, closest ratings first. After
`ai_after` seconds with no human opponent, the player is offered an AI opponent.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Ticket:
    user_id: int
    rating: int  # the displayed rating
    joined_at: float  # server time


@dataclass(frozen=True)
class Rules:
    base_window: int = 50  # rating points accepted at once
    widen_per_second: float = 10.0
    max_window: int = 800
    ai_after: float = 60.0

    def window(self, ticket: Ticket, now: float) -> float:
        waited = max(0.0, now - ticket.joined_at)
        return min(self.base_window + self.widen_per_second * waited, self.max_window)


def pair(tickets: list[Ticket], now: float, rules: Rules = Rules()) -> list[tuple[Ticket, Ticket]]:
    """Pairs to start now. Each ticket is in at most one pair; one user holds one ticket."""
    users = [t.user_id for t in tickets]
    if len(users) != len(set(users)):
        raise ValueError("a player can be in the queue only once")
    candidates = sorted(
        (
            (abs(a.rating - b.rating), min(a.joined_at, b.joined_at), i, j)
            for i, a in enumerate(tickets)
            for j, b in enumerate(tickets)
            if i < j and abs(a.rating - b.rating) <= min(rules.window(a, now), rules.window(b, now))
        )
    )
    taken: set[int] = set()
    pairs = []
    for _gap, _since, i, j in candidates:
        if i not in taken and j not in taken:
            taken.update((i, j))
            pairs.append((tickets[i], tickets[j]))
    return pairs


def offer_ai(ticket: Ticket, now: float, rules: Rules = Rules()) -> bool:
    return now - ticket.joined_at >= rules.ai_after
