"""The operators' dashboard pages (web/routes/ops.py, the flag pages of web/routes/
fairplay.py): each page for an operator and an admin, 404 for a player and for someone
signed out; the decision form (CSRF, the confirm step, 409 when someone decided first,
the overturn); role changes (admins only, never one's own), a plan change and a sanction
lift, each audited; the audit log's filters and the feedback inbox.

Staff sign in with a browser session (as after OAuth) through a test-only route, so the
forms meet the same CSRF check as in a browser."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from codebattle.accounts import audit
from codebattle.accounts.models import AuditEntry, Feedback, Sanction, User
from codebattle.fairplay.models import Flag
from codebattle.services import Services
from tests.support.factories import make_match, make_problem_version, make_user
from tests.support.sign_in import with_sign_in

SESSION_ROUTE = "/_test/ops-session"
INVITE_ROW = 'href="/ops/audit?action=invite"'  # an invite entry, its action in words
PAGES = ("/ops", "/ops/flags", "/ops/flags/{flag}", "/ops/users?q=pat", "/ops/users/{pat}",
         "/ops/audit", "/ops/feedback")  # fmt: skip


def run(client: TestClient, fn: Callable[..., Any], *args: Any) -> Any:
    """Run `fn(session, services, *args)` in the app's event loop, on its database."""
    services: Services = client.app.state.services  # type: ignore[attr-defined]

    async def go() -> Any:
        async with services.db.session() as session:
            return await fn(session, services, *args)

    return client.portal.call(go)  # type: ignore[union-attr]


@pytest.fixture
def site(client: TestClient) -> TestClient:
    """The app with a route that signs a user in by nickname as an OAuth callback would."""
    return with_sign_in(client, SESSION_ROUTE)


async def _seed(session: AsyncSession, services: Services) -> dict[str, int]:
    """An admin, an operator, a player (pat) flagged in a game with an opponent (ann), a
    warning sanction on pat, two audit entries and some feedback."""
    ids: dict[str, int] = {}
    for nickname, role in (("adam", "admin"), ("opal", "operator"), ("pat", "player")):
        user = await make_user(session, nickname)
        user.role = role
        ids[nickname] = user.id
    ann = await make_user(session, "ann")
    ids["ann"] = ann.id
    version = await make_problem_version(session, services.blobs)
    match = await make_match(session, version, [ids["pat"], ann], now=time.time() - 60)
    old = Flag(key="report:old", source="report", level="review", score=0.4,
               user_id=ids["pat"], match_id=match.id, reasons=[])  # fmt: skip
    session.add(old)
    await session.flush()
    flag = Flag(key="risk:x", source="risk", level="high", score=0.9, user_id=ids["pat"],
                match_id=match.id, reasons=[])  # fmt: skip
    session.add(flag)
    await session.flush()
    sanction = Sanction(user_id=ids["pat"], kind="warn", reason="earlier warning",
                        created_by=ids["opal"])  # fmt: skip
    session.add(sanction)
    audit.record(session, ids["adam"], "adam", "invite", ids["ann"], None, "x", "welcome")
    audit.record(session, ids["opal"], "opal", "chat_delete", ids["pat"], None, None, "rude",
                 target="match:1")  # fmt: skip
    session.add_all([
        Feedback(user_id=ids["pat"], category="bug", text="the timer froze", page="/play"),
        Feedback(user_id=None, category="idea", text="dark mode please", page="/"),
    ])  # fmt: skip
    await session.commit()
    ids |= {"flag": flag.id, "old_flag": old.id, "match": match.id, "sanction": sanction.id}
    return ids


def become(client: TestClient, nickname: str | None) -> str:
    """Sign in as `nickname` (None: sign out); return the page's CSRF token."""
    client.cookies.delete("codebattle_session")
    if nickname is not None:
        assert client.post(SESSION_ROUTE, json={"nickname": nickname}).status_code == 204
    page = client.get("/problems")
    token = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
    assert token is not None
    return token.group(1)


def test_every_page_is_for_operators_and_admins_only(site: TestClient) -> None:
    ids = run(site, _seed)
    paths = [p.format(**ids) for p in PAGES]
    for nickname in (None, "pat"):
        become(site, nickname)
        for path in paths:
            assert site.get(path, follow_redirects=False).status_code == 404, (nickname, path)
        assert site.post(f"/ops/flags/{ids['flag']}/decision", data={}).status_code in (403, 404)
    for nickname in ("opal", "adam"):
        become(site, nickname)
        for path in paths:
            page = site.get(path)
            assert page.status_code == 200, (nickname, path)
            assert 'id="ops-nav"' in page.text
        home = site.get("/")
        assert 'id="nav-ops"' in home.text and 'href="/ops"' in home.text


