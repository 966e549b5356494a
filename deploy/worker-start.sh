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
# 3. with METRICS_PORT: each worker serves its metrics on loopback, on the next two ports
#    (METRICS_PORT+1 urgent, +2 the other), and ops/metrics_fanin.py serves both on
#    METRICS_PORT at every address of the container, IPv6 and IPv4 (`::`: Fly's private
#    network is IPv6), each series labelled lane="urgent" or lane="all": Fly's Prometheus
#    scrapes one port per machine. Keep the port out of any public service. The fan-in ending does not stop the judging.
set -uo pipefail

urgent_port="" plain_port=""
if [ -n "${METRICS_PORT:-}" ]; then
    if ! [[ "$METRICS_PORT" =~ ^[0-9]{1,5}$ ]] || [ "$METRICS_PORT" -gt 65533 ]; then
        echo "METRICS_PORT: a port number up to 65533 (the next two are the workers'), not '$METRICS_PORT'" >&2
        exit 2
    fi
    urgent_port=$((METRICS_PORT + 1))
    plain_port=$((METRICS_PORT + 2))
fi

if ! codebattle judge prepare; then
    echo "codebattle judge prepare failed: judging without the missing artifacts for now" >&2
fi

pids=()
others=()
stop() { kill -TERM "${pids[@]}" "${others[@]}" 2>/dev/null; }
trap stop TERM INT
METRICS_PORT="$urgent_port" codebattle worker --urgent "$@" &
pids+=($!)
METRICS_PORT="$plain_port" codebattle worker "$@" &
pids+=($!)
if [ -n "$urgent_port" ]; then
    python -m codebattle.ops.metrics_fanin --host :: "urgent=$urgent_port" "all=$plain_port" &
    others+=($!)
fi
wait -n "${pids[@]}"  # a worker (not the fan-in) ended
status=$?
stop
wait
exit "$status"
