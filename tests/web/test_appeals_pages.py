"""The appeal pages (web/routes/appeals.py): a player files an appeal about their finished
game from a form (CSRF required), reads it and replies; an operator sees it in the queue
with its time left and urgency in words, answers (the player reads "Operator", not a
name), assigns and decides it. Every form is confirmed as the dashboard's are: without
`confirm=yes` a page asks and nothing changes. Staff never act on their own appeal (403),
a banned operator is nobody's staff (404), and ids that are not ids ("²", 999999999999)
are refused. Other players, and players on the operators' pages, get 404. A banned
player files through the form and the API. The replay and submission pages link to the
appeal form."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from codebattle.accounts import service as accounts
from codebattle.accounts.models import Sanction
from codebattle.battles import fsm
from codebattle.fairplay.models import DECIDED as FLAG_DECIDED
from codebattle.fairplay.models import Flag
from codebattle.models import User
from codebattle.ops import appeals
from codebattle.services import Services
from tests.support.factories import make_match, make_problem_version, make_submission, make_user
from tests.support.site import sign_in

TEXT = "I solved it first; the result shows the other player as the winner."


def run(client: TestClient, fn: Callable[..., Any], *args: Any) -> Any:
    """Run `fn(session, services, *args)` in the app's event loop, on its database."""
    services: Services = client.app.state.services  # type: ignore[attr-defined]

    async def go() -> Any:
        async with services.db.session() as session:
            return await fn(session, services, *args)

    return client.portal.call(go)  # type: ignore[union-attr]


async def _staff(session: AsyncSession, services: Services, nickname: str, role: str) -> str:
    user = await make_user(session, nickname)
    user.role = role
    _row, token = await accounts.create_token(session, user, "test")
    await session.commit()
    return f"Bearer {token}"


async def _game(session: AsyncSession, services: Services, nickname: str) -> dict[str, int]:
    """A finished duel of the signed-in `nickname` against a fresh player, and a judged
    submission of theirs."""
    version = await make_problem_version(session, services.blobs)
    me = await session.scalar(select(User).where(User.nickname == nickname))
    assert me is not None
    other = await make_user(session)
    match = await make_match(session, version, [me, other])
    match.state = fsm.State.finished
    match.fsm = {**match.fsm, "state": fsm.State.finished.value}  # as the state machine ends it
    submission = await make_submission(session, services.blobs, me)
    submission.verdict, submission.status = "WA", "done"
    await session.commit()
    return {"match": match.id, "submission": submission.id, "other": other.id}