def test_home_queue_and_history(site: TestClient) -> None:
    ids = run(site, _seed)
    become(site, "opal")
    home = site.get("/ops").text
    assert 'aria-current="page"' in home and "dark mode please" in home
    assert re.search(r'data-level="high">.*?<strong>1</strong>', home, re.S)
    queue = site.get("/ops/flags").text
    assert queue.index(f'id="flag-{ids["flag"]}"') < queue.index(f'id="flag-{ids["old_flag"]}"')
    page = site.get(f"/ops/flags/{ids['flag']}").text
    assert f'id="history-{ids["pat"]}"' in page and f'id="history-{ids["ann"]}"' in page
    assert f'href="/ops/flags/{ids["old_flag"]}"' in page  # pat's other flag
    assert 'id="decision-form"' in page and '<option value="7" selected>' in page
    assert 'name="csrf_token"' in page and "/static/ops.js" in page


def _flag_status(client: TestClient, flag_id: int) -> tuple[str, str | None, str]:
    async def read(session: AsyncSession, _services: Services) -> tuple[str, str | None, str]:
        flag = await session.get(Flag, flag_id)
        assert flag is not None
        return flag.status, flag.decision, flag.decision_reason

    result: tuple[str, str | None, str] = run(client, read)
    return result


def test_deciding_a_flag_needs_csrf_and_a_confirmation(site: TestClient) -> None:
    ids = run(site, _seed)
    csrf = become(site, "opal")
    url = f"/ops/flags/{ids['flag']}/decision"
    form = {"decision": "dismiss", "reason": "Looked at the code: it is their own work."}

    assert site.post(url, data=form).status_code == 403  # no CSRF token
    asked = site.post(url, data=form | {"csrf_token": csrf})
    assert asked.status_code == 200 and 'id="confirm-form"' in asked.text
    assert 'name="confirm" value="yes"' in asked.text and "their own work" in asked.text
    assert _flag_status(site, ids["flag"])[0] == "open"  # asked, not done
    assert site.post(url, data={"decision": "dismiss", "reason": " ", "csrf_token": csrf,
                                "confirm": "yes"}).status_code == 422  # fmt: skip

    done = site.post(url, data=form | {"csrf_token": csrf, "confirm": "yes"},
                     follow_redirects=False)  # fmt: skip
    assert done.status_code == 303
    assert _flag_status(site, ids["flag"]) == ("decided", "dismiss", form["reason"])
    page = site.get(done.headers["location"]).text
    assert 'id="decision-made">Dismiss' in page and "opal" in page
    assert 'id="decision-form"' not in page
    assert 'id="overturn-form"' not in page and 'id="dismissal-final"' in page  # nothing to undo

    again = site.post(url, data={"decision": "ban", "reason": "Too late now.",
                                 "csrf_token": csrf, "confirm": "yes"})  # fmt: skip
    assert again.status_code == 409
    assert 'id="notice"' in again.text
    assert _flag_status(site, ids["flag"])[1] == "dismiss"

    overturn = f"/ops/flags/{ids['flag']}/overturn"
    reason = {"reason": "Dismissed by mistake.", "csrf_token": csrf}
    refused = site.post(overturn, data=reason | {"confirm": "yes"}, follow_redirects=False)
    assert refused.status_code == 409 and 'id="notice"' in refused.text
    assert _flag_status(site, ids["flag"])[0] == "decided"


def test_a_suspension_takes_one_of_the_settings_lengths(site: TestClient) -> None:
    ids = run(site, _seed)
    csrf = become(site, "adam")
    url = f"/ops/flags/{ids['flag']}/decision"
    form = {"decision": "suspend", "reason": "Pasted a solution from outside.",
            "csrf_token": csrf, "confirm": "yes"}  # fmt: skip
    assert site.post(url, data=form | {"days": "5"}).status_code == 422
    assert site.post(url, data=form | {"days": "7"}, follow_redirects=False).status_code == 303
    assert _flag_status(site, ids["flag"])[:2] == ("decided", "suspend")


async def _user(session: AsyncSession, _services: Services, user_id: int) -> User:
    user = await session.get(User, user_id)
    assert user is not None
    return user


async def _entries(session: AsyncSession, _services: Services, action: str) -> list[AuditEntry]:
    return await audit.search(session, action=action)


