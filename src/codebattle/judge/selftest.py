"""`judge selftest`: can this host judge safely? Says plainly what is missing and how to fix it."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from codebattle.judge import cgroups, languages

if TYPE_CHECKING:
    from codebattle.judge.languages.base import Language
    from codebattle.judge.sandbox import Sandbox

MiB = 1 << 20


@dataclass
class Check:
    name: str
    status: str  # "ok", "warn", "fail"
    detail: str
    fix: str = ""


def _bwrap_version(path: str) -> tuple[int, ...]:
    out = subprocess.run(
        [path, "--version"], capture_output=True, text=True, timeout=10, env={}
    ).stdout
    try:
        return tuple(int(x) for x in out.split()[-1].split("."))
    except (ValueError, IndexError):
        return (0,)


def chosen_languages(text: str) -> tuple[str, ...]:
    """`--languages python,pypy` read: known names, in the registry's order. A pool's image
    has its own languages' toolchains only, so its selftest names them."""
    names = {name for part in text.split(",") if (name := part.strip())}
    if not names:
        raise ValueError("no language given (e.g. cpp or python,pypy)")
    unknown = sorted(names - set(languages.LANGUAGES))
    if unknown:
        known = ", ".join(languages.LANGUAGES)
        raise ValueError(f"unknown language {', '.join(map(repr, unknown))} (known: {known})")
    return tuple(name for name in languages.LANGUAGES if name in names)


def run_checks(only: Sequence[str] | None = None) -> list[Check]:
    """Every check; the toolchains and prebuilt artifacts of the languages `only` names
    (default: every language's)."""
    checks: list[Check] = []
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return [Check("bubblewrap", "fail", "bwrap is not installed", "apt-get install bubblewrap")]
    version = _bwrap_version(bwrap)
    if version < (0, 8):
        checks.append(
            Check(
                "bubblewrap",
                "fail",
                f"bwrap {version} lacks --disable-userns",
                "install bubblewrap 0.8 or newer",
            )
        )
    else:
        checks.append(Check("bubblewrap", "ok", f"{bwrap} {'.'.join(map(str, version))}"))

    if os.geteuid() == 0:
        checks.append(Check("user", "ok", "root: sandboxed programs run as nobody (65534)"))
    else:
        checks.append(
            Check(
                "user",
                "warn",
                f"not root (uid {os.geteuid()}): sandboxed "
                "programs run as this user and cgroups are likely unavailable",
                "run the judge worker as root; it drops to nobody for every run",
            )
        )

    factory = cgroups.detect()
    if factory is None:
        checks.append(
            Check(
                "cgroups",
                "warn",
                "no writable cgroup tree: memory and process "
                "limits fall back to rlimits (address space, per-user processes)",
                "run as root with /sys/fs/cgroup writable (v1 memory+pids, or v2)",
            )
        )
    else:
        parts = [
            f"memory {factory.memory_parent}",
            f"pids {factory.pids_parent or 'missing (rlimit fallback)'}",
            f"cpu {factory.cpu_parent or 'missing (rusage fallback)'}",
        ]
        checks.append(Check("cgroups", "ok", f"{factory.description}: " + "; ".join(parts)))

    checks.extend(_sandbox_checks())

    chosen = [languages.LANGUAGES[name] for name in (only or languages.LANGUAGES)]
    for lang in chosen:
        if lang.available():
            checks.append(Check(f"language {lang.name}", "ok", lang.version))
        else:
            checks.append(
                Check(
                    f"language {lang.name}",
                    "fail",
                    f"{lang.version_argv[0]} not found",
                    "make system-deps (installs g++, openjdk-17-jdk-headless)",
                )
            )
    checks.extend(_prebuilt_checks(chosen))
    return checks


def _prebuilt_checks(chosen: Sequence[Language]) -> list[Check]:
    """Whether these languages' prebuilt artifacts are valid (those whose toolchain is
    here): without them judging is right, only slower."""
    from codebattle.judge.prebuilt import PREBUILTS

    checks = []
    for artifact in (a for lang in chosen if lang.available() for a in lang.prebuilt):
        if PREBUILTS.check(artifact) is not None:
            checks.append(Check(f"prebuilt {artifact.name}", "ok", str(PREBUILTS.root)))
        else:
            checks.append(
                Check(
                    f"prebuilt {artifact.name}",
                    "warn",
                    "missing or stale: this language compiles or starts slower",
                    "codebattle judge prepare",
                )
            )
    return checks


