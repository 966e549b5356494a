"""What a running server does besides answering requests: it starts the job queue with the
handler of judge events (recorded; published to each submission's page as
`submissions.messages` builds them; passed on to matches and rooms), relays the jobs of the
outbox (sent again when the queue lost what it held: a new in-process queue, Redis without
its data), passes on again verdicts no game took (the recorder died first), and runs the
server's own battle loops (the deadline sweeper of matches and rooms, the matchmaker and the
keeper of AI opponents). Each verdict is written to the submission log (the log seam), and
the fair-play pass assesses accepted game submissions and settles finished rated matches
(rated, or held on a high flag), kicked by the recorder and every FAIR_PLAY_SECONDS."""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import UTC, datetime

import structlog

from codebattle import failpoints, logs, logsink
from codebattle.accounts import billing
from codebattle.battles import ai_player, live
from codebattle.db import outage
from codebattle.fairplay import assess
from codebattle.integrations import portone, tracing
from codebattle.judge.jobs import Event
from codebattle.ops import alerts, fleet, metrics, metrics_http
from codebattle.ops import watch as alert_watch
from codebattle.rewards import achievements, giftcards, podiums, season_end
from codebattle.services import Services
from codebattle.submissions import messages, outbox, recording
from codebattle.submissions.recording import Recorded

log = structlog.get_logger(__name__)
RENEWAL_SECONDS = 60.0  # renewals and expiries: at most RENEWALS_PER_RUN users a pass
RELAY_SECONDS = 1.0  # the outbox relay's pass: jobs whose sender died, or the queue refused
REPORT_SECONDS = 2.0  # verdicts recorded that no game took: passed on again this often
REPORT_SETTLE_SECONDS = 2.0  # ... once this old (the recorder passes them on itself first)
REPORT_BATCH = 50
FAIR_PLAY_SECONDS = 2.0  # the fair-play pass, when no verdict kicks it sooner
FAIR_PLAY_TRIES = 5  # a submission or match whose assessment fails this often is given up
PODIUM_SECONDS = 30.0  # ended rooms are looked at for their podium this often
REPORT_TRIES = 5  # a verdict whose pass-on fails this often (not an outage) is given up
RECORD_RETRY_SECONDS = (0.5, 5.0)  # judge events not recorded for an outage: first, longest wait


async def start(services: Services, loops: bool = True) -> None:
    """Start the queue and the outbox relay and, with `loops`, the battle loops."""

    async def on_events(events: list[Event]) -> None:
        # A trace of its own, linked to the trace of each job judged (its done event).
        judged = [event.get("trace") for event in events if event["type"] == "done"]
        with tracing.linked_span("record judge results", judged):
            await record_until_done(services, events)

    async def on_lost() -> None:
        # One UPDATE: once it commits the database holds the loss, and the relays (every
        # instance, every second) send the jobs. If it fails (the database is down too), the
        # error reaches the queue, which tries again (Redis keeps the loss pending).
        await resend_unfinished(services)

    await services.queue.start(on_events, on_lost)
    services.spawn(live.every(RELAY_SECONDS, lambda: relay(services), "outbox relay"))
    if not services.settings.preview:  # a preview keeps no game's or fair play's writes
        services.spawn(_reporting(services))
        services.spawn(_fair_play(services))
    if metrics_http.exposed(services.settings):  # gauges of queries, read off the scrape
        services.spawn(metrics.sampling(services))
    # A preview's database refuses what these write (decision 0030): they stay off.
    if loops and not services.settings.preview:
        services.spawn(live.every(0.5, lambda: live.sweep_deadlines(services), "deadline sweep"))
        services.spawn(live.every(1.0, lambda: live.pair_now(services), "matchmaking"))
        services.spawn(
            live.every(
                ai_player.RENEW_SECONDS,
                lambda: ai_player.take_over_orphans(services),
                "taking over AI opponents",
            )
        )
        services.spawn(live.every(RENEWAL_SECONDS, lambda: renew_plans(services), "renewals"))
        # Alerts: sent by all, watched by one (lease); each loop and the heartbeat (this
        # instance on the fleet page) say the one name `services.instance`.
        services.spawn(alert_watch.delivering(services))
        services.spawn(alert_watch.watching(services))
        services.spawn(fleet.heartbeat(services))
        # Rewards: every step is made once whoever runs it (keys, conditional updates), so
        # each instance runs them; they read everything from the database.
        services.spawn(achievements.running(services))
        services.spawn(season_end.running(services))
        services.spawn(live.every(PODIUM_SECONDS, lambda: grant_podiums(services), "room podiums"))
        services.spawn(
            giftcards.running(services, on_failed=lambda failed: gifts_failed(services, failed))
        )