def test_role_changes_are_for_admins_and_never_ones_own(site: TestClient) -> None:
    ids = run(site, _seed)
    form = {"role": "moderator", "reason": "Helps in the chat.", "confirm": "yes"}
    csrf = become(site, "opal")
    page = site.get(f"/ops/users/{ids['pat']}").text
    assert 'id="role-read-only"' in page and 'id="role-form"' not in page
    refused = site.post(f"/ops/users/{ids['pat']}/role", data=form | {"csrf_token": csrf})
    assert refused.status_code == 403

    csrf = become(site, "adam")
    assert 'id="role-read-only"' in site.get(f"/ops/users/{ids['adam']}").text
    own = site.post(f"/ops/users/{ids['adam']}/role", data=form | {"csrf_token": csrf})
    assert own.status_code == 403
    assert run(site, _user, ids["pat"]).role == "player"

    url = f"/ops/users/{ids['pat']}/role"
    asked = site.post(url, data={**form, "confirm": "", "csrf_token": csrf})
    assert 'id="confirm-form"' in asked.text
    done = site.post(url, data=form | {"csrf_token": csrf}, follow_redirects=False)
    assert done.status_code == 303
    assert run(site, _user, ids["pat"]).role == "moderator"
    (entry,) = run(site, _entries, "role")
    assert (entry.actor_id, entry.subject_user_id) == (ids["adam"], ids["pat"])
    assert entry.new == "moderator"


def test_a_plan_change_is_audited(site: TestClient) -> None:
    ids = run(site, _seed)
    csrf = become(site, "opal")
    url = f"/ops/users/{ids['pat']}/plan"
    form = {"plan": "pro", "days": "30", "reason": "Contest prize.", "csrf_token": csrf}
    assert site.post(url, data=form | {"days": "0", "confirm": "yes"}).status_code == 422
    assert 'id="confirm-form"' in site.post(url, data=form).text
    assert run(site, _user, ids["pat"]).plan == "free"
    assert site.post(url, data=form | {"confirm": "yes"}, follow_redirects=False).status_code == 303
    pat = run(site, _user, ids["pat"])
    assert pat.plan == "pro" and pat.plan_ends_at is not None
    (entry,) = run(site, _entries, "plan")
    assert (entry.actor_id, entry.subject_user_id, entry.reason) == (
        ids["opal"], ids["pat"], "Contest prize.",
    )  # fmt: skip
    assert 'id="user-plan">Pro' in site.get(f"/ops/users/{ids['pat']}").text


def test_lifting_a_sanction(site: TestClient) -> None:
    ids = run(site, _seed)
    csrf = become(site, "opal")
    page = site.get(f"/ops/users/{ids['pat']}").text
    url = f"/ops/users/{ids['pat']}/sanctions/{ids['sanction']}/lift"
    assert f'action="{url}"' in page
    form = {"reason": "Warned by mistake.", "csrf_token": csrf}
    assert site.post(url, data={"reason": "x"}).status_code == 403  # no CSRF token
    wrong_user = f"/ops/users/{ids['ann']}/sanctions/{ids['sanction']}/lift"
    assert site.post(wrong_user, data=form | {"confirm": "yes"}).status_code == 404
    assert 'id="confirm-form"' in site.post(url, data=form).text
    assert site.post(url, data=form | {"confirm": "yes"}, follow_redirects=False).status_code == 303

    async def lifted(session: AsyncSession, _services: Services) -> Sanction | None:
        return await session.get(Sanction, ids["sanction"])

    sanction = run(site, lifted)
    assert sanction.lifted_at is not None and sanction.lifted_by == ids["opal"]
    assert len(run(site, _entries, "sanction_lift")) == 1
    assert f'action="{url}"' not in site.get(f"/ops/users/{ids['pat']}").text


def test_the_audit_log_and_the_feedback_inbox(site: TestClient) -> None:
    ids = run(site, _seed)
    become(site, "opal")
    everything = site.get("/ops/audit").text
    assert "chat_delete" in everything and "invite" in everything
    assert 'href="/ops/users/' in everything
    main = everything[everything.index("<main") : everything.index("</main>")]
    assert not re.search(r'<form[^>]*method="post"', main)  # nothing to edit
    by_opal = site.get("/ops/audit", params={"actor": "OPAL"}).text
    assert "chat_delete" in by_opal and INVITE_ROW not in by_opal
    about_ann = site.get("/ops/audit", params={"subject": "ann"}).text
    assert INVITE_ROW in about_ann and "chat_delete" not in about_ann
    assert "chat_delete" in site.get("/ops/audit", params={"target": "match:1"}).text
    assert "chat_delete" not in site.get("/ops/audit", params={"action": "invite"}).text
    assert 'id="audit-unknown"' in site.get("/ops/audit", params={"actor": "nobody"}).text
    newest = max(e.id for e in run(site, _entries, "invite") + run(site, _entries, "chat_delete"))
    older = site.get("/ops/audit", params={"before": str(newest)}).text
    assert INVITE_ROW in older and "chat_delete" not in older

    inbox = site.get("/ops/feedback").text
    assert inbox.index("dark mode please") < inbox.index("the timer froze")
    assert f'href="/ops/users/{ids["pat"]}"' in inbox and 'href="/play"' in inbox
    bugs = site.get("/ops/feedback", params={"category": "bug"}).text
    assert "the timer froze" in bugs and "dark mode please" not in bugs


