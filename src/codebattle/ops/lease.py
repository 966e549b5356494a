"""Cluster leases: a periodic job that must run on one instance at a time (the alert watch)
is run by whoever holds its lease. The holder renews it each run; a holder that dies simply
stops renewing, and once the lease runs out the next instance to ask takes it over. The
database is the arbiter, so this works the same on SQLite and PostgreSQL, with or without
Redis. A holder is an instance's one name (`Services.instance`), the one its heartbeat
shows on the fleet page."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from codebattle.ops.models import ClusterLease

WATCH = "watch"  # the alert watch's lease (ops/watch.py; the fleet page shows its holder)


async def acquire(
    session: AsyncSession, name: str, holder: str, ttl_seconds: float, now: datetime
) -> bool:
    """Take or renew the lease `name` for `ttl_seconds` from `now`: True when `holder` holds
    it now. One conditional UPDATE (the holder renews; anyone takes an expired lease), or
    the INSERT of a lease nobody ever held (a unique name: of two racing inserts one wins).
    Commits."""
    until = now + timedelta(seconds=ttl_seconds)
    taken = await session.execute(
        update(ClusterLease)
        .where(
            ClusterLease.name == name,
            or_(ClusterLease.holder == holder, ClusterLease.until <= now),
        )
        .values(holder=holder, until=until)
        .execution_options(synchronize_session=False)
    )
    held = bool(getattr(taken, "rowcount", 0))
    if not held:
        try:
            async with session.begin_nested():
                session.add(ClusterLease(name=name, holder=holder, until=until))
            held = True
        except IntegrityError:
            held = False  # it exists and someone else holds it
    await session.commit()
    return held


async def mark_run(session: AsyncSession, name: str, holder: str, now: datetime) -> None:
    """Note when the holder last ran the job (the fleet page shows it). Commits."""
    await session.execute(
        update(ClusterLease)
        .where(ClusterLease.name == name, ClusterLease.holder == holder)
        .values(last_run_at=now)
        .execution_options(synchronize_session=False)
    )
    await session.commit()
