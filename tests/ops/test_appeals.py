"""Appeals through their whole life (ops/appeals.py), on SQLite and PostgreSQL: filed about
one's own decided flag, finished game or judged submission (404 otherwise), one open appeal
per target, answered (first response), decided granted or denied (the flag's decision
overturned or the game voided through ops.decisions, a verdict's outcome recorded), with
deadlines in working days (a weekend and Seollal) or calendar days, the queue's urgency at
injected times, the audit entries, the player's notifications and the log seam's records."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from codebattle.accounts.models import AuditEntry, Notification, Sanction
from codebattle.battles import fsm
from codebattle.battles.models import MatchEvent, MatchRow
from codebattle.battles.service import RATING_VOIDED
from codebattle.config import Settings
from codebattle.db.session import Database
from codebattle.errors import UserError
from codebattle.fairplay.models import DECIDED as FLAG_DECIDED
from codebattle.fairplay.models import OVERTURNED as FLAG_OVERTURNED
from codebattle.fairplay.models import Flag
from codebattle.logsink import APPEALS, LogWriter, TableSink
from codebattle.ops import appeals, sla
from codebattle.ops.models import ANSWERED, DECIDED, DENIED, GRANTED, OPEN
from codebattle.storage import LocalBlobStore
from tests.support.factories import make_match, make_problem_version, make_submission, make_user
from tests.support.site import settings_for

SEOUL = ZoneInfo("Asia/Seoul")
# Friday 13 February 2026, 10:00 in Seoul: Seollal falls on Monday 16 to Wednesday 18.
FILED = datetime(2026, 2, 13, 10, 0, tzinfo=SEOUL).astimezone(UTC)
TEXT = "The decision is wrong: I wrote this code myself during the game."


def _settings(tmp_path: Path, **overrides: Any) -> Settings:
    return settings_for(tmp_path, **overrides)


async def _world(session: AsyncSession, tmp_path: Path) -> dict[str, Any]:
    """Ann and Bob's finished duel, Ann's judged submission, a decided flag about Ann, and
    an operator."""
    blobs = LocalBlobStore(tmp_path / "blobs")
    version = await make_problem_version(session, blobs)
    ann, bob = await make_user(session, "ann"), await make_user(session, "bob")
    opal = await make_user(session, "opal")
    opal.role = "operator"
    match = await make_match(session, version, [ann, bob])
    match.state = fsm.State.finished
    submission = await make_submission(session, blobs, ann)
    submission.verdict, submission.status = "WA", "done"
    flag = Flag(
        key=f"report:test-{match.id}", source="report", level="review", score=0.5,
        user_id=ann.id, match_id=match.id, reasons=[], status=FLAG_DECIDED, decision="warn",
        decided_at=FILED,
    )  # fmt: skip
    session.add(flag)
    await session.commit()
    return {"ann": ann, "bob": bob, "opal": opal, "match": match.id, "sub": submission.id,
            "flag": flag.id, "blobs": blobs, "version": version}  # fmt: skip


def test_deadlines_in_working_days_skip_the_weekend_and_seollal() -> None:
    working = sla.Calendar(sla.WORKING, SEOUL, "KR")
    # Friday 10:00 + 3 working days: Thu 19, Fri 20, Mon 23 (the weekend and 16-18 skipped).
    assert working.add_days(FILED, 3) == datetime(2026, 2, 23, 10, 0, tzinfo=SEOUL)
    assert working.add_days(FILED, 7) == datetime(2026, 2, 27, 10, 0, tzinfo=SEOUL)
    calendar = sla.Calendar(sla.CALENDAR, SEOUL, "KR")
    assert calendar.add_days(FILED, 3) == datetime(2026, 2, 16, 10, 0, tzinfo=SEOUL)


async def test_an_appeal_through_its_whole_life_denied(db: Database, tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    log = LogWriter(TableSink(db), capacity=100, batch=50, tries=2, backoff=0.01)
    async with db.session() as session:
        w = await _world(session, tmp_path)
        ann, opal = w["ann"], w["opal"]
        appeal = await appeals.file(
            session, ann, appeals.DECISION, TEXT, flag_id=w["flag"], settings=settings,
            now=FILED, log=log,
        )  # fmt: skip
        assert appeal.status == OPEN and appeal.match_id == w["match"]
        assert appeal.first_response_due == datetime(2026, 2, 23, 10, 0, tzinfo=SEOUL)
        assert appeal.decision_due == datetime(2026, 2, 27, 10, 0, tzinfo=SEOUL)
        thread = await appeals.thread(session, appeal.id)
        assert [(m.staff, m.text) for m in thread] == [(False, TEXT)]

        # The queue: first response next; ok, then soon within 24 h, then lapsed.
        due = appeal.first_response_due
        for moment, urgency in [
            (FILED + timedelta(hours=1), sla.OK),
            (due - timedelta(hours=12), sla.SOON),
            (due + timedelta(hours=5), sla.LAPSED),
        ]:
            (item,) = await appeals.queue(session, moment, settings)
            assert (item.deadline, item.urgency) == (appeals.FIRST_RESPONSE, urgency)
            assert item.seconds_left == (due - moment).total_seconds()

        later = FILED + timedelta(days=1)
        await appeals.assign(session, appeal.id, opal.id, opal, later, log=log)
        assert [
            q.appeal.id
            for q in await appeals.queue(
                session, later, settings, assigned=appeals.MINE, operator_id=opal.id
            )
        ] == [appeal.id]
        assert await appeals.queue(session, later, settings, assigned=appeals.UNASSIGNED) == []

        await appeals.reply(session, appeal.id, opal, "We are looking at it.", later, log=log)
        await session.refresh(appeal)
        assert appeal.status == ANSWERED and appeal.first_response_at == later
        (item,) = await appeals.queue(session, later, settings)
        assert item.deadline == appeals.DECISION_DUE and item.due == appeal.decision_due
        assert await appeals.queue(session, later, settings, status=OPEN) == []

        await appeals.player_reply(session, appeal.id, ann, "Thank you.", later, log=log)
        decided_at = later + timedelta(hours=2)
        await appeals.decide(
            session, appeal.id, opal, DENIED, "The evidence stands.", decided_at, log=log
        )
        await session.refresh(appeal)
        assert (appeal.status, appeal.outcome, appeal.decided_by) == (DECIDED, DENIED, opal.id)
        assert appeal.decided_at == decided_at
        assert await appeals.queue(session, decided_at, settings) == []
        messages = await appeals.thread(session, appeal.id)
        assert [m.staff for m in messages] == [False, True, False, True]
        with pytest.raises(UserError) as refused:
            await appeals.player_reply(session, appeal.id, ann, "But...", decided_at)
        assert refused.value.status == 409
        with pytest.raises(UserError) as refused:
            await appeals.reply(session, appeal.id, opal, "More", decided_at)
        assert refused.value.status == 409

        notes = list(
            await session.scalars(
                select(Notification).where(Notification.user_id == ann.id).order_by(Notification.id)
            )
        )
        assert [(n.kind, n.params, n.link) for n in notes] == [
            ("appeal_answered", {"id": appeal.id}, f"/appeals/{appeal.id}"),
            ("appeal_decided", {"id": appeal.id}, f"/appeals/{appeal.id}"),
        ]
        actions = list(
            await session.scalars(
                select(AuditEntry.action)
                .where(AuditEntry.target == f"appeal:{appeal.id}")
                .order_by(AuditEntry.id)
            )
        )
        assert actions == ["appeal_filed", "appeal_assign", "appeal_reply",
                           "appeal_player_reply", "appeal_decide"]  # fmt: skip
        assert [a.id for a in await appeals.of_user(session, ann.id)] == [appeal.id]
        assert await appeals.of_user(session, w["bob"].id) == []

    await log.flush()
    docs = await log.search(APPEALS, {"id": appeal.id})
    assert [d["event"] for d in docs][:2] == ["decided", "player_reply"] and len(docs) == 5
    doc = docs[0]
    assert doc["user_id"] == ann.id and doc["kind"] == appeals.DECISION
    assert (doc["status"], doc["outcome"], doc["messages"]) == (DECIDED, DENIED, 4)
    assert doc["flag_id"] == w["flag"] and doc["match_id"] == w["match"]
    assert doc["first_response_due"].startswith("2026-02-23") and doc["decided_at"]
    assert "text" not in doc and "bob" not in str(doc)
    await log.stop()


async def test_granted_appeals_overturn_the_decision_or_void_the_game(
    db: Database, tmp_path: Path
) -> None:
    settings = _settings(tmp_path, APPEAL_DAY_COUNT="calendar")
    async with db.session() as session:
        w = await _world(session, tmp_path)
        ann, opal = w["ann"], w["opal"]
        on_flag = await appeals.file(
            session, ann, appeals.DECISION, TEXT, flag_id=w["flag"], settings=settings, now=FILED
        )
        # Calendar days: three and seven 24-hour days, the weekend and Seollal included.
        assert on_flag.first_response_due == FILED + timedelta(days=3)
        assert on_flag.decision_due == FILED + timedelta(days=7)
        on_game = await appeals.file(
            session, ann, appeals.GAME, TEXT, match_id=w["match"], settings=settings, now=FILED
        )
        on_verdict = await appeals.file(
            session, ann, appeals.VERDICT, TEXT, submission_id=w["sub"], settings=settings,
            now=FILED,
        )  # fmt: skip
        for appeal in (on_flag, on_game, on_verdict):
            await appeals.decide(session, appeal.id, opal, GRANTED, "You are right.", FILED)
            await session.refresh(appeal)
            assert (appeal.status, appeal.outcome) == (DECIDED, GRANTED)
            assert appeal.first_response_at == FILED  # a decision answers it too
        flag = await session.get(Flag, w["flag"])
        assert flag is not None
        await session.refresh(flag)
        assert flag.status == FLAG_OVERTURNED and flag.overturned_at == FILED
        match = await session.get(MatchRow, w["match"])
        assert match is not None
        await session.refresh(match)
        assert match.rating_state == RATING_VOIDED
        events = list(await session.scalars(
            select(MatchEvent.type).where(MatchEvent.match_id == w["match"])))  # fmt: skip
        assert events.count("voided") == 1
        kinds = list(await session.scalars(
            select(Notification.kind).where(Notification.user_id == ann.id)))  # fmt: skip
        assert "decision_overturned" in kinds and "game_voided" in kinds
        assert kinds.count("appeal_decided") == 3
        targets = set(await session.scalars(select(AuditEntry.target)))
        assert {f"flag:{w['flag']}", f"match:{w['match']}"} <= targets


async def test_only_ones_own_targets_can_be_appealed(db: Database, tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    async with db.session() as session:
        w = await _world(session, tmp_path)
        bob = w["bob"]
        for kind, ids in [
            (appeals.DECISION, {"flag_id": w["flag"]}),  # a flag about Ann
            (appeals.VERDICT, {"submission_id": w["sub"]}),  # Ann's submission
            (appeals.GAME, {"match_id": 10_000}),  # no such game
            (appeals.GAME, {"flag_id": w["flag"]}),  # the kind's target missing
        ]:
            with pytest.raises(UserError) as refused:
                await appeals.file(session, bob, kind, TEXT, settings=settings, now=FILED, **ids)
            assert refused.value.status == 404, (kind, ids)
        # A game not finished, an undecided flag: nothing to appeal yet.
        running = await make_match(session, w["version"], [bob, w["ann"]])
        open_flag = Flag(key="report:open", source="report", level="review", score=0.2,
                         user_id=bob.id, reasons=[])  # fmt: skip
        session.add(open_flag)
        await session.commit()
        for kind, ids in [
            (appeals.GAME, {"match_id": running.id}),
            (appeals.DECISION, {"flag_id": open_flag.id}),
        ]:
            with pytest.raises(UserError) as refused:
                await appeals.file(session, bob, kind, TEXT, settings=settings, now=FILED, **ids)
            assert refused.value.status == 404
        # But Bob played the finished duel: his appeal about it is his own.
        await appeals.file(
            session, bob, appeals.GAME, TEXT, match_id=w["match"], settings=settings, now=FILED
        )
        with pytest.raises(UserError) as refused:
            await appeals.file(session, bob, appeals.GAME, "short", match_id=w["match"],
                               settings=settings, now=FILED)  # fmt: skip
        assert (refused.value.status, refused.value.key) == (422, "appeal_text_length")
        # Staff only answer, assign and decide; players get 404.
        appeal = (await appeals.of_user(session, bob.id))[0]
        for call in (
            appeals.reply(session, appeal.id, bob, "I answer myself", FILED),
            appeals.assign(session, appeal.id, bob.id, bob, FILED),
            appeals.decide(session, appeal.id, bob, GRANTED, "Granted by me", FILED),
            appeals.player_reply(session, appeal.id, w["ann"], "Not mine", FILED),
        ):
            with pytest.raises(UserError) as refused:
                await call
            assert refused.value.status == 404
        with pytest.raises(UserError) as refused:  # assigned to a player
            await appeals.assign(session, appeal.id, bob.id, w["opal"], FILED)
        assert refused.value.status == 422


async def test_one_open_appeal_per_target_and_a_few_a_day(db: Database, tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    async with db.session() as session:
        w = await _world(session, tmp_path)
        ann, opal = w["ann"], w["opal"]
        first = await appeals.file(
            session, ann, appeals.GAME, TEXT, match_id=w["match"], settings=settings, now=FILED
        )
        with pytest.raises(UserError) as refused:
            await appeals.file(
                session, ann, appeals.GAME, TEXT, match_id=w["match"], settings=settings, now=FILED
            )
        assert (refused.value.status, refused.value.key) == (409, "appeal_exists")
        # Once decided, the decision is final for its target: no second appeal about it.
        await appeals.decide(session, first.id, opal, DENIED, "No.", FILED)
        with pytest.raises(UserError) as refused:
            await appeals.file(
                session, ann, appeals.GAME, TEXT, match_id=w["match"], settings=settings, now=FILED
            )
        assert (refused.value.status, refused.value.key) == (409, "appeal_decided_before")
        assert refused.value.params == {"id": first.id}
        for _ in range(appeals.PER_DAY - 1):
            submission = await make_submission(session, w["blobs"], ann)
            submission.verdict = "WA"
            await session.commit()
            await appeals.file(session, ann, appeals.VERDICT, TEXT, submission_id=submission.id,
                               settings=settings, now=FILED)  # fmt: skip
        submission = await make_submission(session, w["blobs"], ann)
        submission.verdict = "WA"
        await session.commit()
        with pytest.raises(UserError) as refused:
            await appeals.file(session, ann, appeals.VERDICT, TEXT, submission_id=submission.id,
                               settings=settings, now=FILED + timedelta(hours=23))  # fmt: skip
        assert refused.value.status == 429
        await appeals.file(session, ann, appeals.VERDICT, TEXT, submission_id=submission.id,
                           settings=settings, now=FILED + timedelta(hours=25))  # fmt: skip


async def test_granting_an_appeal_on_a_flag_overturned_already(
    db: Database, tmp_path: Path
) -> None:
    """The flag's decision was overturned on its own page first: granting the appeal still
    decides it (nothing left to undo), never a 409 that rolls the decision back."""
    settings = _settings(tmp_path)
    async with db.session() as session:
        w = await _world(session, tmp_path)
        ann, opal = w["ann"], w["opal"]
        appeal = await appeals.file(
            session, ann, appeals.DECISION, TEXT, flag_id=w["flag"], settings=settings, now=FILED
        )
        flag = await session.get(Flag, w["flag"])
        assert flag is not None
        flag.status, flag.overturned_at = FLAG_OVERTURNED, FILED
        await session.commit()
        await appeals.decide(session, appeal.id, opal, GRANTED, "You are right.", FILED)
        await session.refresh(appeal)
        assert (appeal.status, appeal.outcome) == (DECIDED, GRANTED)


async def test_staff_never_act_on_their_own_appeal(db: Database, tmp_path: Path) -> None:
    """An operator's own appeal is answered, assigned and decided by another (403
    own_case, nothing changed); a banned operator is nobody's staff."""
    settings = _settings(tmp_path)
    async with db.session() as session:
        w = await _world(session, tmp_path)
        opal, bob = w["opal"], w["bob"]
        submission = await make_submission(session, w["blobs"], opal)
        submission.verdict, submission.status = "WA", "done"
        await session.commit()
        own = await appeals.file(
            session, opal, appeals.VERDICT, TEXT, submission_id=submission.id,
            settings=settings, now=FILED,
        )  # fmt: skip
        own_id, opal_id = own.id, opal.id
        for act in (
            lambda: appeals.reply(session, own_id, opal, "Answering myself.", FILED),
            lambda: appeals.assign(session, own_id, opal_id, opal, FILED),
            lambda: appeals.decide(session, own_id, opal, GRANTED, "Granted by me.", FILED),
        ):
            with pytest.raises(UserError) as refused:
                await act()
            assert (refused.value.status, refused.value.key) == (403, "own_case")
            await session.rollback()
            await session.refresh(opal)
        await session.refresh(own)
        await session.refresh(bob)
        assert (own.status, own.assigned_to, own.first_response_at) == (OPEN, None, None)
        bob.role = "operator"
        await session.commit()
        with pytest.raises(UserError) as to_owner:  # nor given to its owner
            await appeals.assign(session, own_id, opal_id, bob, FILED)
        assert to_owner.value.key == "appeal_assignee_invalid"
        await session.rollback()
        await session.refresh(bob)
        await appeals.assign(session, own_id, bob.id, bob, FILED)
        assert [u.nickname for u in await appeals.staff(session)] == ["bob", "opal"]
        bob.banned_at = FILED
        await session.commit()
        assert [u.nickname for u in await appeals.staff(session)] == ["opal"]
        with pytest.raises(UserError) as banned:
            await appeals.reply(session, own_id, bob, "Still here?", FILED)
        assert banned.value.status == 404


