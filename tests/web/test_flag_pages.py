"""The operators' flag pages and the report API (web/routes/fairplay.py): an operator sees
the flag list and a flag's evidence (the matched code side by side with its line ranges,
the pastes, GPTZero unavailable, the reporters' words); a player, and someone signed out,
get 404; a report through the API needs the CSRF header, and is stored once.

Assessments and flags are seeded directly (the lead's fair-play pass makes them)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from codebattle.accounts import service as accounts
from codebattle.battles import fsm
from codebattle.battles import service as battles
from codebattle.fairplay import risk
from codebattle.fairplay.models import Flag, PlayerReport, RiskAssessment
from codebattle.models import User
from codebattle.services import Services
from tests.support.factories import make_match, make_problem_version, make_submission, make_user
from tests.support.site import csrf_of, sign_in

ORIGINAL = "n = int(input())\ntotal = 0\nfor i in range(n):\n    total += i\nprint(total)\n"
COPY = "# mine\nm = int(input())\ns = 0\nfor j in range(m):\n    s += j\nprint(s)\n"


def run(client: TestClient, fn: Callable[..., Any], *args: Any) -> Any:
    """Run `fn(session, services, *args)` in the app's event loop, on its database."""
    services: Services = client.app.state.services  # type: ignore[attr-defined]

    async def go() -> Any:
        async with services.db.session() as session:
            return await fn(session, services, *args)

    return client.portal.call(go)  # type: ignore[union-attr]


async def _staff(session: AsyncSession, services: Services, nickname: str, role: str) -> str:
    """A user with `role` and an API token for them (nickname sign-in is for players only:
    staff sign in otherwise); the Authorization header that presents it."""
    user = await make_user(session, nickname)
    user.role = role
    _row, token = await accounts.create_token(session, user, "test")
    await session.commit()
    return f"Bearer {token}"


async def _seed(session: AsyncSession, services: Services) -> dict[str, int]:
    """A finished duel: Bob's submission copies Ann's (lines 2-6 of his, 1-5 of hers), a
    game assessment of Bob with similarity, paste, GPTZero (no key) and Ann's report, and
    its high flag."""
    version = await make_problem_version(session, services.blobs)
    ann, bob = await make_user(session, "ann"), await make_user(session, "bob")
    match = await make_match(session, version, [ann, bob], now=time.time() - 120)
    match.state = fsm.State.finished
    original = await make_submission(session, services.blobs, ann, code=ORIGINAL)
    copy = await make_submission(session, services.blobs, bob, code=COPY)
    original.match_id = copy.match_id = match.id
    report = PlayerReport(
        reporter_id=ann.id, reported_id=bob.id, match_id=match.id, reason="copied",
        text="Bob's code is my code with the names changed.",
    )  # fmt: skip
    session.add(report)
    await session.flush()
    start_ms = (match.fsm.get("starts_at") or time.time()) * 1000
    signals = [
        risk.Signal(
            risk.SIMILARITY, strength=1.0, params={"score": 100, "kind": "submission"},
            evidence={"matches": [{
                "other_kind": "submission", "other_submission_id": original.id,
                "other_user_id": ann.id, "other_language": "python", "score": 1.0,
                "shared": 14, "same_game": True,
                "fragments": {"submission": [[2, 6]], "other": [[1, 5]]},
            }]},
        ),
        risk.Signal(
            risk.PASTE, strength=0.8, params={"share": 90},
            evidence={"pastes": [
                {"at": start_ms + 75_000, "chars": 60, "lines": 5, "internal": False},
                {"at": start_ms + 5_000, "chars": 3, "lines": 1, "internal": True},
            ], "external_chars": 60, "code_chars": 66},
        ),
        risk.Signal(
            risk.AI_TEXT, status=risk.UNAVAILABLE, evidence={"status": "no_key", "chars": 0}
        ),
        risk.Signal(
            risk.REPORTS, strength=1.0, params={"count": 1},
            evidence={"reports": [{"id": report.id, "reporter_id": ann.id, "reason": "copied",
                                   "text": report.text}]},
        ),
    ]  # fmt: skip
    found = risk.assess(signals)
    assessment = RiskAssessment(
        key=f"match:{match.id}:{bob.id}", scope="game", user_id=bob.id, match_id=match.id,
        score=found.score, level=found.level, signals=[s.to_dict() for s in signals],
    )  # fmt: skip
    session.add(assessment)
    await session.flush()
    flag = Flag(
        key=f"risk:{assessment.key}", source="risk", level="high", score=found.score,
        user_id=bob.id, match_id=match.id, submission_id=copy.id, assessment_id=assessment.id,
        reasons=found.reasons(),
    )  # fmt: skip
    session.add(flag)
    await session.commit()
    return {"flag": flag.id, "match": match.id, "copy": copy.id, "original": original.id}


