"""What a running server does besides answering requests: it starts the job queue with the
handler of judge events (recorded; published to each submission's page as
`submissions.messages` builds them; passed on to matches and rooms), re-queues the jobs an
in-process queue lost with its process, and runs the server's own battle loops (the deadline
sweeper of matches and rooms, the matchmaker and the keeper of AI opponents)."""

from __future__ import annotations

from datetime import UTC, datetime

import structlog

from codebattle.accounts import billing
from codebattle.battles import ai_player, live
from codebattle.integrations import portone
from codebattle.judge.jobs import Event
from codebattle.judge.queue import InProcessQueue, LocalQueue
from codebattle.services import Services
from codebattle.submissions import messages, recording
from codebattle.submissions import service as submissions

log = structlog.get_logger(__name__)
RENEWAL_SECONDS = 60.0  # renewals and expiries: at most RENEWALS_PER_RUN users a pass


async def start(services: Services, loops: bool = True) -> None:
    """Start the queue and, with `loops`, the battle loops."""

    async def on_events(events: list[Event]) -> None:
        await record_and_pass_on(services, events)

    await services.queue.start(on_events)
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
    if isinstance(services.queue, InProcessQueue | LocalQueue):  # jobs kept in this process
        # In process, queued jobs die with the process: queue them again.
        async with services.db.session() as session:
            for job in await submissions.unfinished_jobs(session, services.blobs):
                await services.queue.enqueue(job)


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
