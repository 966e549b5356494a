"""What the operators' users pages read (ops/people.py): the search by part of a nickname
or an email, any case, at most 50, LIKE's wildcards taken literally; and one user's file
with each section (sanctions, flags, reports by and about them, payments, audit entries,
appeals). Also the home page's figures and the feedback inbox (ops/overview.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from codebattle.accounts import audit
from codebattle.accounts.models import Feedback, Payment, Sanction, User
from codebattle.db.session import Database
from codebattle.fairplay.models import Flag
from codebattle.ops import overview, people
from codebattle.ops.models import Appeal, InstanceBeat

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


async def test_search_by_part_of_a_nickname_or_email_in_any_case(db: Database) -> None:
    async with db.session() as session:
        session.add_all(
            [
                User(nickname="KimCoder", email="kim@example.com"),
                User(nickname="lee", email="Lee.Park@Mail.example"),
                User(nickname="under_score"),
                User(nickname="underXscore"),
                User(nickname="kim"),
            ]
            + [User(nickname=f"many{i:02d}") for i in range(60)]
        )
        await session.commit()

    async with db.session() as session:
        found = [u.nickname for u in await people.search_users(session, "KIM")]
        assert found == ["kim", "KimCoder"]  # the exact nickname first
        assert [u.nickname for u in await people.search_users(session, "park@mail")] == ["lee"]
        assert [u.nickname for u in await people.search_users(session, "r_s")] == ["under_score"]
        assert await people.search_users(session, "%") == []
        assert await people.search_users(session, "  ") == []
        assert len(await people.search_users(session, "many")) == 50
        assert (await people.user_by_nickname(session, "KIMCODER")) is not None


async def test_a_users_file_has_every_section(db: Database) -> None:
    async with db.session() as session:
        op, kim = User(nickname="opal", role="operator"), User(nickname="kim")
        session.add_all([op, kim])
        await session.flush()
        flag = Flag(
            key="report:1", source="report", level="review", score=0.5, user_id=kim.id,
            reasons=[],
        )  # fmt: skip
        session.add(flag)
        await session.flush()
        session.add_all(
            [
                Sanction(user_id=kim.id, kind="warn", reason="be nice", flag_id=flag.id,
                         created_by=op.id),
                Payment(id="pay-1", user_id=kim.id, plan="pro", amount=9900, kind="checkout"),
                Appeal(user_id=kim.id, kind="decision", flag_id=flag.id, text="not me",
                       first_response_due=NOW, decision_due=NOW + timedelta(days=7)),
            ]
        )  # fmt: skip
        audit.record(session, op.id, "opal", "flag_decide", kim.id, "open", "warn", "r", "flag:1")
        await session.commit()
        kim_id, op_id = kim.id, op.id

    async with db.session() as session:
        file = await people.user_file(session, kim_id)
        assert file is not None
        assert file["user"].nickname == "kim"
        assert [s.kind for s in file["sanctions"]] == ["warn"]
        assert [f.key for f in file["flags"]] == ["report:1"]
        assert [p.id for p in file["payments"]] == ["pay-1"]
        assert [a.text for a in file["appeals"]] == ["not me"]
        assert [e.target for e in file["audit"]] == ["flag:1"]
        assert file["reports_by"] == [] and file["reports_about"] == []
        assert file["names"][op_id] == "opal"
        assert await people.user_file(session, 999_999) is None


async def test_home_figures_and_the_feedback_inbox(db: Database) -> None:
    async with db.session() as session:
        kim = User(nickname="kim")
        session.add(kim)
        await session.flush()
        for n, level in enumerate(("high", "review", "review")):
            session.add(Flag(key=f"k{n}", source="risk", level=level, score=1, user_id=kim.id,
                             reasons=[]))  # fmt: skip
        session.add(Flag(key="done", source="risk", level="high", score=1, user_id=kim.id,
                         reasons=[], status="decided"))  # fmt: skip
        for first, decision in (
            (NOW - timedelta(hours=1), NOW + timedelta(days=5)),  # lapsed
            (NOW + timedelta(hours=3), NOW + timedelta(days=5)),  # soon
            (NOW + timedelta(days=3), NOW + timedelta(days=7)),  # fine
        ):
            session.add(Appeal(user_id=kim.id, kind="game", text="x", first_response_due=first,
                               decision_due=decision))  # fmt: skip
        session.add(InstanceBeat(instance="a", host="h", pid=1, started_at=NOW, seen_at=NOW,
                                 live_games=3, sockets=7))  # fmt: skip
        session.add(
            InstanceBeat(
                instance="b",
                host="h",
                pid=2,
                started_at=NOW,
                seen_at=NOW - timedelta(hours=1),
                live_games=9,
                sockets=9,
            )
        )
        for n in range(4):
            session.add(
                Feedback(
                    user_id=kim.id if n % 2 else None,
                    text=f"t{n}",
                    category="bug" if n < 3 else "idea",
                    page="/play",
                )
            )
        await session.commit()

    async with db.session() as session:
        found = await overview.attention(session, warn_hours=24, now=NOW)
        assert found.flags == {"high": 1, "review": 2}
        assert (found.appeals_lapsed, found.appeals_soon, found.appeals_open) == (1, 1, 3)
        assert (found.instances, found.live_games, found.sockets) == (1, 3, 7)
        assert [f.text for f, _ in found.feedback] == ["t3", "t2", "t1", "t0"]

        page, older = await overview.feedback_page(session, "bug", limit=2)
        assert [(f.text, name) for f, name in page] == [("t2", None), ("t1", "kim")]
        assert older is not None
        rest, last = await overview.feedback_page(session, "bug", before_id=older, limit=2)
        assert [f.text for f, _ in rest] == ["t0"] and last is None
