#!/bin/bash
# A worker container's start (Dockerfile.worker's entrypoint; its arguments are the pool's,
# e.g. --languages cpp):
# 1. build the prebuilt artifacts of this image's toolchains (C++'s precompiled header,
#    Java's class-data archives: judge/prebuilt.py). At start rather than in the image
#    build: an artifact is installed only after a probe in the sandbox, which `docker build`
#    cannot create. It takes 5-20 s; a worker without an artifact judges correctly, only
#    slower, and rebuilds it in the background, so a failure here does not stop the start.
# 2. run two workers: one `--urgent` (duels and runs only, so a race never waits behind a
#    practice submission) and one taking every level (docs/operations.md, "Worker pools").
#    Size machines for two jobs at once. When either ends, the other is stopped and the
#    container exits with its status, for the platform to restart it.
set -uo pipefail

if ! codebattle judge prepare; then
    echo "codebattle judge prepare failed: judging without the missing artifacts for now" >&2
fi

pids=()
stop() { kill -TERM "${pids[@]}" 2>/dev/null; }
trap stop TERM INT
codebattle worker --urgent "$@" &
pids+=($!)
codebattle worker "$@" &
pids+=($!)
wait -n
status=$?
stop
wait
exit "$status"