async def test_a_decision_is_described_as_the_player_was_told_it(
    db: Database, tmp_path: Path
) -> None:
    """decision_facts names the decision, its date, the reason shown to the player, its
    game and a suspension's end; the queue shows which decision each appeal questions."""
    settings = _settings(tmp_path)
    async with db.session() as session:
        w = await _world(session, tmp_path)
        ann = w["ann"]
        until = FILED + timedelta(days=7)
        sanction = Sanction(user_id=ann.id, kind="suspend", reason="Pasted code.",
                            flag_id=w["flag"], starts_at=FILED, ends_at=until)  # fmt: skip
        session.add(sanction)
        await session.flush()
        flag = await session.get(Flag, w["flag"])
        assert flag is not None
        flag.decision, flag.decision_reason, flag.sanction_id = (
            "suspend",
            "Pasted code.",
            sanction.id,
        )
        await session.commit()
        appeal = await appeals.file(session, ann, appeals.DECISION, TEXT, flag_id=w["flag"],
                                    settings=settings, now=FILED)  # fmt: skip
        facts = await appeals.decision_facts(session, [w["flag"], 999])
        assert list(facts) == [w["flag"]]
        told = facts[w["flag"]]
        assert (told.decision, told.reason, told.match_id) == (
            "suspend",
            "Pasted code.",
            w["match"],
        )
        assert told.until is not None and told.until.replace(tzinfo=UTC) == until
        assert not told.overturned
        queued = await appeals.queue(session, FILED, settings)
        assert [(q.appeal.id, q.decision) for q in queued] == [(appeal.id, "suspend")]
        assert queued[0].to_dict()["decision"] == "suspend"


