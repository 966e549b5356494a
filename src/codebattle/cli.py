"""The `codebattle` command line."""

from __future__ import annotations

import asyncio
import atexit
import gc
import json
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn, TypeVar

import typer

from codebattle.judge.verdicts import JudgeResult, TestResult, Verdict

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry
    from sqlalchemy.ext.asyncio import AsyncSession

    from codebattle.config import Settings
    from codebattle.integrations import giftishow
    from codebattle.storage import BlobStore

T = TypeVar("T")

GC_YOUNG_THRESHOLD = 50_000  # allocations between young collections (Python's default: 700)

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="AI Code Battle",
    pretty_exceptions_show_locals=False,  # locals may hold secrets
)
judge_app = typer.Typer(no_args_is_help=True, help="Judge submissions in the sandbox.")
app.add_typer(judge_app, name="judge")
problems_app = typer.Typer(no_args_is_help=True, help="Manage problems.")
app.add_typer(problems_app, name="problems")
users_app = typer.Typer(no_args_is_help=True, help="Manage users.")
app.add_typer(users_app, name="users")
payments_app = typer.Typer(no_args_is_help=True, help="Payments: list, refund.")
app.add_typer(payments_app, name="payments")
outbox_app = typer.Typer(no_args_is_help=True, help="The judge outbox: jobs not yet judged.")
app.add_typer(outbox_app, name="outbox")

MiB = 1 << 20


def _preview() -> bool:
    """Whether this host serves a preview; a worker host's settings need not load (it may
    hold none of the API's), and is then no preview."""
    from codebattle.config import ConfigError, load_settings

    try:
        return load_settings().preview
    except ConfigError:
        return False


def _fail(message: str, code: int = 2) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


@judge_app.command("selftest")
def selftest(
    languages: Annotated[
        str | None,
        typer.Option(
            help="only these languages' toolchains, e.g. cpp or python,pypy (a pool's image "
            "has its own only; default: every language)"
        ),
    ] = None,
) -> None:
    """Check this host: bubblewrap, cgroups, seccomp, compilers (a preview: its mock sandbox,
    which needs none of them)."""
    from codebattle.judge.selftest import chosen_languages, format_checks, run_checks

    try:
        only = None if languages is None else chosen_languages(languages)
    except ValueError as exc:
        _fail(f"--languages: {exc}")
    if _preview():
        from codebattle.ops.health import MOCK_SANDBOX

        typer.echo(f"sandbox: {MOCK_SANDBOX}")
        return
    checks = run_checks(only)
    typer.echo(format_checks(checks))
    if any(c.status == "fail" for c in checks):
        raise typer.Exit(1)


@judge_app.command("prepare")
def prepare(
    force: Annotated[bool, typer.Option(help="build again even where valid")] = False,
) -> None:
    """Build the languages' prebuilt artifacts (C++ precompiled header, Java class-data
    archives) for this host's toolchains; exits 1 if one could not be built."""
    from codebattle.judge import languages
    from codebattle.judge.prebuilt import PREBUILTS
    from codebattle.judge.sandbox import Sandbox

    outcomes = PREBUILTS.prepare(Sandbox(), languages.prebuilt(), force=force)
    for o in outcomes:
        timing = f" in {o.seconds:.1f} s" if o.state == "built" else ""
        typer.echo(f"{o.name}: {o.state}{timing} {o.detail}".rstrip())
    typer.echo(f"(in {PREBUILTS.root})")
    if any(o.state == "failed" for o in outcomes):
        raise typer.Exit(1)


@judge_app.command("verify")
def verify(
    packages: Annotated[list[Path], typer.Argument(help="problem package folders")],
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
    jobs: Annotated[int, typer.Option(help="submissions judged at once")] = 2,
) -> None:
    """Judge every submission under submissions/ and check it does what its folder (and, in
    2025-09 packages, submissions.yaml) asks; every submission is reported with its cause."""
    from codebattle.judge.verify import Verifier, format_table

    verifier = Verifier(jobs=jobs)
    reports = []
    for path in packages:
        report = verifier.verify(path)
        reports.append(report)
        if not as_json:
            typer.echo(format_table(report))
    if as_json:
        typer.echo(json.dumps([r.to_json() for r in reports], indent=2))
    if not all(r.ok for r in reports):
        raise typer.Exit(1)


