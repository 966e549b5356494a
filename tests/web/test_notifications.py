"""The notifications page and the unread count in the navigation; a banned account refused
everywhere but its account pages; a suspended player refused by the ranked queue (web)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from codebattle.accounts import notifications, sanctions
from codebattle.accounts.models import BAN, SUSPEND, User
from tests.support.site import run_in_app, sign_in

run = run_in_app


async def _notify(session: AsyncSession, nickname: str) -> None:
    user = await session.scalar(select(User).where(User.nickname == nickname))
    assert user is not None
    notifications.notify(session, user.id, "rating_released", {"match": 7}, "/matches/7/replay")
    notifications.notify(
        session, user.id, "flag_warned", {"reason": "Pasted <b>code</b>."}, "/appeals/new?flag=3"
    )


async def _sanction(session: AsyncSession, nickname: str, kind: str) -> None:
    user = await session.scalar(select(User).where(User.nickname == nickname))
    assert user is not None
    await sanctions.impose(
        session, user, kind, "Fair play.", None, days=3 if kind == SUSPEND else None,
        flag_id=None, now=datetime.now(UTC),
    )  # fmt: skip


def _sign_in(client: TestClient, nickname: str) -> str:
    client.cookies.set("lang", "en")  # the texts below are the English ones
    return sign_in(client, nickname)


def _badge(html: str) -> str | None:
    found = re.search(r'id="unread-badge"[^>]*>([^<]+)<', html)
    return found.group(1) if found else None


def test_the_page_lists_the_newest_first_and_marks_all_read(client: TestClient) -> None:
    csrf = _sign_in(client, "bea")
    assert _badge(client.get("/problems").text) is None
    run(client, _notify, "bea")
    assert _badge(client.get("/problems").text) == "2"
    page = client.get("/notifications")
    assert page.status_code == 200
    html = page.text
    assert html.index("Pasted &lt;b&gt;code&lt;/b&gt;.") < html.index("your rating is updated")
    assert 'href="/appeals/new?flag=3">How to appeal</a>' in html
    assert html.count('class="card unread"') == 2
    data = client.get("/api/notifications").json()
    assert data["unread"] == 2 and [i["kind"] for i in data["items"]] == [
        "flag_warned", "rating_released",
    ]  # fmt: skip
    # Without the script's dialog the server asks first, and changes nothing yet.
    asked = client.post("/notifications/read", data={"csrf_token": csrf, "confirm": "no"})
    assert asked.status_code == 200 and 'id="notifications-confirm"' in asked.text
    assert client.get("/api/notifications").json()["unread"] == 2
    refused = client.post("/notifications/read", data={"confirm": "yes"})
    assert refused.status_code == 403
    done = client.post(
        "/notifications/read", data={"csrf_token": csrf, "confirm": "yes"}, follow_redirects=False
    )
    assert done.status_code == 303 and done.headers["location"] == "/notifications"
    assert client.get("/api/notifications").json()["unread"] == 0
    assert _badge(client.get("/notifications").text) is None


def test_signed_out_the_page_asks_to_sign_in(client: TestClient) -> None:
    reply = client.get("/notifications", follow_redirects=False)
    assert reply.status_code == 303 and reply.headers["location"].startswith("/signin")
    assert client.get("/api/notifications").status_code == 401


def test_a_banned_account_reaches_only_its_account_pages(client: TestClient) -> None:
    csrf = _sign_in(client, "carl")
    run(client, _sanction, "carl", BAN)
    refused = client.get("/play")
    assert refused.status_code == 403
    assert "This account is banned" in refused.text
    queue = client.post("/api/queue", headers={"X-CSRF-Token": csrf})
    assert queue.status_code == 403 and queue.json()["error"]["code"] == "account_banned"
    assert client.get("/settings").status_code == 200
    assert client.get("/notifications").status_code == 200


def test_a_suspended_player_cannot_join_the_ranked_queue(client: TestClient) -> None:
    csrf = _sign_in(client, "dana")
    run(client, _sanction, "dana", SUSPEND)
    reply = client.post("/api/queue", headers={"X-CSRF-Token": csrf})
    assert reply.status_code == 403
    error = reply.json()["error"]
    assert error["code"] == "suspended"
    until = r"You are suspended from ranked play until \d{4}-\d\d-\d\d\."
    assert re.fullmatch(until, error["message"])
    assert client.get("/play").status_code == 200  # the rest of the site stays open


async def _appeal_news(session: AsyncSession, nickname: str) -> None:
    user = await session.scalar(select(User).where(User.nickname == nickname))
    assert user is not None
    notifications.notify(session, user.id, "appeal_answered", {"id": 4}, "/appeals/4")
    notifications.notify(session, user.id, "appeal_decided", {"id": 5}, "/appeals/5")
    notifications.notify(session, user.id, "flag_banned", {"reason": "x"}, "/appeals/new?flag=9")


def test_links_are_labelled_by_the_notifications_kind(client: TestClient) -> None:
    _sign_in(client, "cleo")
    run(client, _appeal_news, "cleo")
    html = client.get("/notifications").text
    assert 'href="/appeals/4">Open the appeal</a>' in html
    assert 'href="/appeals/5">Open the appeal</a>' in html
    assert 'href="/appeals/new?flag=9">How to appeal</a>' in html
    assert html.count("How to appeal") == 1
    labels = {i["kind"]: i["link_label"] for i in client.get("/api/notifications").json()["items"]}
    assert labels["appeal_decided"] == "notifications.open_appeal"


def test_my_appeals_is_linked_from_the_account_pages(client: TestClient) -> None:
    _sign_in(client, "dora")
    assert (
        'href="/appeals" id="notifications-my-appeals">My appeals'
        in client.get("/notifications").text
    )
    assert 'href="/appeals" id="settings-my-appeals">My appeals' in client.get("/settings").text
    client.cookies.set("lang", "ko")
    assert "내 이의 신청" in client.get("/notifications").text