async def grant_podiums(services: Services) -> int:
    """Points for the podiums of rooms that ended (rewards/podiums.py)."""
    async with services.db.session() as session:
        return await podiums.grant_due(session, services.settings, datetime.now(UTC))


async def gifts_failed(services: Services, failed: list[giftcards.Failure]) -> None:
    """Operators hear of every exchange that failed (the player was refunded and told)."""
    async with services.db.session() as session:
        for failure in failed:
            await alerts.raise_alert(
                session, f"gift:{failure.exchange_id}:failed", alerts.GIFT_FAILED,
                {"exchange_id": failure.exchange_id, "why": failure.why, "code": failure.code},
                "/ops/rewards", services.settings,
            )  # fmt: skip
        await session.commit()


async def relay(services: Services) -> int:
    """Send the outbox's due jobs (outbox.relay)."""
    return await outbox.relay(services.db, services.blobs, services.queue)


async def resend_unfinished(services: Services) -> None:
    """The queue may have lost the jobs it held: every unfinished one is due again (the
    relay sends them)."""
    async with services.db.session() as session:
        count = await outbox.resend_unfinished(session, datetime.now(UTC))
    if count:
        log.warning("the judge queue lost its jobs; unfinished ones are sent again", jobs=count)


async def record_until_done(services: Services, events: list[Event]) -> None:
    """`record_and_pass_on`, tried again while the database (or Redis) is unavailable,
    waiting RECORD_RETRY_SECONDS[0] doubling up to [1]: the queue drops a batch its handler
    failed (the embedded one) or keeps it unacked (Redis), and these jobs left the outbox as
    sent, so nothing else would record them. Recording is idempotent, so a batch tried again
    after a half-done pass changes nothing twice (a verdict recorded but not passed on is
    found by report_verdicts). A deadlock or serialization failure (PostgreSQL aborted the
    transaction) is tried again too. Other errors are raised as they are."""
    wait, longest = RECORD_RETRY_SECONDS
    while True:
        try:
            # A batch of one submission's events (the usual case) names it on its lines.
            submissions = {event["submission"] for event in events}
            one = next(iter(submissions)) if len(submissions) == 1 else None
            with logs.bound(submission_id=one):
                await record_and_pass_on(services, events)
            return
        except Exception as exc:
            if outage.is_conflict(exc):  # a deadlock or serialization failure: try again
                log.warning("recording judge events met a conflict; retrying", error=repr(exc))
            elif outage.is_unavailable(exc):
                outage.report(exc, "recording judge events")
            else:
                raise
        await asyncio.sleep(wait)
        wait = min(wait * 2, longest)


async def record_and_pass_on(services: Services, events: list[Event]) -> None:
    """Record judge events (one transaction), publish to each submission's page what
    changed (built by `submissions.messages`, so routing fields stay here), and pass results
    of submissions made in matches and rooms on to them. If this process dies between the
    two, `report_verdicts` passes them on later (from the database)."""
    async with services.db.session() as session:
        recorded = [r for r in await recording.record_batch(session, events) if r is not None]
    metrics.observe_verdicts(recorded)  # committed: counted once, here
    if any(r.change == "done" for r in recorded):
        failpoints.hit("record.after_commit")  # a verdict recorded, no game told yet
    await services.pubsub.publish_many(
        [(f"submission:{r.submission_id}", messages.of(r)) for r in recorded]
    )
    for r in recorded:
        if r.change == "done":
            services.logsink.emit(logsink.SUBMISSION_LOG, str(r.submission_id), _logged(r))
    in_games = [r for r in recorded if r.match_id is not None or r.room_id is not None]
    if in_games:
        await live.on_judge_results(services, in_games)
        if any(r.change == "done" for r in in_games):
            kick_fair_play(services)  # off this path: the fair-play pass assesses them


