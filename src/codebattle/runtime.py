"""What a running server does besides answering requests: it starts the job queue with the
handler of judge events (recorded; published to each submission's page as
`submissions.messages` builds them; passed on to matches and rooms), relays the jobs of the
outbox (sent again when the queue lost what it held: a new in-process queue, Redis without
its data), and runs the server's own battle loops (the deadline sweeper of matches and
rooms, the matchmaker and the keeper of AI opponents)."""

from __future__ import annotations

from datetime import UTC, datetime

import structlog

from codebattle.accounts import billing
from codebattle.battles import ai_player, live
from codebattle.integrations import portone
from codebattle.judge.jobs import Event
from codebattle.services import Services
from codebattle.submissions import messages, outbox, recording

log = structlog.get_logger(__name__)
RENEWAL_SECONDS = 60.0  # renewals and expiries: at most RENEWALS_PER_RUN users a pass
RELAY_SECONDS = 1.0  # the outbox relay's pass: jobs whose sender died, or the queue refused


async def start(services: Services, loops: bool = True) -> None:
    """Start the queue and the outbox relay and, with `loops`, the battle loops."""

    async def on_events(events: list[Event]) -> None:
        await record_and_pass_on(services, events)

    async def on_lost() -> None:
        await resend_unfinished(services)

    await services.queue.start(on_events, on_lost)
    services.spawn(live.every(RELAY_SECONDS, lambda: relay(services), "outbox relay"))
    if loops:
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


async def relay(services: Services) -> int:
    """Send the outbox's due jobs (outbox.relay)."""
    return await outbox.relay(services.db, services.blobs, services.queue)


async def resend_unfinished(services: Services) -> None:
    """The queue may have lost the jobs it held: send every unfinished one again."""
    async with services.db.session() as session:
        count = await outbox.resend_unfinished(session, datetime.now(UTC))
    if count:
        log.warning("the judge queue lost its jobs; unfinished ones are sent again", jobs=count)
    await relay(services)


async def record_and_pass_on(services: Services, events: list[Event]) -> None:
    """Record judge events (one transaction), publish to each submission's page what
    changed (built by `submissions.messages`, so routing fields stay here), and pass results
    of submissions made in matches and rooms on to them."""
    async with services.db.session() as session:
        recorded = [r for r in await recording.record_batch(session, events) if r is not None]
    await services.pubsub.publish_many(
        [(f"submission:{r.submission_id}", messages.of(r)) for r in recorded]
    )
    in_games = [r for r in recorded if r.match_id is not None or r.room_id is not None]
    if in_games:
        await live.on_judge_results(services, in_games)


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
