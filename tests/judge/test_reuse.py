"""A sandbox reused for the tests of one submission (decision 0013): nothing of one run is
left when the next one starts, each run has its own cgroup and limits, the zygote that
starts the runs cannot be touched from inside, and two submissions never share a sandbox.

The hostile suite (test_hostile.py) also runs every attack in a reused sandbox."""

from __future__ import annotations

import errno
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from codebattle.judge import languages
from codebattle.judge.engine import Judge
from codebattle.judge.loader import load_package
from codebattle.judge.sandbox import RunResult, Sandbox
from codebattle.judge.verdicts import Verdict
from tests.judge.conftest import MiB, Runner, limits_for, verdict
from tests.support.hosts import require
from tests.support.packages import make_package

pytestmark = pytest.mark.usefixtures("host_untouched")

PY = languages.get("python")

LEAVE_EVERYTHING = """
import ctypes, json, os, time
libc = ctypes.CDLL(None, use_errno=True)
for path in ("/box/left.txt", "/tmp/left.txt", "/dev/shm/left.txt"):
    with open(path, "w") as f:
        f.write("left")
os.makedirs("/tmp/deep/er/still")
os.chmod("/tmp/deep/er", 0)  # a folder its owner cannot enter: still removed
IPC_CREAT = 0o1000
ids = {
    "shm": libc.shmget(0x5EED, 4096, IPC_CREAT | 0o600),
    "sem": libc.semget(0x5EED, 1, IPC_CREAT | 0o600),
    "msg": libc.msgget(0x5EED, IPC_CREAT | 0o600),
    "private shm": libc.shmget(0, 4096, IPC_CREAT | 0o000),  # IPC_PRIVATE, mode 000
}
libc.mq_open.restype = ctypes.c_int
ids["mqueue"] = libc.mq_open(b"/left", os.O_CREAT | os.O_RDWR, 0o600, None)
ids["mqueue errno"] = ctypes.get_errno()
if os.fork() == 0:  # a child that sleeps
    time.sleep(60)
    os._exit(0)
if os.fork() == 0:  # a daemon: double fork, own session, stdout and stderr closed
    os.setsid()
    if os.fork() == 0:
        os.close(1)
        os.close(2)
        time.sleep(60)
    os._exit(0)
time.sleep(0.1)
print(json.dumps({"ids": ids, "pids": sorted(int(p) for p in os.listdir("/proc") if p.isdigit())}))
"""

LOOK_AROUND = """
import ctypes, json, os
libc = ctypes.CDLL(None, use_errno=True)
def lines(path):
    with open(path) as f:
        return f.read().splitlines()[1:]  # after the header
print(json.dumps({
    "box": os.listdir("/box"), "tmp": os.listdir("/tmp"), "shm": os.listdir("/dev/shm"),
    "shmget": libc.shmget(0x5EED, 0, 0), "semget": libc.semget(0x5EED, 0, 0),
    "msgget": libc.msgget(0x5EED, 0),
    "sysvipc": {k: lines("/proc/sysvipc/" + k) for k in ("shm", "sem", "msg")},
    "pids": sorted(int(p) for p in os.listdir("/proc") if p.isdigit()),
    "me": os.getpid(),
}))
"""


def report(run: RunResult) -> dict[str, Any]:
    assert verdict(run) == "OK", run
    return json.loads(run.stdout.decode().strip().splitlines()[-1])  # type: ignore[no-any-return]


# A session serves one program; this one runs the code it is given on stdin, so that one
# session can run several programs' worth of attacks, as the tests of one submission.
RUN_STDIN = "import sys\nexec(compile(sys.stdin.read(), 'code', 'exec'))\n"


class Runs:
    """Runs code (as stdin of RUN_STDIN) in one reused sandbox."""

    def __init__(self, sandbox: Sandbox, build: Runner) -> None:
        compiled = build.compile("python", RUN_STDIN)
        assert compiled.program is not None, compiled
        self.program = compiled.program
        self.session = sandbox.session(binds=self.program.binds(), env=PY.env)

    def __call__(self, code: str, **limits: Any) -> RunResult:
        memory = limits.pop("memory", 256 * MiB)
        lim = limits_for(PY, memory=memory, **limits)
        return self.session.run(self.program.argv(memory), lim, stdin=code.encode())


@pytest.fixture
def runs(sandbox: Sandbox, build: Runner) -> Iterator[Runs]:
    require(sandbox.reusable, "no static launcher: sandboxes are not reused")
    reused = Runs(sandbox, build)
    with reused.session:
        yield reused


def test_nothing_of_a_run_is_left_when_the_next_starts(runs: Runs) -> None:
    first = report(runs(LEAVE_EVERYTHING, wall=5))
    # POSIX message queues cannot be created (RLIMIT_MSGQUEUE 0): nothing would remove them.
    assert first["ids"].pop("mqueue") == -1, first
    assert first["ids"].pop("mqueue errno") == errno.EMFILE, first
    assert all(value >= 0 for value in first["ids"].values()), first
    assert len(first["pids"]) >= 4, first  # the zygote, this run and its two forks
    second = report(runs(LOOK_AROUND))
    assert runs.session.starts == 1  # the same sandbox, not a fresh one
    assert second["box"] == second["tmp"] == second["shm"] == [], second
    assert second["shmget"] == second["semget"] == second["msgget"] == -1, second
    assert second["sysvipc"] == {"shm": [], "sem": [], "msg": []}, second
    # Only the zygote (pid 1) and this run: the sleeping child and the daemon are gone.
    assert second["pids"] == [1, second["me"]], second