def _form_token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def test_an_appeal_from_the_form_to_the_decision(client: TestClient) -> None:
    client.cookies.set("lang", "en")
    sign_in(client, "paula")
    seeded = run(client, _game, "paula")

    replay = client.get(f"/matches/{seeded['match']}/replay")
    assert f'href="/appeals/new?match={seeded["match"]}"' in replay.text
    submission = client.get(f"/submissions/{seeded['submission']}")
    assert f'href="/appeals/new?submission={seeded["submission"]}"' in submission.text

    form = client.get(f"/appeals/new?match={seeded['match']}")
    assert form.status_code == 200 and 'id="appeal-new-form"' in form.text
    assert f"Game #{seeded['match']}" in form.text and "data-confirm=" in form.text
    assert 'id="ops-confirm-dialog"' in form.text and "/static/ops.js" in form.text
    assert "appeals.js" not in form.text
    body = {"kind": "game", "target": str(seeded["match"]), "text": TEXT, "confirm": "yes"}
    refused = client.post("/appeals/new", data=body, follow_redirects=False)
    assert refused.status_code == 403  # no CSRF token
    short = client.post("/appeals/new", data={**body, "text": "short",
                        "csrf_token": _form_token(form.text)})  # fmt: skip
    assert short.status_code == 422 and "Write between 10 and 4000 characters." in short.text
    # Without JS (no confirm=yes) a page asks first, with the text kept, and files nothing.
    asked = client.post("/appeals/new", data={**body, "confirm": "",
                        "csrf_token": _form_token(form.text)})  # fmt: skip
    assert asked.status_code == 200 and 'id="confirm-form"' in asked.text
    assert 'name="confirm" value="yes"' in asked.text and TEXT in asked.text
    assert 'id="ops-nav"' not in asked.text  # a player's page: no dashboard navigation
    assert client.get("/api/appeals").json() == []
    filed = client.post(
        "/appeals/new", data={**body, "csrf_token": _form_token(form.text)},
        follow_redirects=False,
    )  # fmt: skip
    assert filed.status_code == 303, filed.text
    url = filed.headers["location"]
    appeal_id = int(url.rsplit("/", 1)[1])
    again = client.post("/appeals/new", data={**body, "csrf_token": _form_token(form.text)})
    assert again.status_code == 409 and f"(#{appeal_id})" in again.text

    page = client.get(url)
    assert page.status_code == 200 and TEXT in page.text
    assert 'data-status="open"' in page.text and 'id="appeal-reply-form"' in page.text
    assert 'id="ops-confirm-dialog"' in page.text
    token = _form_token(page.text)
    reply = {"text": "One more detail.", "csrf_token": token}
    assert 'id="confirm-form"' in client.post(f"{url}/reply", data=reply).text
    assert len(client.get(f"/api/appeals/{appeal_id}").json()["messages"]) == 1
    assert client.post(f"{url}/reply", data={**reply, "confirm": "yes"},
                       follow_redirects=False).status_code == 303  # fmt: skip
    listing = client.get("/appeals")
    assert f'id="appeal-{appeal_id}"' in listing.text and "Waiting for an answer" in listing.text
    assert client.get("/api/appeals").json()[0]["id"] == appeal_id

    # The operator: the queue, the appeal with its target, a reply, assignment, a decision.
    client.headers["Authorization"] = run(client, _staff, "opal", "operator")
    queue = client.get("/ops/appeals")
    assert queue.status_code == 200
    row = re.search(rf'<tr id="appeal-{appeal_id}" data-urgency="(\w+)".*?</tr>', queue.text, re.S)
    assert row is not None and row.group(1) == "ok"
    assert "On time" in row.group(0) and re.search(r"\d+d \d+h left", row.group(0))
    item = client.get("/api/ops/appeals").json()[0]
    assert item["id"] == appeal_id and item["deadline"] == "first_response"
    assert item["urgency"] == "ok" and item["seconds_left"] > 0
    assert client.get("/api/ops/appeals?assigned=mine").json() == []

    detail = client.get(f"/ops/appeals/{appeal_id}")
    assert detail.status_code == 200
    assert f'href="/matches/{seeded["match"]}/replay"' in detail.text
    assert 'id="ops-decide-form"' in detail.text and "paula" in detail.text
    assert 'id="ops-decide-confirmed"' not in detail.text  # the dialog confirms
    assert 'id="ops-confirm-dialog"' in detail.text and "/static/ops.js" in detail.text
    ops_url = f"/ops/appeals/{appeal_id}"
    asked = client.post(f"{ops_url}/reply", data={"text": "Looking into it."})
    assert 'id="confirm-form"' in asked.text and 'id="ops-nav"' in asked.text
    asked = client.post(f"{ops_url}/assign", data={"assign_me": "yes"})
    assert 'id="confirm-form"' in asked.text and "Assign to: opal" in asked.text
    assert client.get(f"/api/ops/appeals/{appeal_id}").json()["status"] == "open"
    assert client.post(f"{ops_url}/reply", data={"text": "Looking into it.", "confirm": "yes"},
                       follow_redirects=False).status_code == 303  # fmt: skip
    assert client.post(f"{ops_url}/assign", data={"assign_me": "yes", "confirm": "yes"},
                       follow_redirects=False).status_code == 303  # fmt: skip
    assert [a["id"] for a in client.get("/api/ops/appeals?assigned=mine").json()] == [appeal_id]
    assert client.get(f"/api/ops/appeals/{appeal_id}").json()["status"] == "answered"
    decide = {"outcome": "denied", "text": "The log shows the other player finished first."}
    unconfirmed = client.post(f"/ops/appeals/{appeal_id}/decide", data=decide)
    assert unconfirmed.status_code == 200 and 'id="confirm-form"' in unconfirmed.text
    assert "Decision: Denied" in unconfirmed.text
    assert client.get(f"/api/ops/appeals/{appeal_id}").json()["status"] == "answered"
    decided = client.post(f"/ops/appeals/{appeal_id}/decide", data={**decide, "confirm": "yes"},
                          follow_redirects=False)  # fmt: skip
    assert decided.status_code == 303
    assert client.get("/api/ops/appeals").json() == []

    # The player reads the thread: the operator's words, labelled "Operator" only.
    del client.headers["Authorization"]
    page = client.get(url)
    assert "Looking into it." in page.text and "The log shows" in page.text
    assert "Operator" in page.text and "opal" not in page.text
    assert "<strong>You</strong>" in page.text
    assert 'data-status="decided"' in page.text and "Denied" in page.text
    assert 'id="appeal-reply-form"' not in page.text
    messages = client.get(f"/api/appeals/{appeal_id}").json()["messages"]
    assert [m["staff"] for m in messages] == [False, False, True, True]
    assert all("author" not in m for m in messages)
    client.cookies.set("lang", "ko")
    assert "기각" in client.get(url).text


