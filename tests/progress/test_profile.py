"""The profile shows whether a rating is provisional (docs/ratings.md), in the API and on the
page."""

from __future__ import annotations

from fastapi.testclient import TestClient

from codebattle.progress.ratings import PROVISIONAL_GAMES
from tests.support.site import sign_in


def test_a_new_accounts_rating_is_shown_as_provisional(client: TestClient) -> None:
    sign_in(client, "newbie")
    profile = client.get("/api/users/newbie").json()
    assert profile["rating"] == 1000 and profile["rated_games"] == 0
    assert profile["provisional"] is True
    assert profile["provisional_games_left"] == PROVISIONAL_GAMES
    page = client.get("/users/newbie")
    assert page.status_code == 200 and 'id="provisional"' in page.text