def test_user_search(site: TestClient) -> None:
    ids = run(site, _seed)
    become(site, "opal")
    found = site.get("/ops/users", params={"q": "PA"}).text
    assert f'href="/ops/users/{ids["pat"]}"' in found
    assert f'href="/ops/users/{ids["ann"]}"' not in found


def test_numbers_that_are_not_numbers_are_refused(site: TestClient) -> None:
    """ "²".isdigit() is True but int("²") fails: such input is a 4xx, never a 500."""
    ids = run(site, _seed)
    csrf = become(site, "opal")
    for path in ("/ops/audit", "/ops/feedback"):
        for before in ("²", "999999999999", "-1"):
            assert site.get(path, params={"before": before}).status_code == 404, (path, before)
    plan = {"plan": "pro", "reason": "Contest prize.", "csrf_token": csrf, "confirm": "yes"}
    for days in ("²", "99999999999999999999", "0"):
        answer = site.post(f"/ops/users/{ids['pat']}/plan", data=plan | {"days": days})
        assert answer.status_code == 422, days
    decision = {"decision": "suspend", "reason": "Pasted a solution from outside.",
                "csrf_token": csrf}  # fmt: skip
    for confirm in ("", "yes"):
        answer = site.post(f"/ops/flags/{ids['flag']}/decision",
                           data=decision | {"days": "²", "confirm": confirm})  # fmt: skip
        assert answer.status_code == 422, confirm
    # The flag page shown again after a refusal keeps a valid length, ignores another.
    too_long = decision | {"days": "³", "reason": "x" * 1001}
    again = site.post(f"/ops/flags/{ids['flag']}/decision", data=too_long)
    assert again.status_code == 422 and "x" * 1001 in again.text
    assert run(site, _user, ids["pat"]).plan == "free"


def test_a_reason_over_the_limit_shows_the_form_again(site: TestClient) -> None:
    ids = run(site, _seed)
    csrf = become(site, "opal")
    long = "A long reason. " * 70  # over ops.decisions.REASON_MAX (1000)
    assert len(long.strip()) > 1000
    page = site.get(f"/ops/flags/{ids['flag']}").text
    assert 'maxlength="1000"' in page and 'maxlength="2000"' not in page
    for confirm in ("", "yes"):
        again = site.post(f"/ops/flags/{ids['flag']}/decision", data={
            "decision": "suspend", "days": "3", "reason": long, "csrf_token": csrf,
            "confirm": confirm})  # fmt: skip
        assert again.status_code == 422 and 'id="notice"' in again.text
        assert 'id="decision-form"' in again.text and long.strip() in again.text
        assert 'value="suspend" id="decision-suspend" required checked' in again.text
        assert '<option value="3" selected>' in again.text
    assert _flag_status(site, ids["flag"])[0] == "open"
    user_page = site.get(f"/ops/users/{ids['pat']}").text
    assert 'maxlength="1000"' in user_page and 'maxlength="2000"' not in user_page
    for which, url, data in (
        ("plan-reason", f"/ops/users/{ids['pat']}/plan", {"plan": "pro"}),
        ("lift-reason", f"/ops/users/{ids['pat']}/sanctions/{ids['sanction']}/lift", {}),
    ):
        again = site.post(url, data=data | {"reason": long, "csrf_token": csrf})
        assert again.status_code == 422 and 'id="notice"' in again.text, which
        assert "1000" in again.text and long.strip() in again.text, which
    assert run(site, _user, ids["pat"]).plan == "free"


