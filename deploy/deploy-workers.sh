#!/usr/bin/env bash
# Deploys the judge worker pools to Fly.io, one app per pool (Fly runs one image per app):
#   SANDBOX_DOCKER_IMAGE_PY=registry/codebattle-worker-python:<tag> \
#   SANDBOX_DOCKER_IMAGE_CPP=... SANDBOX_DOCKER_IMAGE_JAVA=... deploy/deploy-workers.sh
# Each pool's setting names the image it runs; it is also passed to the pool's machines,
# whose heartbeat reports it on the operators' fleet page. A pool whose setting is empty
# is left as it is (deploy one pool alone, or roll one back: docs/operations.md).
# WORKER_APP_PREFIX (default codebattle-worker) names the apps: <prefix>-python, -cpp, -java.
set -euo pipefail
cd "$(dirname "$0")/.."

prefix="${WORKER_APP_PREFIX:-codebattle-worker}"
flyctl="${FLYCTL:-flyctl}"
deployed=0

deploy_pool() {  # group, setting name
    local group="$1" setting="$2"
    local image="${!setting:-}"
    if [ -z "$image" ]; then
        echo "$setting is not set: the $group pool is left as it is"
        return
    fi
    echo "deploying the $group pool ($prefix-$group) with $image"
    "$flyctl" deploy --config deploy/fly.worker.toml --app "$prefix-$group" \
        --image "$image" --process-groups "$group" \
        --env "$setting=$image" --strategy rolling
    deployed=$((deployed + 1))
}

deploy_pool python SANDBOX_DOCKER_IMAGE_PY
deploy_pool cpp SANDBOX_DOCKER_IMAGE_CPP
deploy_pool java SANDBOX_DOCKER_IMAGE_JAVA

if [ "$deployed" -eq 0 ]; then
    echo "nothing deployed: set SANDBOX_DOCKER_IMAGE_PY, _CPP and/or _JAVA" >&2
    exit 1
fi