def test_others_get_404(client: TestClient) -> None:
    client.cookies.set("lang", "en")
    sign_in(client, "owen")
    seeded = run(client, _game, "owen")
    form = client.get(f"/appeals/new?submission={seeded['submission']}")
    filed = client.post(
        "/appeals/new", follow_redirects=False,
        data={"kind": "verdict", "target": str(seeded["submission"]), "text": TEXT,
              "csrf_token": _form_token(form.text), "confirm": "yes"},
    )  # fmt: skip
    assert filed.status_code == 303
    url = filed.headers["location"]
    appeal_id = int(url.rsplit("/", 1)[1])
    # The owner on the operators' pages: 404, like a page that does not exist.
    for path in ("/ops/appeals", f"/ops/appeals/{appeal_id}", "/api/ops/appeals",
                 f"/api/ops/appeals/{appeal_id}"):  # fmt: skip
        assert client.get(path).status_code == 404, path
    reply = client.post(f"/ops/appeals/{appeal_id}/reply", data={"text": "hi"})
    assert reply.status_code == 404

    client.cookies.clear()
    client.cookies.set("lang", "en")
    assert client.get("/ops/appeals").status_code == 404  # signed out
    sign_in(client, "stranger")
    for path in (url, f"/api/appeals/{appeal_id}", f"/appeals/new?match={seeded['match']}",
                 f"/appeals/new?submission={seeded['submission']}", "/appeals/new?flag=1",
                 "/appeals/new"):  # fmt: skip
        assert client.get(path).status_code == 404, path
    assert client.get("/appeals").status_code == 200
    # Moderators handle chat, not appeals.
    client.headers["Authorization"] = run(client, _staff, "mod", "moderator")
    assert client.get(f"/ops/appeals/{appeal_id}").status_code == 404


async def _ban(session: AsyncSession, services: Services, nickname: str) -> None:
    user = await session.scalar(select(User).where(User.nickname == nickname))
    assert user is not None
    user.banned_at = datetime.now(UTC)
    await session.commit()


def test_a_banned_player_still_reaches_their_appeals(client: TestClient) -> None:
    client.cookies.set("lang", "en")
    sign_in(client, "bianca")
    seeded = run(client, _game, "bianca")
    run(client, _ban, "bianca")
    assert client.get("/appeals").status_code == 200
    form = client.get(f"/appeals/new?match={seeded['match']}")
    assert form.status_code == 200
    filed = client.post(
        "/appeals/new", follow_redirects=False,
        data={"kind": "game", "target": str(seeded["match"]), "text": TEXT,
              "csrf_token": _form_token(form.text), "confirm": "yes"},
    )  # fmt: skip
    assert filed.status_code == 303
    assert client.get(filed.headers["location"]).status_code == 200
    # The API too: a session sends the CSRF header, as for any API write.
    body = {"kind": "verdict", "submission_id": seeded["submission"], "text": TEXT}
    assert client.post("/api/appeals", json=body).status_code == 403  # no CSRF header
    page = client.get("/appeals").text
    header = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert header is not None
    filed_api = client.post("/api/appeals", json=body, headers={"X-CSRF-Token": header.group(1)})
    assert filed_api.status_code == 201, filed_api.text
    assert filed_api.json()["kind"] == "verdict"


