#!/usr/bin/env bash
# Rolls the API back to an earlier image: deploy/rollback-api.sh registry.fly.io/codebattle-api:<sha>
# The same deploy as CI's, without the release command: migrations are forward-only, and
# an older image's `codebattle migrate` would stop at a database newer than it knows
# ("Can't locate revision"). The schema stays as it is; the older code runs on it, which
# the rule for migrations guarantees for the previous release (docs/operations.md,
# "Rolling back").
set -euo pipefail
cd "$(dirname "$0")/.."

if [ $# -ne 1 ] || [ -z "$1" ]; then
    echo "usage: deploy/rollback-api.sh IMAGE  (flyctl releases --app codebattle-api --image lists them)" >&2
    exit 2
fi
flyctl="${FLYCTL:-flyctl}"
config="$(mktemp --suffix .toml)"
trap 'rm -f "$config"' EXIT
grep -v '^[[:space:]]*release_command[[:space:]]*=' deploy/fly.api.toml > "$config"
"$flyctl" deploy --config "$config" --image "$1" --strategy rolling