def test_staff_never_change_their_own_plan_or_lift_their_own_sanction(site: TestClient) -> None:
    ids = run(site, _seed)

    async def sanction_opal(session: AsyncSession, _services: Services) -> int:
        sanction = Sanction(user_id=ids["opal"], kind="warn", reason="rude in chat",
                            created_by=ids["adam"])  # fmt: skip
        session.add(sanction)
        await session.commit()
        return sanction.id

    own_sanction = run(site, sanction_opal)
    csrf = become(site, "opal")
    for confirm in ("", "yes"):
        plan = site.post(f"/ops/users/{ids['opal']}/plan", data={
            "plan": "pro", "reason": "Treat myself.", "csrf_token": csrf,
            "confirm": confirm})  # fmt: skip
        assert plan.status_code == 403, confirm
        lift = site.post(f"/ops/users/{ids['opal']}/sanctions/{own_sanction}/lift", data={
            "reason": "Not fair.", "csrf_token": csrf, "confirm": confirm})  # fmt: skip
        assert lift.status_code == 403, confirm
    assert run(site, _user, ids["opal"]).plan == "free"
    csrf = become(site, "adam")  # another operator may
    assert site.post(f"/ops/users/{ids['opal']}/sanctions/{own_sanction}/lift", data={
        "reason": "Apologised.", "csrf_token": csrf, "confirm": "yes"},
        follow_redirects=False).status_code == 303  # fmt: skip


def test_the_role_confirm_step_names_roles_in_words(site: TestClient) -> None:
    ids = run(site, _seed)
    csrf = become(site, "adam")
    form = {"role": "operator", "reason": "Joins the team.", "csrf_token": csrf}
    asked = site.post(f"/ops/users/{ids['pat']}/role", data=form)
    assert "from Player to Operator" in asked.text and "role_" not in asked.text


def test_a_banned_operator_gets_404_everywhere(site: TestClient) -> None:
    ids = run(site, _seed)

    async def ban_opal(session: AsyncSession, _services: Services) -> None:
        opal = await session.get(User, ids["opal"])
        assert opal is not None
        opal.banned_at = datetime.now(UTC)
        await session.commit()

    run(site, ban_opal)
    become(site, "opal")
    for path in [p.format(**ids) for p in PAGES] + ["/ops/fleet", "/ops/appeals"]:
        assert site.get(path).status_code == 404, path


async def _feedback_state(
    session: AsyncSession, services: Services, text: str
) -> tuple[datetime | None, int | None]:
    item = await session.scalar(select(Feedback).where(Feedback.text == text))
    assert item is not None
    return item.handled_at, item.handled_by


def test_feedback_is_marked_handled_and_open_again(site: TestClient) -> None:
    """The inbox shows open messages by default; marking one handled needs the CSRF token
    and the confirm step, is audited, and moves it to the handled view; it can be opened
    again. Players get 404."""
    ids = run(site, _seed)
    csrf = become(site, "opal")
    inbox = site.get("/ops/feedback").text
    found = re.search(r'action="/ops/feedback/(\d+)/handled"[^>]*>', inbox)
    assert found is not None and "the timer froze" in inbox
    bug = int(re.findall(r'id="feedback-(\d+)"', inbox)[1])  # the older one: the bug
    path = f"/ops/feedback/{bug}/handled"
    assert site.post(path, data={"handled": "yes", "confirm": "yes"}).status_code == 403
    asked = site.post(path, data={"handled": "yes", "csrf_token": csrf})
    assert asked.status_code == 200 and 'name="confirm" value="yes"' in asked.text
    assert run(site, _feedback_state, "the timer froze") == (None, None)
    done = site.post(path, data={"handled": "yes", "csrf_token": csrf, "confirm": "yes"})
    assert done.status_code == 200  # redirected to the inbox
    handled_at, handled_by = run(site, _feedback_state, "the timer froze")
    assert handled_at is not None and handled_by == ids["opal"]
    assert "the timer froze" not in site.get("/ops/feedback").text
    handled = site.get("/ops/feedback", params={"state": "handled"}).text
    assert "the timer froze" in handled and f'id="feedback-reopen-{bug}"' in handled
    assert "dark mode please" in site.get("/ops/feedback", params={"state": "all"}).text
    assert "feedback:" in site.get("/ops/audit", params={"target": f"feedback:{bug}"}).text
    site.post(path, data={"handled": "no", "csrf_token": csrf, "confirm": "yes"})
    assert run(site, _feedback_state, "the timer froze") == (None, None)
    assert site.post("/ops/feedback/99999/handled",
                     data={"csrf_token": csrf, "confirm": "yes"}).status_code == 404  # fmt: skip
    player_csrf = become(site, "pat")
    answer = site.post(path, data={"csrf_token": player_csrf, "confirm": "yes"})
    assert answer.status_code == 404