def _logged(r: Recorded) -> dict[str, object]:
    """A verdict as the submission log keeps it (no code, no test data)."""
    final = r.final or {}
    return {
        "submission_id": r.submission_id, "user_id": r.user_id, "version_id": r.version_id,
        "match_id": r.match_id, "room_id": r.room_id, "verdict": r.verdict,
        "tests_passed": r.tests_passed, "language": final.get("language"),
        "kind": final.get("kind"), "made_at": r.made_at, "at": time.time(),
    }  # fmt: skip


# ---- Fair play: assessed off the judge's path, by one pass per process.

_fair_play_kicks: dict[int, asyncio.Event] = {}


def kick_fair_play(services: Services) -> None:
    """Run this process's fair-play pass now rather than at its next tick."""
    kick = _fair_play_kicks.get(id(services))
    if kick is not None:
        kick.set()


async def fair_play_pass(
    services: Services, failures: dict[str, int] | None = None
) -> tuple[int, int]:
    """Assess the accepted game submissions not assessed yet, then settle the finished
    rated matches waiting for it (rated, or held on a high flag) and publish what that
    appended. Each one is idempotent (fairplay/assess.py), so instances may overlap; one
    that fails is logged and tried at the next pass. (submissions assessed, matches settled)

    `failures` counts failed tries (an outage aside) per "submission:<id>" and
    "match:<id>": a submission failing FAIR_PLAY_TRIES times is left unassessed by this
    process (logged as an error), and such a match is settled without its assessment (held
    if anything stored for it is high, and flagged for review), so a bug in one signal never
    keeps a game unrated or unseen."""
    failures = {} if failures is None else failures
    ctx = assess.Context(services.db, services.blobs, services.settings)
    assessed = settled = 0
    given_up = {int(k.split(":")[1]) for k, n in failures.items()
                if k.startswith("submission:") and n >= FAIR_PLAY_TRIES}  # fmt: skip
    due = await assess.pending_submissions(services.db, datetime.now(UTC), exclude=given_up)
    for submission_id in due:
        try:
            if await assess.assess_submission(ctx, submission_id) is not None:
                assessed += 1  # (None: it waits for an earlier one's verdict)
        except Exception as exc:
            if outage.is_unavailable(exc):
                raise
            _fair_play_failed(failures, f"submission:{submission_id}")
    for match_id in await assess.pending_matches(services.db):
        try:
            if failures.get(f"match:{match_id}", 0) >= FAIR_PLAY_TRIES:
                entries = await assess.settle_unassessed(ctx, match_id)
                log.error("fair play: a match settled without its assessment (flagged for "
                          "review)", match=match_id)  # fmt: skip
            else:
                entries = await assess.settle_match(ctx, match_id)
            if entries:
                settled += 1
                await live.publish(services, match_id, entries)
        except Exception as exc:
            if outage.is_unavailable(exc):
                raise
            _fair_play_failed(failures, f"match:{match_id}")
    return assessed, settled


def _fair_play_failed(failures: dict[str, int], key: str) -> None:
    """Count a failed assessment or settlement (in an `except`); the traceback is logged
    the first time and when the tries run out, not every pass."""
    tries = failures[key] = failures.get(key, 0) + 1
    if tries < FAIR_PLAY_TRIES:
        log.warning("fair play: a step failed; retried", what=key, tries=tries,
                    exc_info=tries == 1)  # fmt: skip
    else:
        log.error("fair play: a step failed repeatedly; given up", what=key, tries=tries,
                  exc_info=True)  # fmt: skip


async def _fair_play(services: Services) -> None:
    """`fair_play_pass` every FAIR_PLAY_SECONDS, or at once when kicked (a verdict of a game
    was recorded). Failures are counted in this loop's memory (as `_reporting` does)."""
    kick = _fair_play_kicks.setdefault(id(services), asyncio.Event())
    failures: dict[str, int] = {}
    try:
        while True:
            try:
                await fair_play_pass(services, failures)
            except Exception as exc:
                if outage.is_unavailable(exc):
                    outage.report(exc, "fair play")
                else:
                    log.exception("background step failed; retrying", step="fair play")
            # asyncio.timeout: wait_for can swallow the cancellation that stops this loop.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(FAIR_PLAY_SECONDS):
                    await kick.wait()
            kick.clear()
    finally:
        _fair_play_kicks.pop(id(services), None)