_PROBE = r"""
import ctypes, os, socket
libc = ctypes.CDLL(None, use_errno=True)
out = []
out.append("uid=%d" % os.getuid())
out.append("ptrace=%d" % libc.ptrace(0, 0, 0, 0))
out.append("userns=%s" % ("denied" if libc.unshare(0x10000000) != 0 else "allowed"))
out.append("ifaces=" + ",".join(sorted(n for _, n in socket.if_nameindex())))
out.append("environ=" + str(len(os.environ)))
print(" ".join(out))
"""


def _sandbox_checks() -> list[Check]:
    from codebattle.judge.sandbox import Limits, Sandbox, SandboxError

    try:
        sandbox = Sandbox()
        with sandbox.box() as box:
            run = sandbox.run(
                ["/usr/bin/python3", "-I", "-S", "-c", _PROBE],
                box,
                Limits(cpu_time=5, wall_time=10, memory=256 * MiB),
            )
    except (SandboxError, OSError) as exc:
        return [
            Check(
                "sandbox",
                "fail",
                f"cannot start a sandbox: {exc}",
                "allow unprivileged user namespaces (sysctl user.max_user_namespaces)",
            )
        ]
    if run.exit_code != 0:
        return [
            Check(
                "sandbox",
                "fail",
                "the probe failed: " + run.stderr.decode(errors="replace")[-300:],
                "check that bwrap can create user namespaces here",
            )
        ]
    facts = dict(item.split("=", 1) for item in run.stdout.decode().split())
    checks = [Check("sandbox", "ok", f"runs as uid {facts.get('uid')} in fresh namespaces")]
    if sandbox.launcher is None:
        checks.append(
            Check(
                "launcher",
                "warn",
                "the static launcher could not be built: "
                "setpriv + prlimit are used (about 1.4 ms more CPU a run)",
                "install gcc and libc6-dev (static libc)",
            )
        )
    else:
        checks.append(Check("launcher", "ok", str(sandbox.launcher)))
        checks.append(_reuse_check(sandbox))
    seccomp_ok = facts.get("ptrace") == "-1" and facts.get("userns") == "denied"
    checks.append(
        Check(
            "seccomp",
            "ok" if seccomp_ok else "fail",
            f"ptrace refused, nested user namespaces {facts.get('userns')}",
            "" if seccomp_ok else "libseccomp2 is required",
        )
    )
    net_ok = facts.get("ifaces") in ("lo", "")
    checks.append(
        Check(
            "network",
            "ok" if net_ok else "fail",
            f"interfaces inside: {facts.get('ifaces') or 'none'}",
        )
    )
    return checks


def _reuse_check(sandbox: Sandbox) -> Check:
    """A reused sandbox (the tests of a submission) runs twice, cleaned up in between."""
    from codebattle.judge.sandbox import Limits, SandboxError

    limits = Limits(cpu_time=5, wall_time=10, memory=256 * MiB)
    leave = ["/bin/sh", "-c", "echo left > /tmp/left && echo left > /box/left"]
    look = ["/bin/sh", "-c", "ls -A /tmp /box"]
    try:
        with sandbox.session() as session:
            first = session.run(leave, limits)
            second = session.run(look, limits)
    except SandboxError as exc:
        return Check("reuse", "fail", f"a reused sandbox failed: {exc}", "see docs/sandbox.md")
    if first.exit_code != 0 or second.exit_code != 0 or b"left" in second.stdout:
        detail = (first.stderr + second.stderr + second.stdout).decode(errors="replace")[-300:]
        return Check("reuse", "fail", f"a reused sandbox was not cleaned up: {detail}")
    return Check("reuse", "ok", "the tests of a submission share a sandbox, cleaned between tests")


def format_checks(checks: list[Check]) -> str:
    marks = {"ok": "ok  ", "warn": "WARN", "fail": "FAIL"}
    lines = []
    for c in checks:
        lines.append(f"[{marks[c.status]}] {c.name}: {c.detail}")
        if c.fix and c.status != "ok":
            lines.append(f"       fix: {c.fix}")
    return "\n".join(lines)
