"""deploy/seccomp-worker.json, the worker containers' seccomp profile: Docker's default
profile and one rule for what bubblewrap needs (docs/sandbox.md, "Running a worker in a
container").

Docker turns a profile into a filter for the container's architecture and capabilities
(moby/profiles seccomp_linux.go, `setupSeccomp`); `docker_filter` does the same for
Docker's default capabilities on this machine, and the filter is loaded with libseccomp
(pyseccomp) in a child that then starts bubblewrap, as nobody, with the judge's own command
line. Under the worker profile the sandbox starts; under Docker's default (the profile
without its last rule) it does not, which is why the rule exists."""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from codebattle.judge.sandbox.command import bwrap_command, system_binds
from tests.support.hosts import ROOT, require

PROFILE = ROOT / "deploy" / "seccomp-worker.json"
# What the rule adds, found with strace on bubblewrap 0.8.0 building the judge's sandbox.
BUBBLEWRAP_CALLS = {"clone", "mount", "pivot_root", "sethostname", "umount2", "unshare"}
# Docker's default capability set (a worker gets no other).
DOCKER_CAPS = {
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
    "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
}  # fmt: skip
GO_ARCH = {"x86_64": "amd64", "aarch64": "arm64"}
NOBODY = "65534"

# Run in the child: load the resolved rules, then execute the rest of its arguments.
LOADER = """
import json, os, sys
import pyseccomp as seccomp
profile = json.load(open(sys.argv[1]))
ops = {"SCMP_CMP_EQ": seccomp.EQ, "SCMP_CMP_NE": seccomp.NE, "SCMP_CMP_LT": seccomp.LT,
       "SCMP_CMP_LE": seccomp.LE, "SCMP_CMP_GT": seccomp.GT, "SCMP_CMP_GE": seccomp.GE,
       "SCMP_CMP_MASKED_EQ": seccomp.MASKED_EQ}
flt = seccomp.SyscallFilter(seccomp.ERRNO(profile["defaultErrnoRet"]))
for rule in profile["syscalls"]:
    if rule["action"] == "SCMP_ACT_ALLOW":
        action = seccomp.ALLOW
    else:
        assert rule["action"] == "SCMP_ACT_ERRNO", rule
        action = seccomp.ERRNO(rule.get("errnoRet", profile["defaultErrnoRet"]))
    args = [seccomp.Arg(a["index"], ops[a["op"]], a["value"], a.get("valueTwo", 0))
            for a in rule.get("args") or []]
    for name in rule["names"]:
        try:
            flt.add_rule(action, name, *args)
        except (RuntimeError, ValueError, OSError):
            pass  # not a call of this architecture: runc skips it too
flt.load()
os.execv(sys.argv[2], sys.argv[2:])
"""


def kernel_at_least(version: str) -> bool:
    wanted = tuple(int(part) for part in version.split("."))
    release = platform.release().split("-")[0].split(".")
    return tuple(int(part) for part in release[: len(wanted)]) >= wanted


def docker_filter(profile: dict[str, Any], caps: set[str] = DOCKER_CAPS) -> dict[str, Any]:
    """The rules Docker hands to runc for a container with `caps` on this machine."""
    arch = GO_ARCH[platform.machine()]

    def matches(condition: dict[str, Any], every: bool) -> bool:
        checks = []
        if condition.get("arches"):
            checks.append(arch in condition["arches"])
        if condition.get("caps"):
            held = [cap in caps for cap in condition["caps"]]
            checks.append(all(held) if every else any(held))
        if condition.get("minKernel"):
            checks.append(kernel_at_least(condition["minKernel"]))
        return all(checks) if every else any(checks)

    kept = [
        rule
        for rule in profile["syscalls"]
        if not matches(rule.get("excludes") or {}, every=False)
        and matches(rule.get("includes") or {}, every=True)
    ]
    return {"defaultErrnoRet": profile["defaultErrnoRet"], "syscalls": kept}


def allowed(resolved: dict[str, Any]) -> set[str]:
    """Calls some rule allows with no condition on their arguments."""
    return {
        name
        for rule in resolved["syscalls"]
        if rule["action"] == "SCMP_ACT_ALLOW" and not rule.get("args")
        for name in rule["names"]
    }