async def test_a_decided_appeal_is_final_for_its_target(db: Database, tmp_path: Path) -> None:
    """Granted or denied, a second appeal about the same decision is refused with 409
    appeal_decided_before naming the decided one; another target is still open."""
    settings = _settings(tmp_path)
    async with db.session() as session:
        w = await _world(session, tmp_path)
        ann, opal = w["ann"], w["opal"]
        first = await appeals.file(session, ann, appeals.DECISION, TEXT, flag_id=w["flag"],
                                   settings=settings, now=FILED)  # fmt: skip
        assert await appeals.decided_before(session, ann.id, appeals.DECISION, w["flag"],
                                            None, None) is None  # fmt: skip
        await appeals.decide(session, first.id, opal, DENIED, "The log is clear.", FILED)
        assert await appeals.decided_before(session, ann.id, appeals.DECISION, w["flag"],
                                            None, None) == first.id  # fmt: skip
        with pytest.raises(UserError) as refused:
            await appeals.file(session, ann, appeals.DECISION, TEXT, flag_id=w["flag"],
                               settings=settings, now=FILED + timedelta(days=2))  # fmt: skip
        assert (refused.value.status, refused.value.key) == (409, "appeal_decided_before")
        assert refused.value.params == {"id": first.id}
        # The game itself is another target.
        other = await appeals.file(session, ann, appeals.GAME, TEXT, match_id=w["match"],
                                   settings=settings, now=FILED)  # fmt: skip
        assert other.id != first.id
