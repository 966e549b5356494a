"""Ratings: OpenSkill's Plackett–Luce model, one model for duels and rooms.

A rating is (mu, sigma); what players see is the conservative `display` value, scaled so a
new player starts at 1000. Only rated games change ratings: games against the AI, practice
and cancelled games (among them every game that ends in its countdown) are unrated (the
callers decide; `rate` is only called for rated ones).

Against rating farming (docs/ratings.md), a game's change is weighted (`weight`): a player
is provisional until they have finished PROVISIONAL_GAMES rated games, and a game against a
provisional opponent moves a rating by PROVISIONAL_OPPONENT_WEIGHT of the model's change; the
k-th rated game between the same two players within REPEAT_WINDOW seconds moves it by 1/k.
"""

from __future__ import annotations

from dataclasses import dataclass

from openskill.models import PlackettLuce

_MODEL = PlackettLuce()
SCALE = 40.0  # display = 1000 + SCALE * (mu - 3 sigma): 0 -> 1000 for a new player
PROVISIONAL_GAMES = 5  # rated games a new account plays as provisional
PROVISIONAL_OPPONENT_WEIGHT = 0.5  # a throwaway account is worth half a game to its opponent
REPEAT_WINDOW = 24 * 3600.0  # seconds in which repeated games between two players count less


def provisional(rated_games: int) -> bool:
    """Whether a player with this many finished rated games still has a provisional rating."""
    return rated_games < PROVISIONAL_GAMES


def weight(*, opponent_provisional: bool, repeat: int) -> float:
    """The share of the model's change that counts for one player: `repeat` is k for the
    k-th rated game within REPEAT_WINDOW against the same opponent (1 for the first)."""
    share = 1.0 / max(1, repeat)
    return share * PROVISIONAL_OPPONENT_WEIGHT if opponent_provisional else share


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

    def weighted(self, share: float) -> Change:
        """This change scaled by `share` (mean and uncertainty alike): 1 keeps it, 0 undoes it."""
        mu = self.before.mu + share * (self.after.mu - self.before.mu)
        sigma = self.before.sigma + share * (self.after.sigma - self.before.sigma)
        return Change(self.before, Rating(mu, sigma), self.reason)


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