FORK_BOMB = (
    "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n"
)
MEMORY_HOG = "x = []\nwhile True:\n    x.append(' ' * 10**6)\n"
FINE = "import os\nif os.fork() == 0:\n    os._exit(0)\nos.wait()\nprint('fine')\n"


def test_each_run_has_its_own_cgroup_and_limits(runs: Runs, sandbox: Sandbox) -> None:
    small = {"cpu": 1, "wall": 2, "memory": 64 * MiB}
    bomb, fine_1, hog, fine_2 = (
        runs(code, **small) for code in (FORK_BOMB, FINE, MEMORY_HOG, FINE)
    )
    assert verdict(bomb) in ("TLE", "RE"), bomb
    if sandbox.cgroups is not None and sandbox.cgroups.pids_parent is not None:
        assert bomb.processes_exceeded, bomb
    assert verdict(hog) == "MLE", hog
    for run in (fine_1, fine_2):  # neither the bomb's processes nor the hog's pages count
        assert verdict(run) == "OK" and run.stdout == b"fine\n", run
        assert not run.processes_exceeded and not run.memory_exceeded
        assert run.memory < 48 * MiB, run
    assert runs.session.starts == 1


ATTACK_THE_ZYGOTE = """
import ctypes, errno, json, os, signal
libc = ctypes.CDLL(None, use_errno=True)
out = {}
def attempt(label, action):
    try:
        action()
        out[label] = "done"
    except OSError as e:
        out[label] = errno.errorcode[e.errno]
def read(path):
    with open(path, "rb") as f:
        f.read(16)
attempt("/proc/1/mem", lambda: read("/proc/1/mem"))
attempt("/proc/1/fd", lambda: os.listdir("/proc/1/fd"))
attempt("/proc/1/environ", lambda: read("/proc/1/environ"))
out["ptrace"] = libc.ptrace(16, 1, 0, 0)  # PTRACE_ATTACH
for sig in (signal.SIGKILL, signal.SIGSTOP, signal.SIGTERM):
    attempt("kill 1 " + sig.name, lambda: os.kill(1, sig))
attempt("kill -1", lambda: os.kill(-1, signal.SIGKILL))
print(json.dumps(out))
"""


def test_the_zygote_cannot_be_touched_from_inside(runs: Runs) -> None:
    seen = report(runs(ATTACK_THE_ZYGOTE))
    following = runs("print('still served')\n")
    assert runs.session.starts == 1  # the zygote survived and served the next run
    assert following.stdout == b"still served\n", following
    assert seen.pop("ptrace") == -1
    assert seen.pop("/proc/1/mem") == seen.pop("/proc/1/fd") == "EACCES", seen
    assert seen.pop("/proc/1/environ") == "EACCES", seen
    # Signals to the sandbox's init from inside are dropped (kill(2) says "done").
    assert set(seen.values()) <= {"done", "ESRCH"}, seen


DEEP = "import os\nos.chdir('/tmp')\nfor _ in range(100):\n    os.mkdir('d')\n    os.chdir('d')\n"


def test_a_box_that_cannot_be_emptied_is_replaced(runs: Runs) -> None:
    assert verdict(runs(DEEP)) == "OK"
    # Deeper than the zygote empties: the next run gets a fresh sandbox instead.
    second = runs("import os\nprint(os.listdir('/tmp'))\n")
    assert runs.session.starts == 2
    assert second.stdout == b"[]\n", second


SANDBOX_IDENTITY = (
    "import os, sys\n"
    "sys.stderr.write(os.readlink('/proc/self/ns/pid') + ' ' + os.readlink('/proc/self/ns/mnt'))\n"
    "sys.exit(1)\n"
)
CARRY_OVER = (
    "import os\n"
    "if os.path.exists('/tmp/seen') or os.listdir('/box'):\n"
    "    raise SystemExit('a file of an earlier test is still here')\n"
    "open('/tmp/seen', 'w').close()\nopen('/box/seen', 'w').close()\n"
    "a, b = map(int, input().split())\nprint(a + b)\n"
)


def test_the_tests_of_a_submission_share_a_sandbox_and_submissions_do_not(
    judge: Judge, tmp_path: Path
) -> None:
    require(judge.sandbox.reusable, "no static launcher: sandboxes are not reused")
    package = load_package(make_package(tmp_path))
    identities = []
    for _ in range(2):
        result = judge.judge(package, "python", SANDBOX_IDENTITY, run_all=True)
        assert [t.verdict for t in result.tests] == [Verdict.RE] * 3, result
        identities.append({t.feedback.splitlines()[-1] for t in result.tests})
    assert all(len(seen) == 1 for seen in identities), identities  # one sandbox per submission
    assert not identities[0] & identities[1], identities  # never the same one twice
    # And a test finds nothing of the earlier tests of its own submission.
    carried = judge.judge(package, "python", CARRY_OVER, run_all=True)
    assert carried.verdict == Verdict.AC, carried


def test_without_the_launcher_each_test_gets_a_fresh_sandbox(
    judge_root: Path, tmp_path: Path
) -> None:
    """No C compiler, no zygote: the engine prepares each test's sandbox ahead, as before."""
    sandbox = Sandbox(work_root=judge_root / "no-launcher")
    sandbox.launcher = None
    assert not sandbox.reusable
    judge = Judge(sandbox)
    package = load_package(make_package(tmp_path))
    result = judge.judge(package, "python", SANDBOX_IDENTITY, run_all=True)
    identities = {t.feedback.splitlines()[-1] for t in result.tests}
    assert len(identities) == 3, identities  # a sandbox per test
    carried = judge.judge(package, "python", CARRY_OVER, run_all=True)
    assert carried.verdict == Verdict.AC, carried
