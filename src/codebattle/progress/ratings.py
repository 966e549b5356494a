"""Ratings: OpenSkill's Plackett–Luce model, one model for duels and rooms.

A rating is (mu, sigma); what players see is the conservative `display` value, scaled so a
new player starts at 1000. Only rated games change ratings: games against the AI, practice
and cancelled games are unrated (the callers decide; `rate` is only called for rated ones).
"""

from __future__ import annotations

from dataclasses import dataclass

from openskill.models import PlackettLuce

_MODEL = PlackettLuce()
SCALE = 40.0  # display = 1000 + SCALE * (mu - 3 sigma): 0 -> 1000 for a new player


@dataclass(frozen=True)
class Rating:
    mu: float = _MODEL.mu
    sigma: float = _MODEL.sigma

    @property
    def display(self) -> int:
        return round(1000 + SCALE * (self.mu - 3 * self.sigma))


@dataclass(frozen=True)
class Change:
    before: Rating
    after: Rating
    reason: str  # e.g. "won", "lost", "draw": shown next to the change

    @property
    def delta(self) -> int:
        return self.after.display - self.before.display


def rate(ratings: list[Rating], places: list[int], reasons: list[str]) -> list[Change]:
    """New ratings for one game: `places[i]` is player i's finishing place (1 is first;
    equal places are ties)."""
    if not (len(ratings) == len(places) == len(reasons)) or len(ratings) < 2:
        raise ValueError("a rated game needs two or more players, each with a place")
    teams = [[_MODEL.rating(mu=r.mu, sigma=r.sigma)] for r in ratings]
    rated = _MODEL.rate(teams, ranks=[float(p) for p in places])
    return [
        Change(before, Rating(team[0].mu, team[0].sigma), reason)
        for before, team, reason in zip(ratings, rated, reasons, strict=True)
    ]