@pytest.fixture(scope="module")
def profile() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(PROFILE.read_text())
    return loaded


@pytest.fixture
def box() -> Iterator[Path]:
    """A box nobody can reach (pytest's own folders are root's alone)."""
    path = Path(tempfile.mkdtemp(prefix="seccomp-box-", dir="/tmp"))
    path.chmod(0o777)
    yield path
    shutil.rmtree(path)


def sandbox_under(resolved: dict[str, Any], box: Path) -> subprocess.CompletedProcess[str]:
    """The judge's bubblewrap command line, started as nobody under the filter `resolved`."""
    bwrap, setpriv = shutil.which("bwrap"), shutil.which("setpriv")
    require(bwrap is not None and setpriv is not None, "bubblewrap and setpriv (make system-deps)")
    assert bwrap is not None and setpriv is not None
    rules = box.parent / f"{box.name}.rules.json"
    rules.write_text(json.dumps(resolved))
    try:
        command = bwrap_command(bwrap, system_binds(), ["/bin/sh", "-c", "echo sandboxed"],
                                box, 1 << 20)  # fmt: skip
        drop = [setpriv, "--reuid", NOBODY, "--regid", NOBODY, "--clear-groups"]
        return subprocess.run(
            [sys.executable, "-c", LOADER, str(rules), *drop, *command],
            capture_output=True, text=True, timeout=60, env={"PATH": os.environ["PATH"]},
        )  # fmt: skip
    finally:
        rules.unlink()


def test_the_profile_is_dockers_default_and_one_rule_for_bubblewrap(
    profile: dict[str, Any],
) -> None:
    assert profile["defaultAction"] == "SCMP_ACT_ERRNO"
    added = profile["syscalls"][-1]
    assert set(added["names"]) == BUBBLEWRAP_CALLS and added["action"] == "SCMP_ACT_ALLOW"
    assert "args" not in added and "includes" not in added and "excludes" not in added
    assert "moby/profiles" in added["comment"] and "Apache License 2.0" in added["comment"]
    assert (ROOT / "deploy" / "seccomp-worker.LICENSE").read_text().count("Apache License") >= 1
    default = allowed(docker_filter({**profile, "syscalls": profile["syscalls"][:-1]}))
    worker = allowed(docker_filter(profile))
    assert worker - default == BUBBLEWRAP_CALLS - default
    assert {"pivot_root", "unshare", "mount"} <= BUBBLEWRAP_CALLS - default
    # What the worker needs no more than Docker's default grants: still refused.
    for name in ("setns", "bpf", "keyctl", "add_key", "open_by_handle_at", "init_module",
                 "kexec_load", "fsopen", "move_mount", "open_tree"):  # fmt: skip
        assert name not in worker, name


def test_bubblewrap_builds_the_judges_sandbox_under_the_worker_profile(
    profile: dict[str, Any], box: Path
) -> None:
    ran = sandbox_under(docker_filter(profile), box)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout == "sandboxed\n"


def test_dockers_default_profile_alone_stops_bubblewrap(profile: dict[str, Any], box: Path) -> None:
    default = docker_filter({**profile, "syscalls": profile["syscalls"][:-1]})
    ran = sandbox_under(default, box)
    assert ran.returncode != 0 and "sandboxed" not in ran.stdout
    # clone with namespace flags refused (EPERM), which bubblewrap reports so.
    assert "No permissions to create new namespace" in ran.stderr, ran.stderr


@pytest.mark.parametrize("call", sorted(BUBBLEWRAP_CALLS))
def test_each_added_call_is_needed(profile: dict[str, Any], box: Path, call: str) -> None:
    """Without any one of the rule's calls the sandbox does not start: none is spare."""
    rule = {**profile["syscalls"][-1], "names": sorted(BUBBLEWRAP_CALLS - {call})}
    ran = sandbox_under(docker_filter({**profile, "syscalls": [*profile["syscalls"][:-1], rule]}),
                        box)  # fmt: skip
    assert ran.returncode != 0 and "sandboxed" not in ran.stdout, (call, ran.stderr)