def test_an_operator_reads_a_flag_with_its_evidence(client: TestClient) -> None:
    client.cookies.set("lang", "en")
    client.headers["Authorization"] = run(client, _staff, "opal", "operator")
    seeded = run(client, _seed)

    listing = client.get("/ops/flags")
    assert listing.status_code == 200
    assert f'id="flag-{seeded["flag"]}"' in listing.text
    assert 'data-level="high"' in listing.text and "bob" in listing.text
    assert client.get("/api/ops/flags").json()[0]["id"] == seeded["flag"]

    page = client.get(f"/ops/flags/{seeded['flag']}")
    assert page.status_code == 200
    html = page.text
    # The reasons in words, with their params.
    assert "Code 100% alike another solution" in html
    assert "90% of the code pasted from outside the page" in html
    # Side by side: both codes, the matched ranges said in words and marked per line.
    assert "Matched lines: 2–6 (marked »)" in html and "Matched lines: 1–5 (marked »)" in html
    assert "total += i" in html and "s += j" in html
    assert html.count('class="line hit"') == 10
    assert "Like ann&#39;s submission" in html or "Like ann's submission" in html
    # Pastes as a timeline, in order, relative to the game's start.
    assert html.index("0:05 into the game") < html.index("1:15 into the game")
    assert "Outside the page" in html and "Inside the page" in html
    # GPTZero without a key, and the reporter's words.
    assert "Not measured: no GPTZero key is set." in html
    assert "Bob&#39;s code is my code with the names changed." in html

    detail = client.get(f"/api/ops/flags/{seeded['flag']}").json()
    similarity = next(s for s in detail["signals"] if s["signal"] == "similarity")
    match = similarity["view"]["matches"][0]
    assert match["submission"]["id"] == seeded["copy"]
    assert [line["number"] for line in match["other"]["lines"] if line["hit"]] == [1, 2, 3, 4, 5]

    assert client.get("/ops/flags/999999").status_code == 404
    client.cookies.set("lang", "ko")
    assert "일치한 줄: 2–6" in client.get(f"/ops/flags/{seeded['flag']}").text


def test_a_report_flag_shows_the_reporters_words(client: TestClient) -> None:
    client.cookies.set("lang", "en")
    csrf = sign_in(client, "ann2")
    seeded: dict[str, int] = {}

    async def game(session: AsyncSession, services: Services) -> None:
        version = await make_problem_version(session, services.blobs)
        ann = await session.scalar(select(User).where(User.nickname == "ann2"))
        assert ann is not None
        bob = await make_user(session, "bob2")
        match = await make_match(session, version, [ann, bob])
        match.state = fsm.State.finished
        await session.commit()
        seeded["match"] = match.id

    run(client, game)
    url = f"/api/matches/{seeded['match']}/report"
    assert client.get(url).json()["reported"] is False
    body = {"reason": "outside_help", "text": "Someone was telling him the answer."}
    assert client.post(url, json=body).status_code == 403  # no CSRF header
    sent = client.post(url, json=body, headers={"X-CSRF-Token": csrf})
    assert sent.status_code == 201, sent.text
    assert client.get(url).json()["reported"] is True
    again = client.post(url, json=body, headers={"X-CSRF-Token": csrf})
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_reported"
    bad = client.post(url, json={"reason": "nope"}, headers={"X-CSRF-Token": csrf})
    assert bad.status_code in (409, 422)

    client.headers["Authorization"] = run(client, _staff, "adam", "admin")  # admins read too
    flags = client.get("/api/ops/flags").json()
    assert flags[0]["source"] == "report" and flags[0]["user"]["nickname"] == "bob2"
    page = client.get(f"/ops/flags/{flags[0]['id']}")
    assert page.status_code == 200
    assert "Someone was telling him the answer." in page.text
    assert "Reported by the opponent" in page.text
    assert "Got help from someone outside the game" in page.text


