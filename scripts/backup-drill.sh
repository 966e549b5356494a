#!/usr/bin/env bash
# The backup and restore drill (docs/operations.md, "Backups"): dump a live PostgreSQL
# database, restore the dump into a new database next to it, check the copy with the app's
# own checks and compare its rows with the source. Safe on production: the dump is one
# read-only snapshot (writes go on; only DDL, i.e. a migration, waits for it), and the copy
# is a new database, dropped at the end unless --keep.
#
#   scripts/backup-drill.sh [--keep] [--no-blobs] [--dump FILE] SOURCE_URL|- [COPY_NAME]
#
# SOURCE_URL: postgresql://user[:password]@host[:port]/database (the app's DATABASE_URL;
# a +asyncpg driver suffix is accepted), or - for $DATABASE_URL. The user must be allowed
# to create databases. A password in the URL reaches no tool's command line (visible to
# anyone in the process list) and no output: the tools get the URL without it and the
# password in their environment (PGPASSWORD, readable by this user and root only). This
# script's own arguments are visible too: with a password, give - and DATABASE_URL.
# Without one in the URL: ~/.pgpass or PGPASSWORD, as usual.
# COPY_NAME: the new database (default <database>_drill_<UTC time>); it must not exist.
# The checks run `codebattle db check` with DATABASE_URL set to the copy and the rest of
# this environment (DATA_DIR or S3_* for the blobs, unless --no-blobs).
# PG_BIN: the folder of pg_dump/pg_restore/createdb/dropdb/psql (default: from PATH); they
# must be of the server's major version or newer. CODEBATTLE: the command (default:
# codebattle). Exit: 0 the copy passed, 1 it did not, 2 wrong usage or a step failed.
set -euo pipefail

keep=0 blobs=--blobs dump=""
while [[ $# -gt 0 && $1 == --* ]]; do
    case $1 in
        --keep) keep=1 ;;
        --no-blobs) blobs=--no-blobs ;;
        --dump) dump=${2:?--dump needs a file}; shift ;;
        *) echo "backup-drill: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
[[ $# -ge 1 && $# -le 2 ]] || { sed -n '7,22p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

given=$1
if [[ $given == - ]]; then
    given=${DATABASE_URL:-}
    [[ -n $given ]] || { echo "backup-drill: SOURCE_URL is -, but DATABASE_URL is not set" >&2; exit 2; }
fi
given=${given/postgresql+asyncpg:/postgresql:}
# The user part ends at the last @ before the host; the password is what follows its
# first colon (percent-encoded in a URL).
[[ $given =~ ^(postgres(ql)?://)((.*)@)?([^@/]+)/([A-Za-z0-9_]+)(\?.*)?$ ]] || {
    echo "backup-drill: SOURCE_URL must be postgresql://user@host:port/database" >&2
    exit 2
}
userinfo=${BASH_REMATCH[4]} host=${BASH_REMATCH[5]} source_db=${BASH_REMATCH[6]}
server=${BASH_REMATCH[1]}${BASH_REMATCH[3]:+${userinfo%%:*}@}$host/ query=${BASH_REMATCH[7]}
password=""
[[ $userinfo == *:* ]] && password=${userinfo#*:}
[[ $query != *password=* ]] || {
    echo "backup-drill: give the password in the URL's user part or PGPASSWORD, not ?password=" >&2
    exit 2
}
source_url=$server$source_db$query
unset DATABASE_URL  # each `codebattle` below is given its own, without the password
copy_db=${2:-${source_db}_drill_$(date -u +%Y%m%d%H%M%S)}
[[ $copy_db =~ ^[A-Za-z_][A-Za-z0-9_]{0,62}$ && $copy_db != "$source_db" ]] || {
    echo "backup-drill: COPY_NAME must be a plain name other than the source's" >&2
    exit 2
}
copy_url=$server$copy_db$query
bin=${PG_BIN:+$PG_BIN/}
codebattle=${CODEBATTLE:-codebattle}

work=$(mktemp -d)
created=0
finish() {
    if [[ $created == 1 && $keep == 0 ]]; then
        "${bin}dropdb" --maintenance-db="$source_url" --if-exists --force "$copy_db" ||
            echo "backup-drill: could not drop $copy_db: drop it by hand" >&2
    fi
    rm -rf "$work"
}
trap finish EXIT
if [[ -n $password ]]; then
    # PGPASSWORD, which libpq's tools and asyncpg (`codebattle`) both read, in the
    # environment (readable by this user and root only, unlike a command line); the URL's
    # percent-encoding undone with printf, a builtin (no command line either). Not a
    # passfile: asyncpg does not undo a passfile's \ and \: escapes.
    raw=${password//\\/\\\\}
    printf -v PGPASSWORD '%b' "${raw//%/\\x}"
    export PGPASSWORD
    unset raw password
fi
step() { printf '%s  %s\n' "$(date -u +%H:%M:%S)" "$*"; }

dump=${dump:-$work/$source_db.dump}
step "dump $source_db (pg_dump -Fc, one snapshot; the app keeps writing)"
started=$SECONDS
"${bin}pg_dump" -Fc --no-owner --no-privileges -f "$dump" "$source_url" || exit 2
step "dumped $(du -h "$dump" | cut -f1) in $((SECONDS - started)) s"

step "create $copy_db and restore into it"
"${bin}createdb" --maintenance-db="$source_url" "$copy_db" || exit 2
created=1
started=$SECONDS
"${bin}pg_restore" --no-owner --no-privileges --exit-on-error -d "$copy_url" "$dump" || exit 2
step "restored in $((SECONDS - started)) s"

step "codebattle db check on the copy"
passed=1
DATABASE_URL=$copy_url "$codebattle" db check "$blobs" || passed=0

step "rows: the source now, the copy (at the dump's snapshot)"
DATABASE_URL=$source_url "$codebattle" db counts | sort >"$work/source.counts" || exit 2
DATABASE_URL=$copy_url "$codebattle" db counts | sort >"$work/copy.counts" || exit 2
printf '%-20s %12s %12s\n' table source copy
join -t $'\t' -a 1 -e missing -o 0,1.2,2.2 "$work/source.counts" "$work/copy.counts" |
    while IFS=$'\t' read -r table now restored; do
        printf '%-20s %12s %12s\n' "$table" "$now" "$restored"
    done
if [[ $(cut -f1 "$work/source.counts") != $(cut -f1 "$work/copy.counts") ]]; then
    echo "backup-drill: the copy lacks tables the source has" >&2
    passed=0
fi

[[ $keep == 1 ]] && step "kept $copy_db: $copy_url (next to the source; no password shown)"
if [[ $passed == 1 ]]; then
    step "drill passed"
else
    step "drill FAILED: the restored copy did not pass its checks"
    exit 1
fi
