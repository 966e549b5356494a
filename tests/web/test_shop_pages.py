"""The avatar shop's pages (web/routes/shop.py): the catalogue with the balance, the confirm
step without script, buying, wearing and taking off, refusals shown with their reason and a
4xx status, CSRF on every form, the worn theme's stylesheet and the look on the profile."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from codebattle.accounts.models import User
from codebattle.progress import points
from codebattle.rewards import shop
from tests.support.site import run_in_app, sign_in

run = run_in_app


async def _grant(session: AsyncSession, nickname: str, amount: int) -> None:
    user = await session.scalar(select(User).where(User.nickname == nickname))
    assert user is not None
    await points.earn(session, user.id, key=f"test:{nickname}:{amount}", reason="test",
                      points=amount)  # fmt: skip


async def _balance(session: AsyncSession, nickname: str) -> int:
    user = await session.scalar(select(User).where(User.nickname == nickname))
    assert user is not None
    return await points.balance(session, user.id)


def _signed_in(client: TestClient, nickname: str, amount: int = 0) -> str:
    client.cookies.set("lang", "en")
    csrf = sign_in(client, nickname)
    if amount:
        run(client, _grant, nickname, amount)
    return csrf


def _confirm_form(html: str) -> dict[str, str]:
    form = re.search(r'<form method="post" action="/shop/buy".*?</form>', html, re.S)
    assert form is not None
    return dict(re.findall(r'name="([a-z_]+)" value="([^"]*)"', form.group(0)))


def test_signed_out_visitors_are_asked_to_sign_in(client: TestClient) -> None:
    assert client.get("/shop", follow_redirects=False).status_code in (303, 401)
    refused = client.post("/shop/buy", data={"item": "avatar_cat"}, follow_redirects=False)
    assert refused.status_code in (303, 401, 403)
    assert client.get("/shop/theme.css").text == ""


def test_buy_after_confirming_wear_and_take_off(client: TestClient) -> None:
    csrf = _signed_in(client, "shopper", 1000)
    page = client.get("/shop")
    assert page.status_code == 200 and 'id="nav-shop"' in page.text
    assert 'id="shop-points">1000<' in page.text
    for code in ("avatar_cat", "frame_gold", "name_ocean", "theme_mint", "avatar_dragon"):
        assert f'id="shop-item-{code}"' in page.text
    assert "Seasonal: on sale until 2027-02-28" in page.text  # the winter avatar
    assert "Limited: 100 left" in page.text
    assert 'href="/points"' in page.text
    # "Buy" opens the question on the page; nothing is spent until it is answered.
    asked = client.get("/shop?buy=avatar_cat")
    assert asked.status_code == 200 and 'id="shop-confirm"' in asked.text
    assert "Spend 150 points on Cat?" in asked.text
    form = _confirm_form(asked.text)
    assert form["item"] == "avatar_cat" and len(form["request_key"]) >= 8
    assert run(client, _balance, "shopper") == 1000
    # Without the CSRF token: refused, nothing bought.
    forged = client.post("/shop/buy", data={**form, "csrf_token": "nope"}, follow_redirects=False)
    assert forged.status_code == 403 and run(client, _balance, "shopper") == 1000
    done = client.post("/shop/buy", data=form, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"].startswith(
        "/shop?bought=avatar_cat"
    )
    assert run(client, _balance, "shopper") == 850
    # The same form sent again (a double click) is answered as the first time.
    assert client.post("/shop/buy", data=form, follow_redirects=False).status_code == 303
    assert run(client, _balance, "shopper") == 850
    after = client.get(done.headers["location"])
    assert "You bought Cat." in after.text and 'id="shop-points">850<' in after.text
    assert re.search(
        r'id="shop-item-avatar_cat"[^>]*>.*?Owned.*?action="/shop/wear"', after.text, re.S
    )
    # Wear it: on the shop and on the profile.
    worn = client.post("/shop/wear", data={"item": "avatar_cat", "csrf_token": csrf},
                       follow_redirects=False)  # fmt: skip
    assert worn.status_code == 303
    assert "You are wearing Cat." in client.get(worn.headers["location"]).text
    profile = client.get("/users/shopper")
    assert 'id="profile-avatar" src="/static/shop/avatar_cat.svg"' in profile.text
    assert client.get("/api/users/shopper").json()["look"]["avatar"] == "avatar_cat"
    off = client.post("/shop/take-off", data={"slot": "avatar", "csrf_token": csrf},
                      follow_redirects=False)  # fmt: skip
    assert off.status_code == 303
    assert 'id="profile-avatar"' not in client.get("/users/shopper").text
    forged = client.post("/shop/wear", data={"item": "avatar_cat", "csrf_token": "x"})
    assert forged.status_code == 403


def test_refusals_say_why_with_a_4xx(client: TestClient) -> None:
    csrf = _signed_in(client, "saver", 100)
    # The confirm step offers no purchase when points are short; a form sent anyway (an
    # old tab, a script) is refused with the reason.
    form = {"item": "frame_gold", "request_key": "refusal-key-0001", "csrf_token": csrf}
    short = client.post("/shop/buy", data=form)
    assert short.status_code == 409
    assert "Not enough points: this item costs 1200 and you have 100." in short.text
    assert '<a href="/points" id="shop-refusal-earn">' in short.text
    assert run(client, _balance, "saver") == 100
    assert client.get("/shop?buy=avatar_nope").status_code == 404
    unknown = client.post("/shop/buy", data={**form, "item": "avatar_nope"})
    assert unknown.status_code == 404
    bad_key = client.post("/shop/buy", data={**form, "request_key": ""})
    assert bad_key.status_code == 400
    unowned = client.post("/shop/wear", data={"item": "avatar_cat", "csrf_token": csrf})
    assert unowned.status_code == 403 and "You can only wear items you own." in unowned.text
    assert (
        client.post("/shop/wear", data={"item": "x" * 500, "csrf_token": csrf}).status_code == 404
    )
    bad_slot = client.post("/shop/take-off", data={"slot": "hat", "csrf_token": csrf})
    assert bad_slot.status_code == 400


def test_a_sold_out_item_is_marked_and_refused(client: TestClient) -> None:
    _signed_in(client, "late", 5000)
    dragon = shop.item("avatar_dragon")
    assert dragon.limit is not None

    async def sell_out(session: AsyncSession) -> None:
        from codebattle.rewards.models import ItemStock

        session.add(ItemStock(item=dragon.code, sold=dragon.limit))

    form = _confirm_form(client.get("/shop?buy=avatar_dragon").text)
    run(client, sell_out)
    page = client.get("/shop")
    card = re.search(r'id="shop-item-avatar_dragon".*?</li>', page.text, re.S)
    assert card is not None and "Sold out" in card.group(0) and "/shop?buy=" not in card.group(0)
    refused = client.post("/shop/buy", data=form)
    assert refused.status_code == 409 and "This limited item is sold out." in refused.text
    assert run(client, _balance, "late") == 5000


def test_the_worn_theme_reaches_the_editor(client: TestClient) -> None:
    csrf = _signed_in(client, "coder", 1000)
    assert client.get("/shop/theme.css").text == ""
    form = _confirm_form(client.get("/shop?buy=theme_paper").text)
    assert client.post("/shop/buy", data=form, follow_redirects=False).status_code == 303
    client.post("/shop/wear", data={"item": "theme_paper", "csrf_token": csrf})
    css = client.get("/shop/theme.css")
    assert css.headers["content-type"].startswith("text/css")
    assert "no-store" in css.headers["cache-control"]
    assert css.text.startswith(".shop-theme{") and "--shop-editor-bg:#fbf6e9;" in css.text


def test_the_page_reads_in_korean(client: TestClient) -> None:
    sign_in(client, "hangul")
    client.cookies.set("lang", "ko")
    page = client.get("/shop")
    assert page.status_code == 200 and "아바타 상점" in page.text and "고양이" in page.text


def test_the_confirm_step_says_when_points_are_short_and_offers_no_purchase(
    client: TestClient,
) -> None:
    _signed_in(client, "poorshopper", 100)
    asked = client.get("/shop?buy=avatar_cat")  # 150 points
    assert asked.status_code == 200
    assert 'id="shop-confirm-short"' in asked.text
    assert "this item costs 150 and you have 100" in asked.text
    assert 'id="shop-confirm-form"' not in asked.text  # nothing to press that would fail
    assert "will be left" not in asked.text