async def _own_appeal(session: AsyncSession, services: Services, nickname: str) -> int:
    """`nickname` (an operator) appeals a verdict of their own, as any player may."""
    me = await session.scalar(select(User).where(User.nickname == nickname))
    assert me is not None
    submission = await make_submission(session, services.blobs, me)
    submission.verdict, submission.status = "WA", "done"
    await session.commit()
    appeal = await appeals.file(session, me, "verdict", TEXT, submission_id=submission.id,
                                settings=services.settings)  # fmt: skip
    return appeal.id


def test_staff_never_act_on_their_own_appeal(client: TestClient) -> None:
    client.cookies.set("lang", "en")
    client.headers["Authorization"] = run(client, _staff, "olga", "operator")
    appeal_id = run(client, _own_appeal, "olga")
    url = f"/ops/appeals/{appeal_id}"
    assert client.get(url).status_code == 200  # she may read it
    forms = {
        "reply": {"text": "I answer myself."},
        "assign": {"assign_me": "yes"},
        "decide": {"outcome": "granted", "text": "Granted by me, for me."},
    }
    for action, data in forms.items():
        for confirm in ("", "yes"):
            refused = client.post(f"{url}/{action}", data={**data, "confirm": confirm})
            assert refused.status_code == 403, (action, confirm)
            assert "You cannot act on your own case" in refused.text
    assert client.get(f"/api/ops/appeals/{appeal_id}").json()["status"] == "open"
    # Another operator may, but not assign it to its owner.
    client.headers["Authorization"] = run(client, _staff, "oscar", "operator")
    olga = run(client, _user_id, "olga")
    to_owner = client.post(f"{url}/assign", data={"operator": str(olga), "confirm": "yes"})
    assert to_owner.status_code == 422
    assert client.post(f"{url}/reply", data={"text": "Looking.", "confirm": "yes"},
                       follow_redirects=False).status_code == 303  # fmt: skip


async def _user_id(session: AsyncSession, services: Services, nickname: str) -> int:
    user = await session.scalar(select(User).where(User.nickname == nickname))
    assert user is not None
    return user.id


def test_a_banned_operator_is_nobodys_staff(client: TestClient) -> None:
    client.cookies.set("lang", "en")
    client.headers["Authorization"] = run(client, _staff, "ophelia", "operator")
    appeal_id = run(client, _own_appeal, "ophelia")
    assert client.get("/ops/appeals").status_code == 200
    run(client, _ban, "ophelia")
    for path in ("/ops", "/ops/appeals", f"/ops/appeals/{appeal_id}", "/api/ops/appeals",
                 "/ops/flags", "/ops/fleet", "/api/ops/fleet", "/ops/users",
                 "/ops/audit"):  # fmt: skip
        assert client.get(path).status_code == 404, path
    decide = {"outcome": "granted", "text": "Overturning my own ban.", "confirm": "yes"}
    assert client.post(f"/ops/appeals/{appeal_id}/decide", data=decide).status_code == 404


def test_assignees_that_are_not_ids_are_refused(client: TestClient) -> None:
    client.cookies.set("lang", "en")
    sign_in(client, "petra")
    seeded = run(client, _game, "petra")
    form = client.get(f"/appeals/new?match={seeded['match']}")
    filed = client.post(
        "/appeals/new", follow_redirects=False,
        data={"kind": "game", "target": str(seeded["match"]), "text": TEXT,
              "csrf_token": _form_token(form.text), "confirm": "yes"},
    )  # fmt: skip
    appeal_id = int(filed.headers["location"].rsplit("/", 1)[1])
    client.headers["Authorization"] = run(client, _staff, "orla", "operator")
    for operator in ("²", "999999999999", "-3", "1.5"):
        for confirm in ("", "yes"):
            answer = client.post(f"/ops/appeals/{appeal_id}/assign",
                                 data={"operator": operator, "confirm": confirm})  # fmt: skip
            assert answer.status_code == 422, (operator, confirm)
            assert "Appeals can only be assigned to operators." in answer.text
    assert client.get(f"/api/ops/appeals/{appeal_id}").json()["assigned_to"] is None


