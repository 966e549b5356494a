"""Tiers: a displayed rating's name and colour, Codeforces style, kept as data
(progress/data/tiers.toml) so that operators retune bounds, colours and season-end points
without touching code. Pure: `tier_of(display)` reads nothing but the table."""

from __future__ import annotations

import tomllib
from bisect import bisect_right
from dataclasses import dataclass
from functools import cache
from pathlib import Path


@dataclass(frozen=True)
class Tier:
    """One tier: its code (locale key `tier.<code>`), the lowest display in it, its CSS
    colour, and the points a ranked player of this tier gets when a season ends."""

    code: str
    lower: int | None  # None: the first tier, open below
    color: str
    season_points: int

    @property
    def label_key(self) -> str:
        return f"tier.{self.code}"

    def json(self) -> dict[str, str]:
        """What a page's script needs to draw it (the name comes from its own texts)."""
        return {"code": self.code, "color": self.color}


@cache
def tiers() -> tuple[Tier, ...]:
    """The tiers, lowest first; checked once: bounds strictly increase, codes unique."""
    data = tomllib.loads((Path(__file__).parent / "data" / "tiers.toml").read_text())
    table = tuple(
        Tier(
            code=str(spec["code"]),
            lower=None if "from" not in spec else int(spec["from"]),
            color=str(spec["color"]),
            season_points=int(spec.get("season_points", 0)),
        )
        for spec in data["tiers"]
    )
    bounds = [t.lower for t in table[1:]]
    if not table or table[0].lower is not None or None in bounds:
        raise ValueError("tiers.toml: only the first tier may be open below")
    if any(a >= b for a, b in zip(bounds, bounds[1:], strict=False)):  # type: ignore[operator]
        raise ValueError("tiers.toml: tier bounds must increase")
    if len({t.code for t in table}) != len(table):
        raise ValueError("tiers.toml: duplicate tier code")
    return table


def tier_of(display: int) -> Tier:
    """The tier of a displayed rating: the highest whose lower bound it reaches."""
    table = tiers()
    bounds = [t.lower for t in table[1:] if t.lower is not None]
    return table[bisect_right(bounds, display)]


def by_code(code: str) -> Tier | None:
    return next((t for t in tiers() if t.code == code), None)