@judge_app.command("run")
def run(
    package: Annotated[Path, typer.Argument(help="problem package folder")],
    source: Annotated[
        Path, typer.Argument(help="the submission's source file, or a folder of its files")
    ],
    lang: Annotated[str | None, typer.Option("--lang", help="python | cpp | java")] = None,
    run_all: Annotated[bool, typer.Option("--all", help="run every test")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Judge one submission (a source file or a folder) against a package, test by test."""
    from codebattle.judge import languages
    from codebattle.judge.engine import Judge
    from codebattle.judge.loader import load_package
    from codebattle.judge.package import PackageError
    from codebattle.judge.submission_files import folder_sources

    files: dict[str, bytes] = {}
    try:
        if source.is_dir():
            language, code, files = folder_sources(source, languages.get(lang) if lang else None)
        else:
            language = languages.get(lang) if lang else languages.for_path(source)
            code = source.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        _fail(f"cannot read {source}: {exc}")
    except (languages.UnknownLanguage, ValueError) as exc:  # no language or entrypoint
        _fail(str(exc))
    try:
        pkg = load_package(package)
    except PackageError as exc:
        _fail(str(exc))
    judge = Judge()
    time_limit = pkg.limits.time_limit
    if time_limit is None:
        from codebattle.judge.verify import Verifier

        typer.echo("deriving the time limit from the accepted submissions...", err=True)
        try:
            time_limit, _ = Verifier(judge).time_limits(pkg)
        except ValueError as exc:
            _fail(f"{pkg.short_name}: {exc}")

    async def go() -> JudgeResult:
        final: JudgeResult | None = None
        async for item in judge.stream(
            pkg, language, code, run_all=run_all, time_limit=time_limit, files=files
        ):
            if isinstance(item, TestResult):
                if not as_json:
                    line = (
                        f"{item.name:<28} {item.verdict:<4} {item.time:7.3f}s "
                        f"{item.memory / MiB:7.1f}MB"
                    )
                    feedback = item.feedback.splitlines()[0] if item.feedback else ""
                    typer.echo(
                        line
                        + (f"  {feedback[:100]}" if item.verdict != Verdict.AC and feedback else "")
                    )
            else:
                final = item
        assert final is not None
        return final

    result = asyncio.run(go())
    if as_json:
        typer.echo(json.dumps(result.to_json(), indent=2))
    else:
        if result.compile_output:
            typer.echo(result.compile_output)
        passed = sum(t.verdict == Verdict.AC for t in result.tests)
        score = f", score {result.score:g}" if result.score is not None else ""
        typer.echo(f"verdict: {result.verdict} ({passed}/{len(pkg.tests)} tests passed{score})")
    if result.verdict == Verdict.IE:
        raise typer.Exit(3)


def _settings(*, serving: bool = True) -> Settings:
    from codebattle.config import ConfigError, load_settings

    try:
        return load_settings(serving=serving)
    except ConfigError as exc:
        _fail(f"configuration: {exc}")


def _checked_blobs(settings: Settings) -> BlobStore:
    """The blob store, checked at start-up: an unreachable bucket (or keys it refuses) or
    an unwritable folder stops the process with one line, not at the first submission."""
    from codebattle.services import blob_store
    from codebattle.storage import S3Error

    store = blob_store(settings)
    try:
        store.check()
    except (OSError, S3Error) as exc:
        _fail(f"blob storage: {exc}")
    return store


def _configure_logging(settings: Settings | None = None) -> None:
    from codebattle.logs import configure

    configure(settings or _settings())


@app.command("migrate")
def migrate() -> None:
    """Create or upgrade the database schema."""
    from codebattle.db.migrate import upgrade

    settings = _settings()
    _configure_logging(settings)  # Fly's release command: JSON lines in production
    upgrade(settings.database_url)
    typer.echo("database is up to date")


MIGRATE_RETRY_SECONDS = (1.0, 10.0)  # first and longest wait for a database not up yet


def _upgrade_once_reachable(upgrade: Callable[[str], None], url: str) -> None:
    """Migrate, waiting for a database that is not up yet (a deploy racing it, a restart):
    an instance started during an outage comes up when it ends, rather than crashing into
    its process manager's restart loop. Anything but an outage fails at once."""
    from codebattle.db import outage

    wait, longest = MIGRATE_RETRY_SECONDS
    while True:
        try:
            upgrade(url)
            return
        except Exception as exc:
            if not outage.is_unavailable(exc):
                raise
            typer.echo(f"the database is not reachable yet ({type(exc).__name__}); "
                       f"trying again in {wait:.0f} s", err=True)  # fmt: skip
        time.sleep(wait)
        wait = min(wait * 2, longest)


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port")] = 8000,
    migrate_first: Annotated[
        bool, typer.Option("--migrate/--no-migrate", help="upgrade the database first")
    ] = True,
) -> None:
    """Run the web app (and, without REDIS_URL, the judge in the same process)."""
    import uvicorn

    from codebattle.app import create_app
    from codebattle.db.migrate import upgrade
    from codebattle.logs import current_format, dict_config
    from codebattle.realtime.stream import transport_limit

    settings = _settings()
    _configure_logging()
    _checked_blobs(settings)
    if migrate_first:
        _upgrade_once_reachable(upgrade, settings.database_url)
    # websockets-sansio: the cheapest per message of uvicorn's WebSocket servers. No
    # permessage-deflate: our messages are small, and compressing each for each of a
    # thousand sockets cost more CPU than everything else (docs/benchmarks.md).
    application = create_app(settings)
    _serve_metrics(settings, host)  # with METRICS_PORT: on that port, at the app's address
    # Python's full collections walk every object: with a thousand sockets they stalled the
    # event loop for 200+ ms. Freeze what exists at start-up (modules, the app: never
    # garbage) out of the collector's reach, and collect the young generation less often.
    gc.set_threshold(GC_YOUNG_THRESHOLD, 20, 50)
    gc.freeze()
    uvicorn.run(
        # Our logging config again, so uvicorn installs no formatter of its own: its access
        # and error lines are rendered like every other (codebattle/logs.py).
        application, host=host, port=port, log_config=dict_config(current_format()),
        ws="websockets-sansio", ws_per_message_deflate=False,
        # A frame above every socket's limit is refused (1009) before it is buffered.
        ws_max_size=transport_limit(settings),
    )  # fmt: skip


def _serve_metrics(
    settings: Settings, host: str, registry: CollectorRegistry | None = None
) -> None:
    """With METRICS_PORT, this process's metrics on that port alone (ops/metrics_http.py)."""
    from codebattle.ops import metrics_http

    try:
        metrics_http.serve_on_port(settings, host, registry)
    except OSError as exc:
        _fail(f"METRICS_PORT: cannot listen on {host}:{settings.METRICS_PORT} ({exc.strerror})")


@app.command("worker")
def worker(
    metrics_host: Annotated[
        str, typer.Option(help="address of the metrics server (with METRICS_PORT)")
    ] = "127.0.0.1",
    urgent: Annotated[
        bool,
        typer.Option(help="the urgent lane: only duels' submissions and runs, practice runs"),
    ] = False,
    levels: Annotated[
        str | None,
        typer.Option(help="only these priority levels, e.g. 0,1 (0 duels .. 3 practice)"),
    ] = None,
    languages: Annotated[
        str | None,
        typer.Option(
            help="only these languages, e.g. python or cpp,java (default: every language "
            "whose toolchain this host has)"
        ),
    ] = None,
) -> None:
    """Judge jobs from the Redis queue (needs REDIS_URL; never the database). Run at least
    one `--urgent` worker per pool: the others may all be busy with practice submissions.
    A pool per language: `--languages python` on hosts (images) with Python only."""
    from codebattle.judge import jobs
    from codebattle.judge.queue import languages_here, pool_languages
    from codebattle.judge.runner import JobRunner
    from codebattle.judge.worker import Worker

    settings = _settings(serving=False)
    _configure_logging(settings)
    if not settings.REDIS_URL:
        _fail("REDIS_URL is not set: without it the web app judges in its own process")
    import socket

    from codebattle.integrations import sentry

    sentry.init(settings, server_name=socket.gethostname(), component="worker")  # with SENTRY_DSN
    chosen: tuple[int, ...] = jobs.LEVELS
    if urgent and levels is not None:
        _fail("give --urgent or --levels, not both")
    if urgent:
        chosen = jobs.URGENT
    elif levels is not None:
        try:
            chosen = tuple(int(part) for part in levels.split(","))
        except ValueError:
            chosen = ()
        if not chosen or not set(chosen) <= set(jobs.LEVELS):
            _fail(f"--levels: a comma-separated list of {', '.join(map(str, jobs.LEVELS))}")
    wanted = languages_here() if languages is None else tuple(
        name for part in languages.split(",") if (name := part.strip())
    )  # fmt: skip
    try:
        served = pool_languages(wanted)
    except ValueError as exc:
        _fail(f"--languages: {exc}" if languages is not None else str(exc))
    for secret in ("DATABASE_URL", "SECRET_KEY", "OPENAI_API_KEY", "GPTZERO_API_KEY"):
        if getattr(settings, secret) is not None:
            typer.echo(f"warning: {secret} is set; workers never use it: remove it from "
                       "their environment (they run untrusted code)", err=True)  # fmt: skip
    from codebattle import logs
    from codebattle.integrations import tracing

    logs.use_trace_ids(tracing.current_ids)  # lines inside a job's span carry its ids
    if tracing.setup(settings, "worker"):  # with OTEL_EXPORTER_OTLP_ENDPOINT
        atexit.register(tracing.shutdown)  # the last spans sent when SIGTERM ends the run
    from codebattle.ops.worker_metrics import MeteredRunner, WorkerMetrics

    counted = WorkerMetrics()
    _serve_metrics(settings, metrics_host, counted.registry)
    runner = MeteredRunner(JobRunner.on_this_host(_checked_blobs(settings)), counted)
    image = pool_image(settings, served)
    Worker(settings.REDIS_URL, runner, settings.QUEUE_REDELIVERY_SECONDS, chosen,
           served, image).run()  # fmt: skip


# The image setting of each language's worker pool (PyPy runs in the Python image).
POOL_IMAGES = {
    "python": "SANDBOX_DOCKER_IMAGE_PY",
    "pypy": "SANDBOX_DOCKER_IMAGE_PY",
    "cpp": "SANDBOX_DOCKER_IMAGE_CPP",
    "java": "SANDBOX_DOCKER_IMAGE_JAVA",
}


def pool_image(settings: Settings, languages: tuple[str, ...]) -> str:
    """The image a worker of these languages runs, for its heartbeat (the fleet page): the
    one SANDBOX_DOCKER_IMAGE_* setting its languages share, else "" (a mixed worker, or
    no image set)."""
    images = {getattr(settings, POOL_IMAGES[name], None) if name in POOL_IMAGES else None
              for name in languages}  # fmt: skip
    image = images.pop() if len(images) == 1 else None
    return image or ""


@outbox_app.command("status")
def outbox_status() -> None:
    """Jobs waiting for their verdict: due to be sent, and sent (the queue should hold them;
    an old one there that never finishes is what `outbox resend` is for)."""
    from datetime import datetime

    from codebattle.submissions import outbox

    async def read(session: AsyncSession) -> tuple[int, int, datetime | None]:
        return await outbox.counts(session)

    due, sent, oldest = _in_session(read)
    since = f" (the oldest saved {oldest:%Y-%m-%d %H:%M:%S} UTC)" if oldest else ""
    typer.echo(f"due to be sent: {due}\nsent, waiting for the verdict: {sent}{since}")


@outbox_app.command("resend")
def outbox_resend() -> None:
    """Make every unfinished job due again: the running API instances' relays send them
    (safe at any time: a job sent twice is judged twice and recorded once)."""
    from datetime import UTC, datetime

    from codebattle.submissions import outbox

    async def resend(session: AsyncSession) -> int:
        return await outbox.resend_unfinished(session, datetime.now(UTC))

    typer.echo(f"jobs due again: {_in_session(resend)}")


@problems_app.command("import")
def import_problems(
    packages: Annotated[list[Path], typer.Argument(help="problem package folders")],
) -> None:
    """Import packages; a changed package becomes a new version (past results never change)."""
    from codebattle.db.migrate import upgrade
    from codebattle.judge.package import PackageError, ProblemPackage
    from codebattle.problems.importer import import_package
    from codebattle.services import Services

    settings = _settings()
    upgrade(settings.database_url)

    def derive(package: ProblemPackage) -> float:
        from codebattle.judge.verify import Verifier

        return Verifier().time_limits(package)[0]

    async def run() -> int:
        services = Services.from_settings(settings)
        failures = 0
        try:
            for path in packages:
                try:
                    async with services.db.session() as session:
                        outcome = await import_package(session, services.blobs, path, derive)
                except (PackageError, ValueError) as exc:
                    failures += 1
                    typer.echo(f"{path}: error: {exc}", err=True)
                    continue
                typer.echo(f"{outcome.slug}: {outcome.status} (version {outcome.version})")
                for warning in outcome.warnings:
                    typer.echo(f"  warning: {warning}")
        finally:
            await services.db.dispose()
        return failures

    if asyncio.run(run()):
        raise typer.Exit(1)


def _in_session(
    work: Callable[[AsyncSession], Awaitable[T]], *, upgrade: bool = True, reading: bool = False
) -> T:
    """Run `work` in one database session: the schema upgraded first unless `upgrade` is
    False (a check of a restored copy must see the schema it came back with); a `reading`
    session never takes SQLite's write lock. In a preview the engine carries the site's
    guard (db/preview.py): reads run, a write outside its tables is refused as on the site.
    A user error or an unreachable database is one line on stderr."""
    from codebattle.db import outage, preview
    from codebattle.db.migrate import upgrade as upgrade_schema
    from codebattle.db.session import Database
    from codebattle.errors import UserError
    from codebattle.i18n import translate

    settings = _settings()
    if upgrade:
        upgrade_schema(settings.database_url)

    async def run() -> T:
        db = Database(settings.database_url)
        if settings.preview:
            preview.guard(db.engine)
        try:
            async with db.reading() if reading else db.session() as session:
                return await work(session)
        finally:
            await db.dispose()

    try:
        return asyncio.run(run())
    except UserError as exc:
        _fail(translate(exc.key, "en", **exc.params))
    except Exception as exc:
        if not outage.is_unavailable(exc):
            raise
        _fail(f"the database is not reachable ({type(exc).__name__})")


@users_app.command("token")
def user_token(
    nickname: Annotated[str, typer.Argument(help="the user's nickname (created if needed)")],
    name: Annotated[str, typer.Option(help="a label for the token")] = "cli",
) -> None:
    """Print a new personal API token for NICKNAME, creating the user if needed."""
    from codebattle.accounts import service as accounts

    async def create(session: AsyncSession) -> str:
        user = await accounts.ensure_user(session, nickname)
        _token, plain = await accounts.create_token(session, user, name)
        return plain

    typer.echo(_in_session(create))


@users_app.command("role")
def user_role(
    nickname: Annotated[str, typer.Argument(help="the user's nickname")],
    role: Annotated[str, typer.Argument(help="player, moderator, operator or admin")],
    reason: Annotated[str, typer.Option("--reason", help="why (kept in the audit log)")] = "",
) -> None:
    """Give NICKNAME a role (moderators delete chat messages and mute users), written to
    the audit log with the reason. The user's sessions get a new id on their next request."""
    from codebattle.accounts import service as accounts

    async def give(session: AsyncSession) -> str:
        _user, old = await accounts.set_role(session, nickname, role, reason=reason)
        return old

    old = _in_session(give)
    typer.echo(f"{nickname}: {old} → {role}")


@users_app.command("audit")
def user_audit(
    nickname: Annotated[str | None, typer.Argument(help="only entries about this user")] = None,
    limit: Annotated[int, typer.Option(help="at most this many, newest first")] = 50,
) -> None:
    """Show the audit log (role, plan, invite changes: when, who, about whom, old → new,
    why), newest first."""
    from sqlalchemy import select

    from codebattle.accounts import audit
    from codebattle.accounts.models import User
    from codebattle.errors import UserError

    async def read(session: AsyncSession) -> list[str]:
        subject_id = None
        if nickname is not None:
            subject_id = await session.scalar(select(User.id).where(User.nickname == nickname))
            if subject_id is None:
                raise UserError(404, "user_unknown")
        entries = await audit.entries(session, subject_id, limit)
        ids = {e.subject_user_id for e in entries if e.subject_user_id is not None}
        names = await audit.nicknames(session, ids)
        lines = []
        for e in entries:
            about = names.get(e.subject_user_id, "-") if e.subject_user_id is not None else "-"
            when = e.created_at.strftime("%Y-%m-%d %H:%M:%S")
            old, new = e.old if e.old is not None else "-", e.new if e.new is not None else "-"
            change = f"{old} → {new}"
            lines.append(f"{when}  {e.actor_label}  {e.action}  {about}  {change}  {e.reason}")
        return lines

    lines = _in_session(read)
    typer.echo("\n".join(lines) if lines else "no entries")


@payments_app.command("list")
def payments_list(
    nickname: Annotated[str | None, typer.Argument(help="only this user's payments")] = None,
    limit: Annotated[int, typer.Option(help="at most this many, newest first")] = 50,
) -> None:
    """List payments (id, user, plan, amount, kind, status, dates), newest first."""

    from codebattle.accounts import billing

    async def read(session: AsyncSession) -> list[str]:
        user_id = None
        if nickname is not None:
            user_id = await _user_id(nickname)(session)
        lines = []
        for payment, nick in await billing.payments_of(session, user_id, limit):
            when = payment.created_at.strftime("%Y-%m-%d %H:%M")
            until = payment.period_end.strftime("%Y-%m-%d") if payment.period_end else "-"
            failure = f"  ({payment.failure})" if payment.failure else ""
            lines.append(
                f"{payment.id}  {nick}  {payment.plan}  {payment.amount} {payment.currency}  "
                f"{payment.kind}  {payment.status}  {when}  until {until}{failure}"
            )
        return lines

    lines = _in_session(read)
    typer.echo("\n".join(lines) if lines else "no payments")


@payments_app.command("refund")
def payments_refund(
    payment_id: Annotated[str, typer.Argument(help="the payment's id (payments list)")],
    reason: Annotated[str, typer.Option("--reason", help="why (kept in the audit log)")],
) -> None:
    """Refund a paid payment: cancelled at the provider, marked refunded, and the user put
    back on Free if it paid for the current period (audited). Running it again does nothing."""
    from datetime import UTC, datetime

    from codebattle.accounts import billing
    from codebattle.integrations import portone

    _configure_logging()  # the refund's log line to stderr, the answer alone on stdout
    client = portone.client_for(_settings())
    if client is None:
        _fail("payments are not configured (PORTONE_API_SECRET, PORTONE_STORE_ID, ...)")

    async def give_back(session: AsyncSession) -> str:
        return await billing.refund(
            session, client, payment_id, reason=reason, actor_label="cli", now=datetime.now(UTC)
        )

    result = _in_session(give_back)
    typer.echo(f"{payment_id}: {result.replace('_', ' ')}")


invites_app = typer.Typer(no_args_is_help=True, help="Alpha invite codes.")
app.add_typer(invites_app, name="invites")
feedback_app = typer.Typer(no_args_is_help=True, help="What users sent through the feedback form.")
app.add_typer(feedback_app, name="feedback")


@invites_app.command("create")
def invites_create(
    uses: Annotated[int, typer.Option("--uses", help="how many people may use it")] = 1,
    days: Annotated[float | None, typer.Option("--days", help="valid this many days")] = None,
    note: Annotated[str, typer.Option("--note", help="who it is for (kept with the code)")] = "",
) -> None:
    """Create an invite code (needed for a first sign-in with ALPHA_INVITE_ONLY=true);
    written to the audit log."""
    from codebattle.accounts import audit, invites

    async def create(session: AsyncSession) -> str:
        invite = await invites.create(session, uses=uses, days=days, note=note)
        until = invite.expires_at.isoformat() if invite.expires_at else "no expiry"
        audit.record(
            session, None, "cli", "invite", None, None, f"{invite.code} ×{uses}, {until}", note
        )
        await session.commit()
        return invite.code

    typer.echo(_in_session(create))


@invites_app.command("list")
def invites_list() -> None:
    """List invite codes: code, uses, expiry, note."""
    from codebattle.accounts import invites

    async def read(session: AsyncSession) -> list[str]:
        return [
            f"{i.code}  {i.uses}/{i.max_uses}  "
            f"{i.expires_at.strftime('%Y-%m-%d %H:%M') if i.expires_at else '-'}  {i.note}"
            for i in await invites.listing(session)
        ]

    lines = _in_session(read)
    typer.echo("\n".join(lines) if lines else "no invite codes")


@feedback_app.command("list")
def feedback_list(
    limit: Annotated[int, typer.Option(help="at most this many, newest first")] = 50,
) -> None:
    """Show feedback, newest first: when, who, category, page, text."""
    from codebattle.accounts import feedback

    async def read(session: AsyncSession) -> list[str]:
        return [
            f"{item.created_at.strftime('%Y-%m-%d %H:%M')}  {nickname or '(signed out)'}  "
            f"{item.category}  {item.page or '-'}\n    " + item.text.replace("\n", "\n    ")
            for item, nickname in await feedback.recent(session, limit)
        ]

    lines = _in_session(read)
    typer.echo("\n".join(lines) if lines else "no feedback")


plans_app = typer.Typer(no_args_is_help=True, help="Plans: grant one, show a user's, expire.")
app.add_typer(plans_app, name="plans")


def _user_id(nickname: str) -> Callable[[AsyncSession], Awaitable[int]]:
    async def find(session: AsyncSession) -> int:
        from sqlalchemy import func, select

        from codebattle.accounts.models import User

        user_id = await session.scalar(
            select(User.id).where(func.lower(User.nickname) == nickname.lower())
        )
        if user_id is None:
            _fail(f"no user {nickname!r}")
        return int(user_id)

    return find


def _when(moment: object) -> str:
    from datetime import UTC, datetime

    if not isinstance(moment, datetime):
        return "-"
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


@plans_app.command("grant")
def plans_grant(
    nickname: Annotated[str, typer.Argument(help="the user's nickname")],
    plan: Annotated[str, typer.Argument(help="free, basic or pro")],
    reason: Annotated[str, typer.Option("--reason", help="why (kept in the audit log)")],
    days: Annotated[
        int | None,
        typer.Option("--days", min=1, max=3650, help="for this many days (default: no end)"),
    ] = None,
) -> None:
    """Put NICKNAME on PLAN (for --days N, from the current end if already on it; without
    --days, open-ended), recorded in the plan history (source "grant") and the audit log."""
    from datetime import UTC, datetime, timedelta

    from codebattle.accounts import plans

    if not reason.strip():
        _fail("give a reason (--reason); it is kept in the audit log")
    if plan not in plans.PLANS:
        _fail(f"unknown plan {plan!r}: choose one of {', '.join(plans.PLANS)}")

    async def grant(session: AsyncSession) -> str:
        now = datetime.now(UTC)
        user_id = await _user_id(nickname)(session)
        ends = now + timedelta(days=days) if days is not None else None
        change = await plans.change_plan(
            session, user_id, plan, ends_at=ends, source="grant", actor_label="cli",
            reason=reason.strip(), now=now,
        )  # fmt: skip
        await session.commit()
        until = f" until {_when(change.ends_at)}" if change.ends_at is not None else ""
        return f"{nickname}: {change.old_plan} → {change.plan}{until} (grant)"

    typer.echo(_in_session(grant))


@plans_app.command("show")
def plans_show(nickname: Annotated[str, typer.Argument(help="the user's nickname")]) -> None:
    """Show NICKNAME's plan (as it holds now), its dates and source, today's games and the
    plan history, newest first."""
    from datetime import UTC, datetime

    from sqlalchemy import select

    from codebattle.accounts import plans
    from codebattle.accounts.models import PlanChange, User

    settings = _settings()

    async def read(session: AsyncSession) -> list[str]:
        now = datetime.now(UTC)
        user = await session.get(User, await _user_id(nickname)(session))
        assert user is not None
        games = await plans.allowance(session, user, settings, now)
        stored = "" if games.plan == user.plan else f" (was {user.plan}, ended)"
        ends = _when(user.plan_ends_at) if user.plan_ends_at is not None else "no end"
        renew = "on" if user.plan_auto_renew else "off"
        left = "unlimited" if games.left is None else f"{games.left} of {games.limit}"
        lines = [
            f"{user.nickname}: {games.plan}{stored}",
            f"  since {_when(user.plan_started_at)}, until {ends}, source {user.plan_source}, "
            f"auto-renew {renew}",
            f"  games left today ({plans.plan_day(now, settings)}): {left}",
            "history:",
        ]
        changes = await session.scalars(
            select(PlanChange)
            .where(PlanChange.user_id == user.id)
            .order_by(PlanChange.created_at.desc(), PlanChange.id.desc())
        )
        history = [
            f"  {_when(c.created_at)}  {c.old_plan} → {c.plan}  from {_when(c.starts_at)}  "
            f"until {_when(c.ends_at) if c.ends_at else 'no end'}  {c.source}"
            + (f"  payment {c.payment_id}" if c.payment_id else "")
            for c in changes
        ]
        return lines + (history or ["  none"])

    typer.echo("\n".join(_in_session(read)))


@plans_app.command("expire")
def plans_expire() -> None:
    """Write the fall back to Free of every paid plan whose end has passed (source
    "expiry"). Safe to run at any time (e.g. from cron); reads never depend on it."""
    from datetime import UTC, datetime

    from codebattle.accounts import plans

    async def expire(session: AsyncSession) -> int:
        count = await plans.expire_plans(session, datetime.now(UTC))
        await session.commit()
        return count

    typer.echo(f"{_in_session(expire)} plan(s) expired")


giftcards_app = typer.Typer(no_args_is_help=True, help="Gift cards: reconcile, balance.")
app.add_typer(giftcards_app, name="giftcards")


def _gift_provider() -> giftishow.GiftProvider:
    from codebattle.integrations import giftishow

    provider = giftishow.provider_for(_settings())
    if provider is None:
        _fail("gift cards are not configured (GIFTISHOW_AUTH_CODE, GIFTISHOW_AUTH_TOKEN, ...)")
    return provider


@giftcards_app.command("reconcile")
def giftcards_reconcile(
    days: Annotated[
        int | None, typer.Option(help="only exchanges made in the last DAYS days")
    ] = None,
) -> None:
    """Compare our gift-card exchanges (issued, issuing, cancelled) with the provider's
    cards; print what disagrees. Exit 1 when anything does (or could not be read)."""
    from datetime import UTC, datetime, timedelta

    from codebattle.rewards.reconcile import Report, reconcile

    _configure_logging()  # log lines to stderr, the report alone on stdout
    provider = _gift_provider()
    since = datetime.now(UTC) - timedelta(days=days) if days is not None else None

    async def check(session: AsyncSession) -> Report:
        try:
            return await reconcile(session, provider, since=since, goods=True)
        finally:
            await provider.aclose()

    report = _in_session(check)
    typer.echo("\n".join(report.lines()))
    if not report.ok:
        raise typer.Exit(1)


@giftcards_app.command("balance")
def giftcards_balance() -> None:
    """Print the business money left at the gift-card provider, in won."""
    from codebattle.integrations.giftishow import GiftError

    _configure_logging()
    provider = _gift_provider()

    async def read() -> int:
        try:
            return await provider.balance()
        finally:
            await provider.aclose()

    try:
        won = asyncio.run(read())
    except GiftError as exc:
        _fail(f"the provider did not answer: {exc}", 1)
    typer.echo(f"{won:,} won")


points_app = typer.Typer(no_args_is_help=True, help="The points ledger: check it, read a user's.")
app.add_typer(points_app, name="points")


@points_app.command("verify")
def points_verify(
    fix: Annotated[
        bool, typer.Option(help="Set cached balances that differ to their entries' sum.")
    ] = False,
) -> None:
    """Recompute every balance from the ledger's entries; check every transaction sums to
    zero and no balance is negative. Exits 1 when something is wrong (after fixing, too)."""
    from codebattle.progress import points

    async def check(session: AsyncSession) -> list[str]:
        return points.describe(await points.verify(session, fix=fix))

    problems = _in_session(check)
    for line in problems:
        typer.echo(line)
    typer.echo(f"{len(problems)} problem(s)" + (" (cached balances fixed)" if fix else ""))
    if problems:
        raise typer.Exit(1)


@points_app.command("show")
def points_show(nickname: Annotated[str, typer.Argument(help="The user's nickname.")]) -> None:
    """A user's balance, debt and latest ledger lines."""

    from codebattle.progress import points

    async def show(session: AsyncSession) -> list[str]:
        user_id = await _user_id(nickname)(session)
        lines = [
            f"balance {await points.balance(session, user_id)}, "
            f"debt {await points.debt(session, user_id)}"
        ]
        for line in await points.history(session, user_id, limit=20):
            lines.append(
                f"{line.at:%Y-%m-%d %H:%M} #{line.transaction_id} {line.reason:<12} "
                f"{line.amount:+d}" + (f" (debt {line.owed:+d})" if line.owed else "")
            )
        return lines

    for line in _in_session(show):
        typer.echo(line)


achievements_app = typer.Typer(no_args_is_help=True, help="Achievements: award from history.")
app.add_typer(achievements_app, name="achievements")


@achievements_app.command("backfill")
def achievements_backfill() -> None:
    """Evaluate every achievement for every user from the stored history (as the event pass
    does) and award what is due: once each, so it is safe to run again at any time."""
    from datetime import UTC, datetime

    from codebattle.db import preview
    from codebattle.db.migrate import upgrade
    from codebattle.db.session import Database
    from codebattle.rewards import achievements

    settings = _settings()
    upgrade(settings.database_url)

    async def run() -> int:
        db = Database(settings.database_url)
        if settings.preview:  # awards are refused as on the site (db/preview.py)
            preview.guard(db.engine)
        try:
            return await achievements.backfill(db, settings, datetime.now(UTC))
        finally:
            await db.dispose()

    typer.echo(f"{asyncio.run(run())} achievement(s) awarded")


db_app = typer.Typer(no_args_is_help=True, help="The database: check it, count its rows.")
app.add_typer(db_app, name="db")


@db_app.command("check")
def db_check(
    blobs: Annotated[
        bool, typer.Option(help="Also look for the packages' and newest code's blobs.")
    ] = True,
) -> None:
    """Check the database without changing it: schema at the newest migration, sequences
    ahead of their ids, event logs without a gap, points ledger balanced, audit log
    append-only, blobs present. Exits 1 on any finding (run it on a restored copy)."""
    from codebattle.ops import integrity
    from codebattle.services import blob_store

    store = blob_store(_settings()) if blobs else None

    async def check(session: AsyncSession) -> list[str]:
        return [str(finding) for finding in await integrity.check(session, store)]

    findings = _in_session(check, upgrade=False, reading=True)
    for line in findings:
        typer.echo(line)
    typer.echo(f"{len(findings)} finding(s)")
    if findings:
        raise typer.Exit(1)


@db_app.command("counts")
def db_counts() -> None:
    """Rows of the key tables, one `table<TAB>rows` line each (the drill compares them)."""
    from codebattle.ops import integrity

    counts = _in_session(integrity.counts, upgrade=False, reading=True)
    for table, rows in counts.items():
        typer.echo(f"{table}\t{rows}")


blobs_app = typer.Typer(no_args_is_help=True, help="Blob storage: move a local folder to S3.")
app.add_typer(blobs_app, name="blobs")


@blobs_app.command("upload-local")
def blobs_upload_local(
    folder: Annotated[
        Path | None, typer.Argument(help="a local blob folder (default: DATA_DIR/blobs)")
    ] = None,
) -> None:
    """Copy a local blob folder into the S3 bucket (S3_*), under the same keys: once done,
    the site can run on the bucket. Run it again after a last stop of the old site: only
    what is missing is sent. Files that are not blobs or are damaged are listed, not sent."""
    from codebattle.storage import S3Error, copy_folder

    settings = _settings()
    if not settings.S3_BUCKET:
        _fail("S3_BUCKET is not set: there is no bucket to upload to")
    source = folder or settings.DATA_DIR / "blobs"
    if not source.is_dir():
        _fail(f"{source}: no such folder")
    try:
        copied = copy_folder(source, _checked_blobs(settings))
    except (OSError, S3Error) as exc:
        _fail(f"upload stopped: {exc} (run it again: what was sent is not sent twice)", 1)
    for line in copied.refused:
        typer.echo(f"refused: {line}")
    typer.echo(
        f"{copied.uploaded} uploaded, {copied.present} already there, {len(copied.refused)} refused"
    )
    if copied.refused:
        raise typer.Exit(1)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
