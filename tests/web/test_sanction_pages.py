"""What a sanctioned player reads: a suspended player's lobby says until when ranked play is
closed (the button disabled) and links to their appeals; a banned player's refusal page
links to the notifications (the reason) and the appeals."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from codebattle.accounts.models import BAN, SUSPEND
from tests.web.test_notifications import _sanction, _sign_in, run


def test_a_suspended_player_sees_why_ranked_play_is_closed(client: TestClient) -> None:
    _sign_in(client, "sunny")
    page = client.get("/play")
    assert 'id="ranked-suspended"' not in page.text
    assert re.search(r'id="ranked"[^>]*disabled', page.text) is None
    run(client, _sanction, "sunny", SUSPEND)
    page = client.get("/play")
    assert page.status_code == 200
    assert re.search(r"You are suspended from ranked play until \d{4}-\d\d-\d\d\.", page.text)
    assert re.search(r'id="ranked"[^>]*disabled aria-describedby="ranked-suspended"', page.text)
    assert 'href="/appeals"' in page.text


def test_a_banned_players_refusal_links_to_the_reason_and_the_appeals(
    client: TestClient,
) -> None:
    _sign_in(client, "benny")
    assert 'id="sanction-links"' not in client.get("/nowhere").text
    run(client, _sanction, "benny", BAN)
    _sign_in(client, "benny")  # the ban ended the session; the account signs in again
    refused = client.get("/play")
    assert refused.status_code == 403
    assert 'id="sanction-links"' in refused.text
    assert 'href="/notifications"' in refused.text and 'href="/appeals"' in refused.text
    assert client.get("/appeals").status_code == 200