def test_players_and_strangers_get_404(client: TestClient) -> None:
    assert client.get("/ops/flags").status_code == 404  # signed out
    sign_in(client, "pat")
    seeded = run(client, _seed)
    for path in ("/ops/flags", f"/ops/flags/{seeded['flag']}", "/api/ops/flags"):
        assert client.get(path).status_code == 404, path
    # Moderators handle chat, not fair play.
    client.headers["Authorization"] = run(client, _staff, "mod", "moderator")
    assert client.get(f"/ops/flags/{seeded['flag']}").status_code == 404
    assert client.get("/api/users/pat").status_code == 200  # the token does sign in
    assert "bob" not in client.get("/ops/flags").text


def test_the_match_page_offers_a_report_after_a_human_game(client: TestClient) -> None:
    client.cookies.set("lang", "en")
    sign_in(client, "ann3")
    seeded: dict[str, int] = {}

    async def game(session: AsyncSession, services: Services) -> None:
        version = await make_problem_version(session, services.blobs)
        ann = await session.scalar(select(User).where(User.nickname == "ann3"))
        assert ann is not None
        match = await make_match(session, version, [ann, await make_user(session, "bob3")])
        await session.commit()
        seeded["match"] = match.id

    run(client, game)
    csrf = csrf_of(client)
    page = client.get(f"/matches/{seeded['match']}")
    assert 'id="report-dialog"' in page.text and "Report bob3" in page.text
    assert 'id="rating-held"' in page.text and "/static/report.js" in page.text
    # Not finished yet: refused.
    early = client.post(
        f"/api/matches/{seeded['match']}/report", json={"reason": "copied"},
        headers={"X-CSRF-Token": csrf},
    )  # fmt: skip
    assert early.status_code == 409 and early.json()["error"]["code"] == "report_after_game"


def test_the_replay_says_a_held_result_is_under_review(client: TestClient) -> None:
    client.cookies.set("lang", "en")
    sign_in(client, "ann4")
    seeded: dict[str, int] = {}

    async def game(session: AsyncSession, services: Services) -> None:
        version = await make_problem_version(session, services.blobs)
        ann = await session.scalar(select(User).where(User.nickname == "ann4"))
        assert ann is not None
        match = await make_match(session, version, [ann, await make_user(session, "bob4")])
        match.state = fsm.State.finished
        await session.commit()
        seeded["match"] = match.id

    async def note(session: AsyncSession, _services: Services, kind: str) -> None:
        await battles.note(session, seeded["match"], kind, {})

    run(client, game)
    replay = f"/matches/{seeded['match']}/replay"
    assert 'id="rating-held"' not in client.get(replay).text
    run(client, note, "rating_held")
    held = client.get(replay).text
    assert 'id="rating-held"' in held and "the rating change is held" in held
    run(client, note, "rated")  # an operator let it stand: rated after all
    assert 'id="rating-held"' not in client.get(replay).text


def test_an_operator_asks_gptzero_about_the_chat_and_the_flags_link(client: TestClient) -> None:
    client.cookies.set("lang", "en")
    client.headers["Authorization"] = run(client, _staff, "opal3", "operator")
    seeded = run(client, _seed)

    async def second_flag(session: AsyncSession, services: Services) -> int:
        first = await session.get(Flag, seeded["flag"])
        assert first is not None
        other = Flag(key="report:x", source="report", level="review", score=0.0,
                     user_id=first.user_id, match_id=first.match_id, reasons=[])  # fmt: skip
        session.add(other)
        await session.commit()
        return other.id

    other = run(client, second_flag)
    page = client.get(f"/ops/flags/{seeded['flag']}").text
    assert f'href="/ops/flags/{other}"' in page  # the other flag of the same game
    # No chat said, no key: nothing to ask, never invented.
    assert 'id="chat"' in page and 'id="chat-ask"' not in page
    asked = client.post(f"/ops/flags/{seeded['flag']}/chat-ai-text", follow_redirects=False)
    assert asked.status_code == 303
    assert client.post("/ops/flags/999999/chat-ai-text").status_code == 404
    client.headers.pop("Authorization")
    sign_in(client, "pat3")
    assert client.post(f"/ops/flags/{seeded['flag']}/chat-ai-text").status_code == 404
