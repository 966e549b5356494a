"""The checks a database must pass before it is trusted: a restored copy (the backup drill,
scripts/backup-drill.sh) or the live one on any day. Read-only: nothing is upgraded or
fixed here (`codebattle migrate`, `codebattle points verify --fix` do that).

Each check names what it found; an empty list means the database passed."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, func, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from codebattle.battles.models import MatchEvent, MatchRow
from codebattle.db.migrate import alembic_config
from codebattle.problems.models import ProblemVersion
from codebattle.progress import points
from codebattle.rooms.models import Room, RoomEvent
from codebattle.storage import BlobStore
from codebattle.submissions.models import Submission

# The tables whose rows the drill compares between the source and its restored copy: who
# plays, what they submitted and its verdicts, the games and their event logs, the money.
KEY_TABLES = (
    "users", "problems", "problem_versions", "submissions", "submission_tests",
    "judge_outbox", "matches", "match_events", "rating_changes", "rooms", "room_events",
    "point_entries", "payments", "audit_log", "log_records",
)  # fmt: skip
BLOB_SAMPLE = 200  # newest submissions whose code must be in blob storage (all packages)


@dataclass(frozen=True)
class Finding:
    check: str  # "schema", "sequence", "events", "points", "blobs", "audit"
    detail: str

    def __str__(self) -> str:
        return f"{self.check}: {self.detail}"


def _findings(check: str, details: Iterable[str]) -> list[Finding]:
    """One check's findings, one per detail line."""
    return [Finding(check, detail) for detail in details]


async def check(session: AsyncSession, blobs: BlobStore | None = None) -> list[Finding]:
    """Every check: the schema at the newest migration, sequences ahead of their ids, event
    logs without a gap, the points ledger balanced, the audit log still append-only, and
    (given `blobs`) the blobs the rows name present."""
    found = await schema(session)
    if found:
        return found  # the other checks read tables this schema may not have
    found += [*await sequences(session), *await event_logs(session)]
    found += _findings("points", points.describe(await points.verify(session)))
    found += await audit_log_guarded(session)
    if blobs is not None:
        found += await blobs_present(session, blobs)
    return found


async def schema(session: AsyncSession) -> list[Finding]:
    """The database is at the migrations' head: `codebattle migrate` has nothing to do."""
    connection = await session.connection()
    current = await connection.run_sync(_current_heads)
    heads = set(ScriptDirectory.from_config(alembic_config("")).get_heads())
    if current == heads:
        return []
    at = ", ".join(sorted(current)) or "no revision (not migrated)"
    return [Finding("schema", f"at {at}; the migrations' head is {', '.join(sorted(heads))}")]


def _postgres(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _current_heads(connection: Connection) -> set[str]:
    return set(MigrationContext.configure(connection).get_current_heads())


async def sequences(session: AsyncSession) -> list[Finding]:
    """Each serial id's sequence is past the largest id (PostgreSQL): a restore that left
    one behind would fail the next insert with a duplicate key."""
    if not _postgres(session):
        return []  # SQLite takes max(rowid) + 1: nothing to fall behind
    owned = await session.execute(
        text(
            "SELECT c.relname, a.attname, s.relname FROM pg_depend d"
            " JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'"
            " JOIN pg_class c ON c.oid = d.refobjid"
            " JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = d.refobjsubid"
            " JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = current_schema()"
            " WHERE d.deptype IN ('a', 'i') ORDER BY c.relname"
        )
    )
    behind = []
    for table, column, sequence in owned.all():
        # Names from the catalogue, quoted: no outside input reaches these statements.
        largest = await session.scalar(text(f'SELECT max("{column}") FROM "{table}"'))  # noqa: S608
        state = await session.execute(text(f'SELECT last_value, is_called FROM "{sequence}"'))  # noqa: S608
        last, called = state.one()
        next_value = last + 1 if called else last
        if largest is not None and next_value <= largest:
            behind.append(f"{sequence} gives {next_value} next; {table}.{column} "
                          f"already reaches {largest}")  # fmt: skip
    return _findings("sequence", behind)


async def event_logs(session: AsyncSession) -> list[Finding]:
    """Every match's and room's event log numbers 1..seq with no gap: clients resume from
    it and replays read it."""
    found: list[Finding] = []
    for kind, owner, events, key in (
        ("match", MatchRow, MatchEvent, MatchEvent.match_id),
        ("room", Room, RoomEvent, RoomEvent.room_id),
    ):
        logged = (
            select(key.label("owner"), func.count().label("n"), func.max(events.seq).label("top"))
            .group_by(key)
            .subquery()
        )
        broken = await session.execute(
            select(owner.id, owner.seq, logged.c.n, logged.c.top)
            .outerjoin(logged, logged.c.owner == owner.id)
            .where(
                or_(
                    func.coalesce(logged.c.n, 0) != owner.seq,
                    func.coalesce(logged.c.top, 0) != owner.seq,
                )
            )
            .order_by(owner.id)
        )
        found += _findings(
            "events",
            (f"{kind} {owner_id}: last seq {seq}, {count or 0} events logged up to {top or 0}"
             for owner_id, seq, count, top in broken.all()),
        )  # fmt: skip
    return found


async def audit_log_guarded(session: AsyncSession) -> list[Finding]:
    """The audit log's append-only triggers (migration 0018) came back with the tables."""
    if not _postgres(session):
        return []
    names = await session.scalars(
        text(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = 'audit_log'::regclass"
            " AND NOT tgisinternal"
        )
    )
    if list(names):
        return []
    return [Finding("audit", "audit_log has no append-only trigger (UPDATE/DELETE allowed)")]


async def blobs_present(session: AsyncSession, blobs: BlobStore) -> list[Finding]:
    """Every problem package and the newest submissions' code are in blob storage: the
    database without its blobs judges nothing."""
    packages = await session.scalars(select(ProblemVersion.package_key).distinct())
    codes = await session.scalars(
        select(Submission.code_key).order_by(Submission.id.desc()).limit(BLOB_SAMPLE)
    )
    keys = sorted({*packages, *codes})
    return _findings("blobs", [f"missing {key}" for key in keys if not await blobs.aexists(key)])


async def counts(session: AsyncSession, tables: Iterable[str] = KEY_TABLES) -> dict[str, int]:
    """Rows per table (a table this schema lacks is left out)."""
    present = set(
        await session.scalars(
            text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
            if _postgres(session)
            else text("SELECT name FROM sqlite_master WHERE type = 'table'")
        )
    )
    rows = {}
    for table in tables:
        if table in present:
            counted = text(f'SELECT count(*) FROM "{table}"')  # noqa: S608 (a present table)
            rows[table] = int(await session.scalar(counted) or 0)
    return rows
