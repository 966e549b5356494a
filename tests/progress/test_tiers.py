"""Tiers as data (progress/tiers.py): a new player is a newbie, bounds are inclusive from
below, every tier has a name in both languages and a readable colour."""

from __future__ import annotations

import re

from codebattle.i18n import translate
from codebattle.progress.ratings import Rating
from codebattle.progress.tiers import by_code, tier_of, tiers


def test_a_fresh_account_is_a_newbie_and_bounds_count_from_below() -> None:
    assert Rating().display == 1000 and tier_of(Rating().display).code == "newbie"
    assert tier_of(1099).code == "newbie" and tier_of(1100).code == "pupil"
    assert tier_of(2099).code == "master" and tier_of(2100).code == "grandmaster"
    assert tier_of(-500).code == "newbie" and tier_of(9999).code == "grandmaster"


def test_tiers_increase_with_their_season_points_and_have_names_and_colours() -> None:
    table = tiers()
    assert [t.code for t in table][0] == "newbie" and len(table) == 7
    bounds = [t.lower for t in table[1:]]
    assert bounds == sorted(bounds) and len(set(bounds)) == len(bounds)
    points = [t.season_points for t in table]
    assert points == sorted(points) and points[-1] > 0
    for tier in table:
        assert re.fullmatch(r"#[0-9a-f]{6}", tier.color)
        assert _contrast_on_white(tier.color) >= 4.5, tier.code
        for locale in ("en", "ko"):
            assert translate(tier.label_key, locale) != tier.label_key
    assert by_code("expert") is not None and by_code("nobody") is None


def _contrast_on_white(color: str) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    lum = 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)
    return 1.05 / (lum + 0.05)
