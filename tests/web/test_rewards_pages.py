"""The points page, the gift-card page and the operators' approval queue over HTTP
(web/routes/rewards.py, ops_rewards.py): pages for the signed-in, CSRF on the form, each
refusal a 4xx shown on the form in words, one exchange per form, the queue for operators
and admins only (404 for players), decided once through the confirm step; approving an
account out of good standing refused in words; an unknown age asked for; an issued card
cancelled through the confirm step (the fake Giftishow on loopback), a used one not."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from codebattle.accounts import service as accounts
from codebattle.accounts.models import Sanction, User
from codebattle.progress import points
from codebattle.rewards import giftcards
from codebattle.rewards.models import GiftExchange
from codebattle.services import Services
from codebattle.web.routes import ops_rewards
from tests.support.factories import make_user
from tests.support.fake_giftishow import client_of, running_fake
from tests.support.sign_in import with_sign_in
from tests.support.site import run_in_app

SESSION_ROUTE = "/_test/rewards-session"
CU3000, GS5000, CU10000 = "G00000000101", "G00000000102", "G00000000105"


@pytest.fixture
def site(client: TestClient) -> TestClient:
    """The app with a route that signs a user in by nickname as an OAuth callback would."""
    return with_sign_in(client, SESSION_ROUTE)


async def _seed(session: AsyncSession) -> dict[str, int]:
    ids: dict[str, int] = {}
    for nickname, role, pts in (("opal", "operator", 0), ("pat", "player", 4000),
                                ("poor", "player", 10)):  # fmt: skip
        user = await make_user(session, nickname)
        user.role, user.birth_year = role, 1990
        ids[nickname] = user.id
        if pts:
            await points.earn(session, user.id, key=f"seed:{nickname}", reason="win",
                              points=pts, params={"match": 7})  # fmt: skip
    await session.commit()
    return ids


def become(client: TestClient, nickname: str | None) -> str:
    client.cookies.delete("codebattle_session")
    if nickname is not None:
        assert client.post(SESSION_ROUTE, json={"nickname": nickname}).status_code == 204
    page = client.get("/problems")
    token = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
    assert token is not None
    return token.group(1)


def form_key(page: str) -> str:
    found = re.search(r'name="request_key" value="([^"]+)"', page)
    assert found is not None
    return found.group(1)


async def _exchanges(session: AsyncSession, user_id: int) -> list[GiftExchange]:
    return list(await session.scalars(select(GiftExchange).where(GiftExchange.user_id == user_id)))


def test_points_page(site: TestClient) -> None:
    ids = run_in_app(site, _seed)
    become(site, None)
    assert site.get("/points", follow_redirects=False).status_code in (303, 401)
    become(site, "pat")
    page = site.get("/points")
    assert page.status_code == 200
    assert 'id="points-balance-value">4000<' in page.text
    assert "Rated win" in page.text and 'href="/matches/7"' in page.text
    assert "How to earn points" in page.text and "at most 300 a day" in page.text
    assert 'id="nav-points"' in page.text
    assert site.get("/points?before=²").status_code == 404
    assert site.get("/points?before=99999999999").status_code == 404
    assert ids["pat"]


async def _token(session: AsyncSession, user_id: int) -> str:
    user = await session.get(User, user_id)
    assert user is not None
    _row, token = await accounts.create_token(session, user, "test")
    await session.commit()
    return token


def test_giftcard_form_refusals_and_success(site: TestClient) -> None:
    ids = run_in_app(site, _seed)
    csrf = become(site, "pat")
    page = site.get("/rewards/giftcards")
    assert page.status_code == 200
    assert "GS25 mobile voucher 5,000 won" in page.text and "3000 points (3,000 won)" in page.text
    assert 'id="goods-G00000000105" value="G00000000105" required\n               disabled' in (
        page.text
    )
    good = {"csrf_token": csrf, "goods": CU3000, "phone": "010-1234-5678", "consent": "yes",
            "request_key": form_key(page.text)}  # fmt: skip
    assert site.post("/rewards/giftcards", data={**good, "csrf_token": "x"}).status_code == 403
    # Points for a card only through the site's pages: an API token (no session, so no
    # CSRF token of its own) is refused too, form and all.
    bearer = {"Authorization": f"Bearer {run_in_app(site, _token, ids['pat'])}"}
    no_csrf = {k: v for k, v in good.items() if k != "csrf_token"}
    assert site.post("/rewards/giftcards", data=no_csrf, headers=bearer).status_code == 403
    for change, status, words in (
        ({"phone": "12345"}, 422, "Enter a Korean mobile number"),
        ({"consent": ""}, 422, "Please agree to pass your phone number"),
        ({"goods": CU10000}, 422, "at most 5000 won"),
        ({"goods": "nope"}, 422, "Choose one of the cards offered"),
        ({"request_key": ""}, 422, "The form expired"),
    ):
        answer = site.post("/rewards/giftcards", data={**good, **change})
        assert answer.status_code == status, change
        assert words in answer.text and 'id="gift-error"' in answer.text
    assert run_in_app(site, _exchanges, ids["pat"]) == []
    done = site.post("/rewards/giftcards", data=good, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"].startswith(
        "/rewards/giftcards?done="
    )
    again = site.post("/rewards/giftcards", data=good, follow_redirects=False)  # a double click
    assert again.headers["location"] == done.headers["location"]
    (exchange,) = run_in_app(site, _exchanges, ids["pat"])
    page = site.get(done.headers["location"])
    assert f'id="exchange-{exchange.id}-state">Waiting for approval<' in page.text
    assert "010-****-5678" in page.text and "01012345678" not in page.text
    # 1000 points left: the 5000-won card is refused with the numbers.
    short = site.post("/rewards/giftcards", data={**good, "goods": GS5000,
                                                  "request_key": form_key(page.text)})  # fmt: skip
    assert short.status_code == 409
    assert "this card costs 5000 and you have 1000" in short.text


def test_ops_queue_is_for_staff_and_decides_once(site: TestClient) -> None:
    ids = run_in_app(site, _seed)
    csrf = become(site, "pat")
    page = site.get("/rewards/giftcards")
    site.post("/rewards/giftcards", data={"csrf_token": csrf, "goods": CU3000, "consent": "yes",
              "phone": "01012345678", "request_key": form_key(page.text)})  # fmt: skip
    (exchange,) = run_in_app(site, _exchanges, ids["pat"])
    decide = f"/ops/rewards/{exchange.id}/decision"
    for who in (None, "pat"):
        csrf = become(site, who)
        assert site.get("/ops/rewards").status_code == 404
        assert site.post(decide, data={"csrf_token": csrf, "decision": "approve",
                                       "confirm": "yes"}).status_code == 404  # fmt: skip
    csrf = become(site, "opal")
    home = site.get("/ops")
    assert re.search(r'id="home-rewards-pending"><a href="/ops/rewards"><strong>1<', home.text)
    queue = site.get("/ops/rewards")
    assert queue.status_code == 200 and 'id="ops-nav-rewards" aria-current="page"' in queue.text
    assert f'id="gift-{exchange.id}-first"' in queue.text and "19 or older" in queue.text
    assert site.post(decide, data={"decision": "approve", "confirm": "yes"}).status_code == 403
    asked = site.post(decide, data={"csrf_token": csrf, "decision": "approve"})
    assert asked.status_code == 200 and 'name="confirm" value="yes"' in asked.text
    assert run_in_app(site, _exchanges, ids["pat"])[0].state == "pending"
    bad = site.post(decide, data={"csrf_token": csrf, "decision": "reject", "confirm": "yes"})
    assert bad.status_code == 422
    assert site.post(decide, data={"csrf_token": csrf, "decision": "x"}).status_code == 422
    ok = site.post(decide, data={"csrf_token": csrf, "decision": "approve", "confirm": "yes"},
                   follow_redirects=False)  # fmt: skip
    assert ok.status_code == 303
    assert run_in_app(site, _exchanges, ids["pat"])[0].state == "approved"
    twice = site.post(decide, data={"csrf_token": csrf, "decision": "reject", "reason": "no",
                                    "confirm": "yes"})  # fmt: skip
    assert twice.status_code == 409
    unknown = {"csrf_token": csrf, "decision": "approve", "confirm": "yes"}
    assert site.post("/ops/rewards/99999/decision", data=unknown).status_code == 404
    assert "No exchange is waiting" in site.get("/ops/rewards").text


async def _warn(session: AsyncSession, user_id: int) -> None:
    session.add(Sanction(user_id=user_id, kind="warn", reason="rude in chat"))
    await session.commit()


def test_a_refusal_is_said_before_the_form(site: TestClient) -> None:
    ids = run_in_app(site, _seed)
    run_in_app(site, _warn, ids["poor"])
    become(site, "poor")
    page = site.get("/rewards/giftcards")
    assert page.status_code == 200
    assert 'data-key="gift.refused_warned"' in page.text
    assert "After a warning you cannot exchange points for 30 days." in page.text
    assert 'id="gift-submit" disabled' in page.text


def _request(site: TestClient, csrf: str) -> None:
    page = site.get("/rewards/giftcards")
    answer = site.post("/rewards/giftcards", data={"csrf_token": csrf, "goods": CU3000,
                       "consent": "yes", "phone": "01012345678",
                       "request_key": form_key(page.text)}, follow_redirects=False)  # fmt: skip
    assert answer.status_code == 303


def test_approving_an_account_out_of_good_standing_is_refused(site: TestClient) -> None:
    ids = run_in_app(site, _seed)
    _request(site, become(site, "pat"))
    (exchange,) = run_in_app(site, _exchanges, ids["pat"])
    run_in_app(site, _warn, ids["pat"])
    csrf = become(site, "opal")
    approve = {"csrf_token": csrf, "decision": "approve", "confirm": "yes"}
    answer = site.post(f"/ops/rewards/{exchange.id}/decision", data=approve)
    assert answer.status_code == 409
    assert "After a warning you cannot exchange points for 30 days." in answer.text
    assert run_in_app(site, _exchanges, ids["pat"])[0].state == "pending"


async def _forget_age(session: AsyncSession, user_id: int) -> None:
    user = await session.get(User, user_id)
    assert user is not None
    user.birth_year, user.age_band = None, None
    await session.commit()


def test_an_unknown_age_is_asked_for(site: TestClient) -> None:
    ids = run_in_app(site, _seed)
    run_in_app(site, _forget_age, ids["pat"])
    csrf = become(site, "pat")
    page = site.get("/rewards/giftcards")
    assert 'data-key="gift.refuse.age_unknown"' in page.text
    assert 'id="gift-age-support">Contact support</a>' in page.text
    assert 'href="/feedback" id="gift-age-support"' in page.text
    answer = site.post("/rewards/giftcards", data={"csrf_token": csrf, "goods": CU3000,
                       "consent": "yes", "phone": "01012345678",
                       "request_key": form_key(page.text)})  # fmt: skip
    assert answer.status_code == 403 and "We do not know your age" in answer.text
    assert run_in_app(site, _exchanges, ids["pat"]) == []


def test_an_operator_cancels_an_issued_card(
    site: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = run_in_app(site, _seed)
    _request(site, become(site, "pat"))
    (exchange,) = run_in_app(site, _exchanges, ids["pat"])
    services: Services = site.app.state.services  # type: ignore[attr-defined]
    with running_fake() as (fake, url):
        monkeypatch.setattr(ops_rewards, "provider_for", lambda settings: client_of(url))

        async def approve_and_issue(session: AsyncSession) -> None:
            operator = await session.get(User, ids["opal"])
            assert operator is not None
            now = exchange.created_at
            await giftcards.approve(session, operator, exchange.id, "", now, services.settings)
            provider = client_of(url)
            await giftcards.issue_due(services.db, provider, services.settings, now)
            await provider.aclose()

        run_in_app(site, approve_and_issue)
        assert run_in_app(site, _exchanges, ids["pat"])[0].state == "issued"
        csrf = become(site, "opal")
        queue = site.get("/ops/rewards")
        assert f'id="gift-{exchange.id}-cancel"' in queue.text and "Issued cards" in queue.text
        cancel = f"/ops/rewards/{exchange.id}/cancel"
        assert site.post(cancel, data={"csrf_token": csrf, "confirm": "yes"}).status_code == 422
        asked = site.post(cancel, data={"csrf_token": csrf, "reason": "sent by mistake"})
        assert asked.status_code == 200 and 'name="confirm" value="yes"' in asked.text
        assert fake.coupons[exchange.tr_id].pin_status == "01"  # nothing changed yet
        fake.set_status(exchange.tr_id, "02")  # used meanwhile
        used = site.post(cancel, data={"csrf_token": csrf, "reason": "sent by mistake",
                                       "confirm": "yes"})  # fmt: skip
        assert used.status_code == 409 and "already used" in used.text
        fake.set_status(exchange.tr_id, "01")
        for who in (None, "pat"):
            other = become(site, who)
            assert site.post(cancel, data={"csrf_token": other, "reason": "x",
                                           "confirm": "yes"}).status_code == 404  # fmt: skip
        csrf = become(site, "opal")
        done = site.post(cancel, data={"csrf_token": csrf, "reason": "sent by mistake",
                                       "confirm": "yes"}, follow_redirects=False)  # fmt: skip
        assert done.status_code == 303
        assert fake.coupons[exchange.tr_id].pin_status == "07"
    assert run_in_app(site, _exchanges, ids["pat"])[0].state == "cancelled"
    assert "the points were given back" in site.get(done.headers["location"]).text
    become(site, "pat")
    mine = site.get("/rewards/giftcards")
    assert f'id="exchange-{exchange.id}-state">Cancelled<' in mine.text
    assert "Reason: sent by mistake" in mine.text