async def _banned_flag(session: AsyncSession, services: Services, nickname: str) -> dict[str, int]:
    """A finished game of `nickname` and a decided flag about it: a ban, with the reason
    the player was shown."""
    seeded = await _game(session, services, nickname)
    me = await session.scalar(select(User).where(User.nickname == nickname))
    assert me is not None
    sanction = Sanction(user_id=me.id, kind="ban", reason="Code pasted from elsewhere.",
                        starts_at=datetime(2026, 3, 2, 1, 0, tzinfo=UTC))  # fmt: skip
    session.add(sanction)
    await session.flush()
    flag = Flag(
        key=f"report:pages-{seeded['match']}", source="report", level="high", score=0.9,
        user_id=me.id, match_id=seeded["match"], reasons=[], status=FLAG_DECIDED,
        decision="ban", decision_reason="Code pasted from elsewhere.", sanction_id=sanction.id,
        decided_at=datetime(2026, 3, 2, 1, 0, tzinfo=UTC),
    )  # fmt: skip
    session.add(flag)
    await session.commit()
    return {**seeded, "flag": flag.id}


def test_a_decision_appeal_in_the_players_words_and_final_once_decided(
    client: TestClient,
) -> None:
    """The player reads which decision they appeal (a ban, its date, the reason they were
    shown, the game), never "flag"; the operators' queue names the decision; once decided,
    a second appeal about it is refused (409) with a link to the decided one."""
    client.cookies.set("lang", "en")
    sign_in(client, "petra")
    seeded = run(client, _banned_flag, "petra")
    form = client.get(f"/appeals/new?flag={seeded['flag']}")
    assert form.status_code == 200 and 'id="appeal-new-form"' in form.text
    about = form.text.split('id="appeal-about"', 1)[1].split("</dl>", 1)[0]
    assert "Ban, decided 2026-03-02" in about and "Code pasted from elsewhere." in about
    assert f'href="/matches/{seeded["match"]}/replay"' in about
    assert "flag" not in about.lower()
    body = {"kind": "decision", "target": str(seeded["flag"]), "text": TEXT,
            "csrf_token": _form_token(form.text)}  # fmt: skip
    asked = client.post("/appeals/new", data=body)
    assert "Ban, decided 2026-03-02" in asked.text and "flag #" not in asked.text
    filed = client.post("/appeals/new", data={**body, "confirm": "yes"}, follow_redirects=False)
    assert filed.status_code == 303
    appeal_id = int(filed.headers["location"].rsplit("/", 1)[1])
    for page in (client.get("/appeals"), client.get(f"/appeals/{appeal_id}")):
        assert "Ban, decided 2026-03-02" in page.text and "flag #" not in page.text
    assert "Code pasted from elsewhere." in client.get(f"/appeals/{appeal_id}").text
    client.cookies.set("lang", "ko")
    assert "영구 이용 정지 (2026-03-02 결정)" in client.get("/appeals").text

    client.cookies.set("lang", "en")
    client.headers["Authorization"] = run(client, _staff, "otto", "operator")
    queue = client.get("/ops/appeals")
    row = re.search(rf'<tr id="appeal-{appeal_id}".*?</tr>', queue.text, re.S)
    assert row is not None and "Decision: Ban" in row.group(0)
    assert 'class="appealed appealed-ban"' in row.group(0)
    assert client.get("/api/ops/appeals").json()[0]["decision"] == "ban"
    assert "Decision: Ban" in client.get(f"/ops/appeals/{appeal_id}").text
    decide = {"outcome": "denied", "text": "The code matches.", "confirm": "yes"}
    decided = client.post(f"/ops/appeals/{appeal_id}/decide", data=decide, follow_redirects=False)
    assert decided.status_code == 303
    del client.headers["Authorization"]

    # Final: the form says so and links to the decided appeal; filing anyway is a 409.
    again = client.get(f"/appeals/new?flag={seeded['flag']}")
    assert 'id="appeal-new-form"' not in again.text
    assert f'<a href="/appeals/{appeal_id}" id="appeal-decided-link">' in again.text
    assert "That decision is final" in again.text
    refused = client.post("/appeals/new", data={**body, "confirm": "yes"})
    assert refused.status_code == 409
    assert f'href="/appeals/{appeal_id}" id="appeal-decided-link"' in refused.text
    api = client.post("/api/appeals", json={"kind": "decision", "flag_id": seeded["flag"],
                      "text": TEXT}, headers={"X-CSRF-Token": _form_token(form.text)})  # fmt: skip
    assert api.status_code == 409 and api.json()["error"]["code"] == "appeal_decided_before"
    client.cookies.set("lang", "ko")
    assert "이미 결정되었습니다" in client.get(f"/appeals/new?flag={seeded['flag']}").text