async def report_verdicts(services: Services, failures: dict[int, int] | None = None) -> int:
    """Pass on verdicts recorded but not taken by their match or room (the recorder died
    before it told the game, or the game's transaction failed): at most REPORT_BATCH, those
    recorded more than REPORT_SETTLE_SECONDS ago (the recorder tells the game itself first).
    Games take a verdict once, so one passed on by two instances counts once. How many.

    `failures` counts, per submission, the passes on that failed (an outage aside): one
    that fails REPORT_TRIES times is given up (marked reported, logged as an error), so it
    neither fills the batch for good nor logs a traceback every pass."""
    failures = {} if failures is None else failures
    async with services.db.reading() as session:
        found = await recording.unreported(
            session, datetime.now(UTC), settle_seconds=REPORT_SETTLE_SECONDS, limit=REPORT_BATCH
        )
    for gone in failures.keys() - {r.submission_id for r in found}:
        del failures[gone]  # taken since (here or elsewhere), or out of this batch
    if found:
        log.warning(
            "judge verdicts no game took are passed on again",
            submissions=[r.submission_id for r in found],
        )
    for result in found:  # one at a time: one that fails does not hold up the others
        try:
            await live.on_judge_results(services, [result])
        except Exception as exc:
            if outage.is_unavailable(exc):  # the rest would fail too: the next pass tries
                outage.report(exc, "reporting verdicts")
                break
            await _failed(services, result, failures)
        else:
            failures.pop(result.submission_id, None)
    return len(found)


async def _failed(services: Services, result: Recorded, failures: dict[int, int]) -> None:
    """A verdict's pass-on failed (in an `except`): counted, and given up the
    REPORT_TRIES-th time."""
    tries = failures[result.submission_id] = failures.get(result.submission_id, 0) + 1
    if tries < REPORT_TRIES:
        log.warning("passing on a verdict failed; retried", submission=result.submission_id,
                    tries=tries, exc_info=tries == 1)  # fmt: skip
        return
    del failures[result.submission_id]
    async with services.db.session() as session:
        await recording.mark_reported(session, [result.submission_id], datetime.now(UTC))
        await session.commit()
    log.error(
        "passing on a verdict failed repeatedly; given up (no game counts it)",
        submission=result.submission_id, match=result.match_id, room=result.room_id,
        tries=tries, exc_info=True,
    )  # fmt: skip


async def _reporting(services: Services) -> None:
    """`report_verdicts` once at start (what the last process left), then every
    REPORT_SECONDS. Failures are counted in this loop's memory: that is enough, as what
    they guard against (a verdict retried and logged forever, the batch filled with ones
    that always fail) ends after REPORT_TRIES passes of one process; a restart gives such a
    verdict at most REPORT_TRIES more tries."""
    failures: dict[int, int] = {}

    async def step() -> None:
        await report_verdicts(services, failures)

    try:
        await step()
    except Exception as exc:  # as live.every handles its steps
        if outage.is_unavailable(exc):
            outage.report(exc, "reporting verdicts")
        else:
            log.exception("background step failed; retrying", step="reporting verdicts")
    await live.every(REPORT_SECONDS, step, "reporting verdicts")


async def renew_plans(services: Services) -> None:
    """Charge the renewals that are due (billing.renew_due: one payment per period, however
    many instances run this), then move plans whose end has passed to free."""
    settings = services.settings
    prices = billing.RenewalPrices(
        settings.BASIC_PRICE_KRW, settings.PRO_PRICE_KRW, settings.PLAN_PERIOD_DAYS
    )
    renewed, expired = await billing.run_renewals(
        services.db, portone.client_for(settings), prices, datetime.now(UTC)
    )
    if renewed or expired:
        log.info("plans renewed and expired", renewed=renewed, expired=expired)
