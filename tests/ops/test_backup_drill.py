"""The backup and restore drill (scripts/backup-drill.sh) on a database the app is writing
to: a site on a database of the private PostgreSQL cluster (tests/support/pg_server.py:
the drill creates and drops databases, which the shared server's other users must never
see), filled through the app (two players, a duel won, practice submissions judged), and
a player submitting all the while the drill dumps, restores and checks.

The copy passes `codebattle db check` and holds the rows of the dump's moment: the duel
with its whole event log, the players, the submissions made before the drill began; the
source went on growing. The same checks fail on a copy broken the way a bad restore
breaks one (a sequence behind its ids, a gap in an event log)."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.chaos.test_games_once import SOLUTION, duel, finished, submit
from tests.support.chaos import WAIT, client, database_of, hello_site, query
from tests.support.pg_server import PgServer, asyncpg_url, private_pg  # noqa: F401
from tests.support.s3_server import s3_server, s3_settings  # noqa: F401
from tests.support.servers import BATTLE_ENV, CODEBATTLE, ROOT, Server, Site

DRILL = ROOT / "scripts" / "backup-drill.sh"
PRACTICE = {"problem": "hello-battle", "language": "python", "code": SOLUTION}


@pytest.fixture
def source(private_pg: PgServer) -> Iterator[str]:  # noqa: F811
    with private_pg.database(migrated=True) as url:
        yield url


@pytest.fixture
def site(tmp_path: Path, source: str) -> Iterator[Site]:
    with hello_site(
        tmp_path / "site", **BATTLE_ENV, DATABASE_URL=source, SUBMISSIONS_PER_MINUTE="1000"
    ) as site:  # fmt: skip
        yield site


def run(site: Site, *argv: str, **env: str) -> subprocess.CompletedProcess[str]:
    """A command with the site's settings (DATA_DIR: the blobs the check looks for)."""
    return subprocess.run(
        argv, env=site.environment(CODEBATTLE=CODEBATTLE, **env), cwd=site.data,
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


async def keep_submitting(server: Server, token: str, made: list[int]) -> None:
    """Practice submissions one after another until cancelled: the writes the dump races."""
    async with client(server, token) as api:
        while True:
            reply = await api.post("/api/submissions", json=PRACTICE)
            assert reply.status_code == 201, reply.text
            made.append(int(reply.json()["id"]))
            await asyncio.sleep(0.05)


async def test_a_live_database_dumped_and_restored_passes_the_checks(
    site: Site,
    source: str,
    private_pg: PgServer,  # noqa: F811
) -> None:
    server = site.serve()
    alice, bob = site.token("alice"), site.token("bob")
    match_id = await duel(server, alice, bob)
    won = await submit(server, alice, match_id, SOLUTION)
    assert (await finished(server, alice, match_id))["state"] == "finished"

    made: list[int] = []
    writer = asyncio.create_task(keep_submitting(server, bob, made))
    try:
        async with asyncio.timeout(WAIT):
            while len(made) < 5:  # writes are going on before the dump starts
                await asyncio.sleep(0.05)
        before = list(made)
        drill = await asyncio.to_thread(
            run, site, str(DRILL), "--keep", source, "drill_copy", PG_BIN=str(private_pg.bin)
        )
        during = len(made) - len(before)
    finally:
        writer.cancel()
        await asyncio.gather(writer, return_exceptions=True)
    assert drill.returncode == 0, drill.stdout + drill.stderr
    assert "0 finding(s)" in drill.stdout and "drill passed" in drill.stdout
    assert during > 0  # the app wrote while the drill ran

    copy, live = asyncpg_url(private_pg.url_of("drill_copy")), asyncpg_url(source)
    try:
        # The players, the duel and its whole event log, the submissions made before.
        assert await query(copy, "SELECT nickname FROM users ORDER BY nickname") == [
            ("alice",), ("bob",)
        ]  # fmt: skip
        assert await query(copy, f"SELECT state, winner_id IS NOT NULL FROM matches "
                                 f"WHERE id = {match_id}") == [("finished", True)]  # fmt: skip
        events = await query(copy, f"SELECT seq FROM match_events WHERE match_id = {match_id}")
        assert events == await query(
            live, f"SELECT seq FROM match_events WHERE match_id = {match_id}"
        )
        assert sorted(seq for (seq,) in events) == list(range(1, len(events) + 1))
        assert await query(copy, f"SELECT verdict FROM submissions WHERE id = {won}") == [("AC",)]
        kept = {i for (i,) in await query(copy, "SELECT id FROM submissions")}
        assert set(before) <= kept
        # One snapshot: the source went on after it; the copy has a prefix of the writes.
        later = {i for (i,) in await query(live, "SELECT id FROM submissions")} - kept
        assert later and min(later) > max(kept)
        # The drill printed both counts side by side.
        assert any(
            line.split()[:1] == ["users"] and line.split()[1:] == ["2", "2"]
            for line in drill.stdout.splitlines()
        ), drill.stdout

        # The copy works: new rows get new ids (its sequences came back with it).
        checked = run(site, CODEBATTLE, "db", "check", DATABASE_URL=private_pg.url_of("drill_copy"))
        assert checked.returncode == 0, checked.stdout + checked.stderr

        # A copy broken as a bad restore leaves one: both checks fail, naming what.
        private_pg.psql(
            "SELECT setval('submissions_id_seq', 1);"
            f" DELETE FROM match_events WHERE match_id = {match_id} AND seq = 2",
            database="drill_copy",
        )
        broken = run(site, CODEBATTLE, "db", "check", DATABASE_URL=private_pg.url_of("drill_copy"))
        assert broken.returncode == 1, broken.stdout + broken.stderr
        assert "sequence: submissions_id_seq gives 2 next" in broken.stdout
        assert f"events: match {match_id}: last seq {len(events)}" in broken.stdout
    finally:
        private_pg.psql('DROP DATABASE IF EXISTS "drill_copy" WITH (FORCE)')


def test_the_drill_refuses_what_it_cannot_do(site: Site, source: str) -> None:
    no_url = run(site, str(DRILL))
    assert no_url.returncode == 2 and "SOURCE_URL" in no_url.stderr
    not_pg = run(site, str(DRILL), "sqlite:///var/codebattle.db")
    assert not_pg.returncode == 2 and "must be postgresql://" in not_pg.stderr
    itself = run(site, str(DRILL), source, source.rsplit("/", 1)[1])
    assert itself.returncode == 2 and "other than the source's" in itself.stderr
    in_query = run(site, str(DRILL), f"{source}?password=secret")
    assert in_query.returncode == 2 and "not ?password=" in in_query.stderr
    assert "secret" not in in_query.stdout + in_query.stderr
    no_env = run(site, str(DRILL), "-", DATABASE_URL="")
    assert no_env.returncode == 2 and "DATABASE_URL is not set" in no_env.stderr
    gone = run(site, str(DRILL), "postgresql://postgres@127.0.0.1:1/nothing")
    assert gone.returncode == 2 and "drill FAILED" not in gone.stdout, gone.stdout + gone.stderr


@pytest.mark.parametrize("store", ["folder", "bucket"])
def test_the_check_names_a_package_missing_from_blob_storage(
    tmp_path: Path, request: pytest.FixtureRequest, store: str
) -> None:
    """A database whose blobs did not come back with it (a restore without the bucket or
    DATA_DIR) fails `codebattle db check`, naming the key; `--no-blobs` leaves them out."""
    env = request.getfixturevalue("s3_settings") if store == "bucket" else {}
    with hello_site(tmp_path / "site", **env) as site:
        assert run(site, CODEBATTLE, "db", "check").returncode == 0
        [(key,)] = asyncio.run(query(database_of(site), "SELECT package_key FROM problem_versions"))
        if store == "bucket":
            s3 = request.getfixturevalue("s3_server").client()
            s3.delete_object(Bucket=env["S3_BUCKET"], Key=key)
        else:
            (site.data / "var" / "blobs" / key).unlink()
        missing = run(site, CODEBATTLE, "db", "check")
        assert missing.returncode == 1 and f"blobs: missing {key}" in missing.stdout, missing
        assert run(site, CODEBATTLE, "db", "check", "--no-blobs").returncode == 0


def test_the_check_never_migrates_and_says_what_it_found(tmp_path: Path) -> None:
    """An empty database is reported as not migrated (and left so: the check changes
    nothing); a database that does not answer is one line and exit 2, no traceback."""
    site = Site(tmp_path)
    empty = run(site, CODEBATTLE, "db", "check")
    assert empty.returncode == 1, empty
    assert "schema: at no revision (not migrated); the migrations' head is" in empty.stdout
    assert run(site, CODEBATTLE, "db", "check").returncode == 1  # still not migrated
    gone = run(site, CODEBATTLE, "db", "check",
               DATABASE_URL="postgresql://postgres@127.0.0.1:1/nothing")  # fmt: skip
    assert gone.returncode == 2 and "Traceback" not in gone.stderr, gone
    assert gone.stderr.strip() == "error: the database is not reachable (ConnectionRefusedError)"


# A password with every character a URL or a passfile treats specially.
PASSWORD = "pa:ss@w/rd%20\\x41 'q'"
LOGGING_TOOL = """#!/bin/bash
# Logs its command line and whether it was given the password, then runs the real tool.
printf 'argv %s %s\\n' "$(basename "$0")" "$*" >> "$LOG"
[ "${PGPASSWORD:-}" != "$EXPECTED" ] || printf 'password %s\\n' "$(basename "$0")" >> "$LOG"
[ -z "${DATABASE_URL:-}" ] || printf 'DATABASE_URL %s\\n' "$DATABASE_URL" >> "$LOG"
exec "$REAL/$(basename "$0")" "$@"
"""


@pytest.fixture
def password_role(private_pg: PgServer) -> Iterator[str]:  # noqa: F811
    """A role that must give its password (scram over TCP), unlike the cluster's others."""
    hba = private_pg.data / "pg_hba.conf"
    before = hba.read_text()
    quoted = PASSWORD.replace("'", "''")
    private_pg.psql(f"CREATE ROLE drill_pw LOGIN SUPERUSER PASSWORD '{quoted}'")
    hba.write_text(f"host all drill_pw 127.0.0.1/32 scram-sha-256\n{before}")
    private_pg.psql("SELECT pg_reload_conf()")
    try:
        yield "drill_pw"
    finally:
        hba.write_text(before)
        private_pg.psql("SELECT pg_reload_conf()")
        private_pg.psql('DROP DATABASE IF EXISTS "drill_pw_copy" WITH (FORCE)')
        private_pg.psql("DROP ROLE IF EXISTS drill_pw")


def test_a_password_in_the_url_reaches_the_tools_but_no_command_line_and_no_output(
    tmp_path: Path,
    source: str,
    password_role: str,
    private_pg: PgServer,  # noqa: F811
) -> None:
    tools = tmp_path / "bin"
    tools.mkdir()
    for name in ("pg_dump", "createdb", "pg_restore", "dropdb", "codebattle"):
        (tools / name).write_text(LOGGING_TOOL)
        (tools / name).chmod(0o755)
    real = tmp_path / "real"
    real.mkdir()
    for name in ("pg_dump", "createdb", "pg_restore", "dropdb"):
        (real / name).symlink_to(private_pg.bin / name)
    (real / "codebattle").symlink_to(CODEBATTLE)
    database = source.rsplit("/", 1)[1]
    server = f"127.0.0.1:{private_pg.port}"
    log = tmp_path / "log"

    def drill(password: str, *argv: str, **env: str) -> subprocess.CompletedProcess[str]:
        url = f"postgresql://{password_role}:{quote(password, safe='')}@{server}/{database}"
        environment = Site(tmp_path / "site").environment(
            PG_BIN=str(tools), CODEBATTLE=str(tools / "codebattle"), REAL=str(real),
            LOG=str(log), PGPASSWORD="not-this-one", EXPECTED=PASSWORD, **env,
        )  # fmt: skip
        arguments = [a.replace("URL", url) for a in argv]
        return subprocess.run(
            [str(DRILL), "--keep", "--no-blobs", *arguments], env=environment,
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip

    (tmp_path / "site").mkdir()
    wrong = drill("wrong", "URL", "drill_pw_copy")
    assert wrong.returncode == 2, wrong.stdout + wrong.stderr  # the password is asked
    assert "password authentication failed" in wrong.stderr
    log.unlink()

    done = drill(PASSWORD, "URL", "drill_pw_copy")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "drill passed" in done.stdout
    kept = f"kept drill_pw_copy: postgresql://{password_role}@{server}/drill_pw_copy"
    assert kept in done.stdout
    secrets = (PASSWORD, quote(PASSWORD, safe=""), "pa:ss")
    logged = log.read_text()
    for secret in secrets:
        assert secret not in done.stdout + done.stderr
        assert secret not in logged  # no command line, no child's DATABASE_URL
    ran = [line.split()[1] for line in logged.splitlines() if line.startswith("argv ")]
    assert ran[:3] == ["pg_dump", "createdb", "pg_restore"] and "codebattle" in ran
    given = [line.split()[1] for line in logged.splitlines() if line.startswith("password ")]
    assert given == ran  # every tool got the URL's password (not the PGPASSWORD set before)

    # From DATABASE_URL (`-`): the drill's own command line has no password either.
    private_pg.psql('DROP DATABASE "drill_pw_copy" WITH (FORCE)')
    url = f"postgresql://{password_role}:{quote(PASSWORD, safe='')}@{server}/{database}"
    from_env = drill(PASSWORD, "-", "drill_pw_copy", DATABASE_URL=url)
    assert from_env.returncode == 0, from_env.stdout + from_env.stderr
    assert "drill passed" in from_env.stdout and PASSWORD not in from_env.stdout
