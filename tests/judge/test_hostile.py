"""Hostile programs against the real sandbox.

Each test runs one attack and checks two things: the outcome (the RunResult flags, hence the
verdict the engine would give: TLE, MLE, OLE, RE, CE) and that the host is untouched afterwards
(the `host_untouched` fixture of conftest.py: no surviving process of the sandbox's user, no
cgroup of ours, no box or file of that user left, no marker path created on the host).

Programs report what they could see or do as one JSON line on stdout. Limits are small so
that the whole file runs in well under a minute. Nothing here ever connects to a
non-loopback address, and vsock/packet sockets are only created, never used.
"""

from __future__ import annotations

import json
import os
import platform
import signal
import socket
import stat
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pyseccomp
import pytest

from codebattle.judge import languages
from codebattle.judge.compiler import COMPILE_OUTPUT_BYTES, COMPILE_OUTPUT_LINES
from codebattle.judge.sandbox import (
    NOBODY,
    RunResult,
    Sandbox,
    copy_box_tree,
    read_box_file,
)
from tests.judge.conftest import HostCheck, MiB, Runner, limits_for, verdict
from tests.support.hosts import require

pytestmark = pytest.mark.usefixtures("host_untouched")

PY = languages.get("python")
CPP = languages.get("cpp")
JAVA = languages.get("java")
X86_64 = platform.machine() == "x86_64"


def report(run: RunResult) -> dict[str, Any]:
    """The JSON line a program printed last."""
    lines = run.stdout.decode(errors="replace").strip().splitlines()
    assert lines, f"no report; stderr: {run.stderr[-2000:]!r}"
    return json.loads(lines[-1])  # type: ignore[no-any-return]


def has_pids_cgroup(sandbox: Sandbox) -> bool:
    return sandbox.cgroups is not None and sandbox.cgroups.pids_parent is not None


def syscall_numbers(*names: str) -> dict[str, int]:
    return {n: pyseccomp.resolve_syscall(pyseccomp.Arch.NATIVE, n) for n in names}


# -- the host can enforce everything -----------------------------------------------------


def test_host_has_every_enforcement_mechanism(sandbox: Sandbox) -> None:
    """Without these the suite still runs, on rlimit fallbacks; CI requires them."""
    require(os.geteuid() == 0, "not root: programs run as the judge's user, not nobody")
    factory = sandbox.cgroups
    require(factory is not None, "no writable cgroup tree (memory limits fall back to RLIMIT_AS)")
    assert factory is not None
    require(factory.pids_parent is not None, "no pids cgroup (processes fall back to RLIMIT_NPROC)")
    require(factory.cpu_parent is not None, "no cpu accounting cgroup (CPU time from rusage)")


def test_runs_as_the_hosts_nobody(run: Runner, sandbox: Sandbox) -> None:
    require(os.geteuid() == 0, "not root: the sandbox cannot drop to nobody")
    code = (
        "import json, os\n"
        "open('/box/made.txt', 'w').write('x')\n"
        "os.mkdir('/box/made_dir')\n"
        "print(json.dumps({'ids': [os.getuid(), os.geteuid(), os.getgid(), os.getegid()]}))\n"
    )
    with sandbox.box() as box:
        _, result = run("python", code, box=box)
        made = [os.lstat(box.path / name) for name in ("made.txt", "made_dir")]
    assert verdict(result) == "OK", result.stderr
    assert report(result)["ids"] == [NOBODY] * 4
    assert [(s.st_uid, s.st_gid) for s in made] == [(NOBODY, NOBODY)] * 2


def test_no_judge_descriptor_leaks_in(run: Runner) -> None:
    code = (
        "import json, os\nprint(json.dumps(sorted(int(f) for f in os.listdir('/proc/self/fd'))))\n"
    )
    _, result = run("python", code)
    assert verdict(result) == "OK", result.stderr
    assert report(result) == [0, 1, 2, 3]  # 3: the listing itself


# -- processes and threads ---------------------------------------------------------------

PY_FORK_BOMB = """
import os
while True:
    try:
        os.fork()
    except OSError:
        pass
"""

CPP_FORK_BOMB = """
#include <unistd.h>
int main() {
    for (;;) fork();
}
"""

PY_THREAD_BOMB = """
import threading, time
while True:
    threading.Thread(target=time.sleep, args=(60,)).start()
"""

JAVA_THREAD_BOMB = """
public class Bomb {
    public static void main(String[] args) {
        while (true) {
            new Thread(() -> {
                try { Thread.sleep(60_000); } catch (InterruptedException e) { }
            }).start();
        }
    }
}
"""


@pytest.mark.parametrize(
    ("lang", "code"),
    [
        ("python", PY_FORK_BOMB),
        ("cpp", CPP_FORK_BOMB),
        ("python", PY_THREAD_BOMB),
        ("java", JAVA_THREAD_BOMB),
    ],
    ids=["python-fork", "cpp-fork", "python-threads", "java-threads"],
)
def test_fork_and_thread_bombs_are_contained(
    run: Runner, sandbox: Sandbox, lang: str, code: str
) -> None:
    language = languages.get(lang)
    wall = 2.0 if lang == "java" else 1.5  # the JVM needs a moment to start
    _, result = run(lang, code, limits=limits_for(language, cpu=1, wall=wall))
    assert verdict(result) in ("TLE", "RE"), result
    if has_pids_cgroup(sandbox):
        assert result.processes_exceeded, result


def test_double_forked_daemon_is_killed_with_the_run(run: Runner) -> None:
    code = """
import os, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        time.sleep(60)  # a daemon that keeps stdout and stderr open
        os._exit(0)
    os._exit(0)
os.wait()
print("parent done", flush=True)
"""
    _, result = run("python", code, limits=limits_for(PY, cpu=1, wall=5))
    # The run ends when its main process does; the daemon does not hold it (nor its pipes).
    assert verdict(result) == "OK", result
    assert result.stdout == b"parent done\n"
    assert not result.wall_exceeded
    # host_untouched: the daemon did not survive.


def test_kill_everything_hits_only_its_own_sandbox(
    run: Runner, sandbox: Sandbox, host_untouched: HostCheck
) -> None:
    hostile = """
import json, os, signal, time
children = []
for _ in range(3):
    pid = os.fork()
    if pid == 0:
        time.sleep(30)
        os._exit(0)
    children.append(pid)
os.kill(-1, signal.SIGKILL)  # everything this user may signal, except itself and init
try:
    os.kill(1, signal.SIGKILL)  # the namespace's init ignores signals it does not handle
except OSError:
    pass
status = [os.waitpid(pid, 0)[1] for pid in children]
print(json.dumps({"children": [os.WTERMSIG(s) if os.WIFSIGNALED(s) else None for s in status]}))
"""
    bystander = "import time\ntime.sleep(1.5)\nprint('alive')\n"
    for code in (hostile, bystander):
        assert run.compile("python", code).ok
    # A host process of the very same user, outside any sandbox.
    host_nobody = None
    if os.geteuid() == 0:
        host_nobody = subprocess.Popen(
            ["/usr/bin/sleep", "30"], user=NOBODY, group=NOBODY, extra_groups=[]
        )
    other: list[RunResult] = []
    thread = threading.Thread(
        target=lambda: other.append(run("python", bystander, limits=limits_for(PY, wall=5))[1])
    )
    try:
        thread.start()
        time.sleep(0.3)  # ordering only: the bystander is running when the attack starts
        _, result = run("python", hostile, limits=limits_for(PY, wall=5))
        thread.join()
        assert verdict(result) == "OK", result
        assert report(result)["children"] == [signal.SIGKILL] * 3
        assert other and verdict(other[0]) == "OK", other
        assert other[0].stdout == b"alive\n"
        if host_nobody is not None:
            assert host_nobody.poll() is None, "a host process of nobody was killed"
    finally:
        thread.join()
        if host_nobody is not None:
            host_nobody.kill()
            host_nobody.wait()


# -- memory ------------------------------------------------------------------------------

CPP_VECTOR_BOMB = """
#include <cstdio>
#include <vector>
int main() {
    std::vector<long> v;
    for (long i = 0;; ++i) {
        v.push_back(i);
        if ((i & ((1L << 22) - 1)) == 0) std::fprintf(stderr, "%ld MiB\\n", (i * 8) >> 20);
    }
}
"""

PY_LIST_BOMB = """
blocks = []
while True:
    blocks.append([0] * (1 << 20))
"""


@pytest.mark.parametrize(
    ("lang", "code"), [("cpp", CPP_VECTOR_BOMB), ("python", PY_LIST_BOMB)], ids=["cpp", "python"]
)
def test_memory_bomb_is_mle(run: Runner, lang: str, code: str) -> None:
    limits = limits_for(languages.get(lang), memory=128 * MiB)
    _, result = run(lang, code, limits=limits)
    assert verdict(result) == "MLE", result
    assert not result.wall_exceeded


# -- time --------------------------------------------------------------------------------


def test_cpu_loop_is_tle(run: Runner) -> None:
    _, result = run("python", "while True:\n    pass\n", limits=limits_for(PY, cpu=1, wall=5))
    assert result.cpu_exceeded, result
    assert verdict(result) == "TLE"


def test_cpu_time_of_every_process_counts(run: Runner) -> None:
    """The CPU rlimit is per process: four spinning processes are stopped by the tree's total."""
    code = "import os\nfor _ in range(3):\n    os.fork()\nwhile True:\n    pass\n"
    limits = limits_for(PY, cpu=1, wall=10, processes=16)
    _, result = run("python", code, limits=limits)
    assert result.cpu_exceeded, result
    assert not result.wall_exceeded
    assert verdict(result) == "TLE"


def test_sleeping_forever_is_tle_by_wall_time(run: Runner) -> None:
    code = "import time\ntime.sleep(3600)\n"
    _, result = run("python", code, limits=limits_for(PY, cpu=1, wall=1))
    assert result.wall_exceeded and not result.cpu_exceeded, result
    assert verdict(result) == "TLE"


def test_blocked_stdin_read_is_tle_by_wall_time(run: Runner) -> None:
    read_end, write_end = os.pipe()  # the write end stays open: stdin never ends
    try:
        code = "import sys\nsys.stdin.buffer.read()\n"
        _, result = run("python", code, stdin=read_end, limits=limits_for(PY, cpu=1, wall=1))
    finally:
        os.close(read_end)
        os.close(write_end)
    assert result.wall_exceeded and not result.cpu_exceeded, result
    assert verdict(result) == "TLE"


# -- output ------------------------------------------------------------------------------


def test_endless_output_is_ole(run: Runner) -> None:
    code = "import sys\nwhile True:\n    sys.stdout.write('x' * 65536)\n"
    limits = limits_for(PY, cpu=2, wall=4, output=1 * MiB)
    _, result = run("python", code, limits=limits)
    assert result.output_exceeded, result
    assert len(result.stdout) == limits.output
    assert verdict(result) == "OLE"


def test_endless_stderr_is_capped_and_does_not_hang(run: Runner) -> None:
    code = "import os\nwhile True:\n    os.write(2, b'e' * 65536)\n"
    limits = limits_for(PY, cpu=1, wall=1.5)
    _, result = run("python", code, limits=limits)
    assert verdict(result) == "TLE", result  # stderr is not output: it is dropped, not OLE
    assert 0 < len(result.stderr) <= limits.stderr
    assert result.stdout == b""


# -- files -------------------------------------------------------------------------------


def box_usage(path: Path) -> int:
    total = 0
    for top, _dirs, files in os.walk(path):
        for name in files:
            total += os.lstat(os.path.join(top, name)).st_size
    return total


def test_filling_tmp_stops_at_its_size_cap(run: Runner, host_untouched: HostCheck) -> None:
    marker = host_untouched.marker("tmpfill")
    code = f"""
chunk = b"x" * (1 << 20)
for i in range(10 ** 6):  # many files: the tmpfs size cap binds, not RLIMIT_FSIZE
    with open("/tmp/{marker.name}-%d" % i, "wb") as f:
        f.write(chunk)
"""
    limits = limits_for(PY, tmp_size=8 * MiB, file_size=64 * MiB)
    _, result = run("python", code, limits=limits)
    assert verdict(result) == "RE", result
    assert b"No space left on device" in result.stderr
    assert not list(Path("/tmp").glob(f"{marker.name}*"))  # the sandbox's /tmp is its own


@pytest.mark.parametrize("lang", ["python", "cpp"])
def test_one_huge_file_stops_at_the_file_size_limit(
    run: Runner, sandbox: Sandbox, lang: str
) -> None:
    code = {
        "python": "chunk = b'x' * 65536\nwith open('/box/big', 'wb') as f:\n"
        "    while True:\n        f.write(chunk)\n",
        "cpp": '#include <cstdio>\nint main() { FILE* f = std::fopen("/box/big", "wb");\n'
        "  static char chunk[65536];\n  for (;;) std::fwrite(chunk, 1, sizeof chunk, f); }\n",
    }[lang]
    limits = limits_for(languages.get(lang), file_size=4 * MiB)
    with sandbox.box() as box:
        _, result = run(lang, code, limits=limits, box=box)
        size = os.lstat(box.path / "big").st_size
    assert verdict(result) == "RE", result
    assert size <= limits.file_size
    if lang == "python":  # Python ignores SIGXFSZ and gets EFBIG
        assert b"File too large" in result.stderr
    else:
        assert result.signal == signal.SIGXFSZ


@pytest.mark.parametrize("folder", ["/box", "/dev/shm"])
def test_filling_a_folder_with_many_files_is_bounded(
    run: Runner, sandbox: Sandbox, folder: str
) -> None:
    """Files just under RLIMIT_FSIZE, as many as it takes: bounded by memory, not the disk."""
    code = f"""
chunk = b"x" * (1 << 20)
for i in range(10 ** 6):
    with open("{folder}/fill%d" % i, "wb") as f:
        for _ in range(3):
            f.write(chunk)
"""
    limits = limits_for(PY, cpu=2, wall=4, memory=128 * MiB, file_size=4 * MiB)
    with sandbox.box() as box:
        _, result = run("python", code, limits=limits, box=box)
        used = box_usage(box.path)
    # Stopped by space (MLE: tmpfs pages count as memory; RE: a size cap), never by time.
    assert verdict(result) in ("MLE", "RE"), result
    assert used <= limits.memory


def test_writing_outside_the_box_fails(run: Runner, host_untouched: HostCheck) -> None:
    tmp_marker = host_untouched.marker("write")
    work_marker = Path("/work/main") / tmp_marker.name
    host_untouched.markers.append(work_marker)
    targets = [
        "/usr/codebattle-x",
        "/etc/codebattle-x",
        "/codebattle-x",
        "/box/../codebattle-y",
        "/prog/codebattle-x",
        "/prog/main.py",
        "/proc/sys/kernel/hostname",
        "/sys/codebattle-x",
        "/dev/codebattle-x",
        str(work_marker),
        "/root/codebattle-x",
    ]
    code = f"""
import errno, json, os
out = {{}}
for path in {targets!r}:
    try:
        with open(path, "a") as f:
            f.write("x")
        out[path] = "written"
    except OSError as e:
        out[path] = errno.errorcode[e.errno]
for label, action in (("chmod /prog", lambda: os.chmod("/prog/main.py", 0o777)),
                      ("mkdir /work", lambda: os.makedirs("/work/main"))):
    try:
        action()
        out[label] = "done"
    except OSError as e:
        out[label] = errno.errorcode[e.errno]
with open("{tmp_marker}", "w") as f:  # the sandbox's own /tmp: allowed, and not the host's
    f.write("x")
print(json.dumps(out))
"""
    _, result = run("python", code)
    assert verdict(result) == "OK", result.stderr
    outcome = report(result)
    written = {k: v for k, v in outcome.items() if v in ("written", "done")}
    assert not written, outcome
    # host_untouched: neither marker exists on the host.


def test_symlinks_and_hardlinks_left_in_the_box_are_not_followed(
    run: Runner, sandbox: Sandbox, tmp_path: Path
) -> None:
    secret = os.urandom(16).hex()
    host_dir = tmp_path / "private"
    host_dir.mkdir()
    (host_dir / "secret.txt").write_text(secret)
    host_file = host_dir / "secret.txt"
    code = f"""
import errno, json, os
os.symlink("/etc/shadow", "/box/shadow")
os.symlink("/root/.bashrc", "/box/bashrc")
os.symlink("{host_file}", "/box/host_file")
os.symlink("{host_dir}", "/box/host_dir")
os.symlink("{host_dir}", "/box/out")  # the compiler's artifact folder, replaced by a link
os.mkdir("/box/sub")
os.symlink("{host_file}", "/box/sub/inner_link")
os.symlink("{host_dir}", "/box/sub/dir_link")
os.symlink("../host_file", "/box/sub/relative_link")
for name in ("plain.txt", "sub/plain.txt"):
    with open("/box/" + name, "w") as f:
        f.write("plain")
os.chmod("/box/plain.txt", 0o6777)  # setuid and setgid: must not survive a copy
os.mkfifo("/box/fifo")  # a reader that follows it would block forever
out = {{}}
for name, source in (("hard_prog", "/prog/main.py"), ("hard_etc", "/etc/ld.so.cache"),
                     ("hard_usr", "/usr/bin/python3")):
    try:
        os.link(source, "/box/" + name)
        out[name] = "linked"
    except OSError as e:
        out[name] = errno.errorcode[e.errno]
print(json.dumps(out))
"""
    copied_all = tmp_path / "copy-all"
    copied_out = tmp_path / "copy-out"
    with sandbox.box() as box:
        _, result = run("python", code, box=box)
        assert verdict(result) == "OK", result.stderr
        reads = {
            name: read_box_file(box, name, 1 << 20)
            for name in (
                "shadow",
                "bashrc",
                "host_file",
                "host_dir/secret.txt",
                "out/secret.txt",
                "sub/inner_link",
                "sub/dir_link/secret.txt",
                "sub/relative_link",
                "sub/../host_file",
                "../" + box.path.name + "/host_file",
                "fifo",
            )
        }
        plain = read_box_file(box, "sub/plain.txt", 1 << 20)
        n_all = copy_box_tree(box, ".", copied_all, 100, 1 << 20)
        n_out = copy_box_tree(box, "out", copied_out, 100, 1 << 20)
    assert report(result) == {"hard_prog": "EXDEV", "hard_etc": "EXDEV", "hard_usr": "EXDEV"}
    assert reads == dict.fromkeys(reads), reads
    assert plain == b"plain"
    files = sorted(str(p.relative_to(copied_all)) for p in copied_all.rglob("*"))
    assert (n_all, files) == (2, ["plain.txt", "sub", "sub/plain.txt"])
    assert not any(p.is_symlink() for p in copied_all.rglob("*"))
    assert not stat.S_IMODE(os.lstat(copied_all / "plain.txt").st_mode) & 0o6000
    assert n_out == 0 and not copied_out.exists()
    assert (host_dir / "secret.txt").read_text() == secret  # untouched


# -- network -----------------------------------------------------------------------------


def test_network_is_a_private_loopback(run: Runner) -> None:
    # The services run on the host's loopback; show they are there (loopback only).
    host_open = {}
    for port in (6379, 5432):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            host_open[port] = True
        except OSError:
            host_open[port] = False
    abstract = f"codebattle-hostile-{os.urandom(6).hex()}"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind("\0" + abstract)  # abstract sockets belong to the network namespace
    listener.listen()
    code = f"""
import errno, json, os, socket
out = {{"ifaces": sorted(name for _, name in socket.if_nameindex())}}
def attempt(family, address):
    try:
        s = socket.socket(family, socket.SOCK_STREAM)
    except OSError as e:
        return errno.errorcode[e.errno]
    s.settimeout(2)
    try:
        s.connect(address)
        return "connected"
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e))
    finally:
        s.close()
for port in (6379, 5432):
    out["127.0.0.1:%d" % port] = attempt(socket.AF_INET, ("127.0.0.1", port))
out["[::1]:6379"] = attempt(socket.AF_INET6, ("::1", 6379))
out["abstract"] = attempt(socket.AF_UNIX, "\\0{abstract}")
out["unix paths"] = [p for p in ("/run/postgresql", "/var/run/postgresql", "/run/redis",
                                 "/var/run/redis", "/tmp/.s.PGSQL.5432") if os.path.exists(p)]
print(json.dumps(out))
"""
    try:
        _, result = run("python", code)
    finally:
        listener.close()
    assert verdict(result) == "OK", result.stderr
    seen = report(result)
    assert seen["ifaces"] == ["lo"]
    # Its own loopback is up and empty: refused, not filtered or timed out.
    assert seen["127.0.0.1:6379"] == "ECONNREFUSED", (seen, host_open)
    assert seen["127.0.0.1:5432"] == "ECONNREFUSED", (seen, host_open)
    assert seen["[::1]:6379"] != "connected"
    assert seen["abstract"] == "ECONNREFUSED"
    assert seen["unix paths"] == []


def test_vsock_and_packet_sockets_are_refused(run: Runner) -> None:
    require(X86_64, "raw system call numbers below are x86_64's")
    nr = syscall_numbers("socket")["socket"]
    code = f"""
import ctypes, errno, json, os, socket
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
out = {{}}
for label, family, kind in (("vsock", socket.AF_VSOCK, socket.SOCK_STREAM),
                            ("packet", socket.AF_PACKET, socket.SOCK_RAW)):
    try:
        socket.socket(family, kind).close()  # created only: never connected
        out[label] = "created"
    except OSError as e:
        out[label] = errno.errorcode[e.errno]
    # The kernel ignores the upper 32 bits of the family (an int); the filter must as well.
    fd = libc.syscall(ctypes.c_long({nr}), ctypes.c_long(family | 1 << 32),
                      ctypes.c_long(kind), ctypes.c_long(0))
    out[label + " (upper bits set)"] = "created" if fd >= 0 else errno.errorcode[ctypes.get_errno()]
    if fd >= 0:
        os.close(fd)
print(json.dumps(out))
"""
    _, result = run("python", code)
    assert verdict(result) == "OK", result.stderr
    assert report(result) == {
        "vsock": "EAFNOSUPPORT",
        "vsock (upper bits set)": "EAFNOSUPPORT",
        "packet": "EAFNOSUPPORT",
        "packet (upper bits set)": "EAFNOSUPPORT",
    }


# -- secrets -----------------------------------------------------------------------------


def own_cgroup_paths() -> list[str]:
    paths = []
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        path = line.split(":", 2)[2]
        if path not in ("", "/"):
            paths.append(path)
    return paths


def test_secrets_of_the_host_are_invisible(
    run: Runner, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = f"s3cr3t-{os.urandom(8).hex()}"
    monkeypatch.setenv("CODEBATTLE_TEST_SECRET", secret)
    # Other boxes and the compile cache live here on the host: not inside.
    host_paths = [str(sandbox.root), str(run.compiler.cache_root)]
    code = (
        f"HOST_PATHS = {host_paths!r}\n"
        + """
import errno, json, os
def read(path):
    try:
        with open(path, "rb") as f:
            return "read: " + f.read(1 << 16).decode("latin-1")
    except OSError as e:
        return errno.errorcode[e.errno]
pids = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
out = {
    "environ": dict(os.environ),
    "pids": pids,
    "proc": {p: [read(f"/proc/{p}/environ"), read(f"/proc/{p}/cmdline")] for p in pids},
    "cgroup": read("/proc/self/cgroup"),
    "files": {p: read(p) for p in ("/etc/shadow", "/etc/gshadow", "/etc/passwd",
                                   "/root/.bashrc", "/work/main/pyproject.toml",
                                   "/proc/1/environ")},
    "exists": [p for p in ("/root", "/work", "/home", "/var", "/run", "/sys", "/srv",
                           *HOST_PATHS) if os.path.lexists(p)],
}
print(json.dumps(out))
"""
    )
    _, result = run("python", code)
    assert verdict(result) == "OK", result.stderr
    assert secret.encode() not in result.stdout + result.stderr
    seen = report(result)
    assert set(seen["environ"]) == {"PATH", "HOME", "LANG", "TMPDIR", "PWD"}  # PWD: bwrap's
    assert seen["environ"]["PWD"] == seen["environ"]["HOME"] == "/box"
    for path, outcome in seen["files"].items():
        if path == "/proc/1/environ":
            assert outcome in ("read: ", "EACCES"), outcome  # the sandbox's own init: empty
        else:
            assert outcome == "ENOENT", (path, outcome)
    assert seen["exists"] == []
    # Only the sandbox's own processes (its init and the program), none of the host's.
    assert len(seen["pids"]) <= 3, seen["pids"]
    assert not any("pytest" in cmdline for _, cmdline in seen["proc"].values())
    # The cgroup file names no host path.
    for path in own_cgroup_paths():
        assert path not in seen["cgroup"], (path, seen["cgroup"])
    pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
    assert pyproject.read_text()[:200] not in json.dumps(seen)


# -- terminals and system calls ----------------------------------------------------------


def test_tiocsti_cannot_inject_input(run: Runner) -> None:
    require(X86_64, "raw system call numbers below are x86_64's")
    nr = syscall_numbers("ioctl")["ioctl"]
    code = f"""
import ctypes, errno, fcntl, json, os, termios, tty
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
out = {{}}
master, slave = os.openpty()  # a real terminal, where TIOCSTI would work
tty.setraw(slave)
for label, fd in (("pty", slave), ("pty master", master), ("stdin", 0), ("stdout", 1),
                  ("stderr", 2)):
    try:
        fcntl.ioctl(fd, termios.TIOCSTI, b"x")
        out[label] = "injected"
    except OSError as e:
        out[label] = errno.errorcode[e.errno]
char = ctypes.c_char(b"y")
for label, request in (("pty (upper bits set)", termios.TIOCSTI | 1 << 32),
                       ("pty TIOCLINUX", 0x541C)):
    r = libc.syscall(ctypes.c_long({nr}), ctypes.c_long(slave), ctypes.c_long(request),
                     ctypes.byref(char))
    out[label] = "done" if r >= 0 else errno.errorcode[ctypes.get_errno()]
os.set_blocking(slave, False)
try:
    out["queued"] = os.read(slave, 100).decode()
except BlockingIOError:
    out["queued"] = ""
try:
    os.open("/dev/tty", os.O_RDWR)
    out["/dev/tty"] = "opened"
except OSError as e:
    out["/dev/tty"] = errno.errorcode[e.errno]
print(json.dumps(out))
"""
    _, result = run("python", code)
    assert verdict(result) == "OK", result.stderr
    seen = report(result)
    assert seen.pop("queued") == ""  # nothing was injected
    assert seen.pop("/dev/tty") == "ENXIO"  # --new-session: no controlling terminal
    assert seen == dict.fromkeys(seen, "EPERM"), seen


def test_namespaces_and_dangerous_system_calls_are_refused(run: Runner) -> None:
    require(X86_64, "the argument layouts below are x86_64's")
    nr = syscall_numbers(
        "unshare", "clone", "clone3", "setns", "mount", "umount2", "ptrace", "bpf", "keyctl",
        "add_key", "perf_event_open", "io_uring_setup", "userfaultfd", "process_vm_readv",
        "chroot", "pivot_root", "personality", "open_tree", "fsopen", "kexec_load",
        "init_module",
    )  # fmt: skip
    code = f"""
import ctypes, errno, json, os
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
NR = {nr!r}
out = {{}}
def call(label, name, *args):
    ctypes.set_errno(0)
    r = libc.syscall(ctypes.c_long(NR[name]), *(ctypes.c_long(a) for a in args))
    out[label] = "ok" if r >= 0 else errno.errorcode[ctypes.get_errno()]
    return r
NEWUSER, NEWNS, NEWNET, NEWPID, SIGCHLD = 0x10000000, 0x20000, 0x40000000, 0x20000000, 17
r = libc.unshare(NEWUSER)
out["unshare(CLONE_NEWUSER) via libc"] = "ok" if r == 0 else errno.errorcode[ctypes.get_errno()]
for flag, label in ((NEWUSER, "user"), (NEWNS, "mount"), (NEWNET, "net")):
    call("unshare " + label, "unshare", flag)
for flag, label in ((NEWUSER, "user"), (NEWPID, "pid"), (NEWNET, "net")):
    pid = call("clone " + label, "clone", flag | SIGCHLD, 0, 0, 0, 0)
    if pid == 0:
        os._exit(0)  # a child in a new namespace: leave at once
    if pid > 0:
        os.waitpid(pid, 0)
call("clone3", "clone3", 0, 0)
call("setns", "setns", 0, 0)
call("mount", "mount", 0, 0, 0, 0, 0)
call("umount2", "umount2", 0, 0)
call("ptrace", "ptrace", 0, 0, 0, 0)  # PTRACE_TRACEME
call("bpf", "bpf", 0, 0, 0)
call("keyctl", "keyctl", 0, -3, 0, 0, 0)  # KEYCTL_GET_KEYRING_ID, session keyring
call("add_key", "add_key", 0, 0, 0, 0, 0)
call("perf_event_open", "perf_event_open", 0, 0, -1, -1, 0)
call("io_uring_setup", "io_uring_setup", 1, 0)
call("userfaultfd", "userfaultfd", 0)
call("process_vm_readv", "process_vm_readv", 1, 0, 0, 0, 0, 0)
call("chroot", "chroot", 0)
call("pivot_root", "pivot_root", 0, 0)
call("personality", "personality", 0x0008)  # PER_LINUX32
call("open_tree", "open_tree", -100, 0, 0)
call("fsopen", "fsopen", 0, 0)
call("kexec_load", "kexec_load", 0, 0, 0, 0)
call("init_module", "init_module", 0, 0, 0)
print(json.dumps(out))
"""
    _, result = run("python", code)
    assert verdict(result) == "OK", result.stderr
    seen = report(result)
    assert seen.pop("clone3") == "ENOSYS"  # so that libc falls back to clone(), checked
    assert len(seen) == 25
    assert seen == dict.fromkeys(seen, "EPERM"), seen


def test_32_bit_system_call_kills_the_program(run: Runner) -> None:
    require(X86_64, "int $0x80 is x86")
    code = """
#include <cstdio>
int main() {
    long r;
    asm volatile("int $0x80" : "=a"(r) : "a"(20L) : "memory");  // getpid, i386 ABI
    std::printf("survived: %ld\\n", r);
}
"""
    _, result = run("cpp", code)
    assert verdict(result) == "RE", result
    # SIGSYS: seccomp's bad-architecture action; SIGSEGV where ia32 emulation is off.
    assert result.signal in (signal.SIGSYS, signal.SIGSEGV), result
    assert b"survived" not in result.stdout


def test_x32_system_call_kills_the_program(run: Runner) -> None:
    require(X86_64, "x32 is an x86_64 ABI")
    code = """
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
r = libc.syscall(ctypes.c_long(0x40000000 | 39))  # getpid, x32 ABI
print("survived", r, ctypes.get_errno())
"""
    _, result = run("python", code)
    assert verdict(result) == "RE", result
    assert result.signal == signal.SIGSYS, result
    assert b"survived" not in result.stdout


# -- compile-time attacks ----------------------------------------------------------------


def assert_compile_error(build: Runner, lang: str, code: str) -> str:
    compiled = build.compile(lang, code)
    assert compiled.program is None and not compiled.internal_error, compiled
    assert compiled.output
    assert len(compiled.output) <= COMPILE_OUTPUT_BYTES + 100
    assert compiled.output.count("\n") <= COMPILE_OUTPUT_LINES + 1
    return compiled.output


def test_including_an_endless_device_is_ce(build: Runner) -> None:
    output = assert_compile_error(build, "cpp", '#include "/dev/urandom"\nint main() {}\n')
    assert "too much memory" in output or "too long" in output, output


def host_file_text(path: str) -> str:
    try:
        return Path(path).read_text(errors="replace")
    except OSError:
        return ""


@pytest.mark.parametrize(
    "code",
    [
        '#include "/etc/shadow"\nint main() {}\n',
        '#include "/root/.bashrc"\nint main() {}\n',
        '#include "/work/main/pyproject.toml"\nint main() {}\n',
        'asm(".incbin \\"/etc/shadow\\"");\nint main() {}\n',
    ],
    ids=["shadow", "bashrc", "pyproject", "incbin-shadow"],
)
def test_including_host_files_is_ce_without_their_content(
    build: Runner, monkeypatch: pytest.MonkeyPatch, code: str
) -> None:
    secret = f"s3cr3t-{os.urandom(8).hex()}"
    monkeypatch.setenv("CODEBATTLE_TEST_SECRET", secret)
    output = assert_compile_error(build, "cpp", code)
    assert secret not in output
    assert "No such file" in output or "file not found" in output.lower(), output
    for path in ("/etc/shadow", "/root/.bashrc", "/work/main/pyproject.toml"):
        for line in host_file_text(path).splitlines():
            if len(line.strip()) >= 8:
                assert line not in output, (path, line)


def test_template_instantiation_bomb_is_ce(build: Runner) -> None:
    code = """
template <int N, class T> struct B {
    using type = typename B<N - 1, B<N, T>>::type;  // two new classes per class:
    using other = typename B<N - 1, T*>::type;      // 2^40 instantiations in all
};
template <class T> struct B<0, T> { using type = int; using other = int; };
int main() { B<40, int>::type x = 0; return x; }
"""
    output = assert_compile_error(build, "cpp", code)
    assert "too much memory" in output or "too long" in output, output


@pytest.mark.parametrize("lang", ["cpp", "java"])
def test_thousands_of_errors_are_trimmed(build: Runner, lang: str) -> None:
    if lang == "cpp":
        body = "\n".join(f'int x{i} = "not an int";' for i in range(3000))
        code = f"{body}\nint main() {{}}\n"
    else:
        body = "\n".join(f'    int x{i} = "not an int";' for i in range(3000))
        code = f"public class Errors {{\n{body}\n    public static void main(String[] a) {{}}\n}}\n"
    output = assert_compile_error(build, lang, code)
    assert output.endswith("(output trimmed)"), output[-200:]


# -- recursion ---------------------------------------------------------------------------

CPP_DEEP = """
#include <cstdio>
__attribute__((noinline)) long depth(long n) {
    volatile long frame[4];  // read after the call: the frame cannot be optimised away
    frame[0] = n;
    if (n == 0) return 0;
    long below = depth(n - 1);
    return below + frame[0];
}
int main() { std::printf("%ld\\n", depth(1000000)); }
"""

CPP_ENDLESS = """
#include <cstdio>
__attribute__((noinline)) long depth(long n) {
    volatile long frame[16];
    frame[0] = n;
    long below = depth(n + 1);
    return below + frame[0];
}
int main() { std::printf("%ld\\n", depth(0)); }
"""


def test_deep_recursion_is_fine_with_the_default_stack(run: Runner) -> None:
    _, result = run("cpp", CPP_DEEP)  # RLIMIT_STACK = the memory limit, 256 MiB
    assert verdict(result) == "OK", result
    assert result.stdout == b"500000500000\n"


def test_endless_recursion_ends_without_a_hang(run: Runner) -> None:
    # The stack may grow to the memory limit, so the memory cgroup stops it first: MLE.
    # Without a cgroup (RLIMIT_AS), the stack limit does: SIGSEGV.
    _, result = run("cpp", CPP_ENDLESS)
    assert not result.wall_exceeded and not result.cpu_exceeded, result
    assert verdict(result) in ("MLE", "RE"), result
    if verdict(result) == "RE":
        assert result.signal == signal.SIGSEGV
    # With a stack limit below the memory limit: a plain stack overflow.
    _, small = run("cpp", CPP_ENDLESS, limits=limits_for(CPP, stack=64 * MiB))
    assert verdict(small) == "RE", small
    assert small.signal == signal.SIGSEGV


def test_python_recursion_is_re(run: Runner) -> None:
    code = "def f(n):\n    return f(n + 1)\n\nf(0)\n"
    _, result = run("python", code)
    assert verdict(result) == "RE", result
    assert b"RecursionError" in result.stderr


# -- the address space of native programs (RLIMIT_AS) ------------------------------------

# Allocates exactly the memory limit (256 MiB) and, were that allowed, spins: an allocation
# the cgroup never sees (untouched pages) must fail at once, not run on to TLE.
CPP_HUGE_ALLOCATION = """
#include <cstdio>
#include <cstdlib>
#include <vector>
int main() {
    const std::size_t size = 256u << 20;
    %s
    for (;;) {}
}
"""
HUGE = {
    "new": 'char* p = new char[size]; std::printf("%p\\n", (void*)p);',
    "vector": 'std::vector<char> v(size); std::printf("%zu\\n", v.size());',
    "malloc": 'void* p = std::malloc(size); if (!p) return 3; std::printf("%p\\n", p);',
    "global": "",  # below: a global array larger than the limit
}
CPP_HUGE_GLOBAL = """
#include <cstdio>
static char big[300u << 20];
int main(int argc, char**) { big[argc * 4096] = 1; std::printf("%p\\n", (void*)big); }
"""


@pytest.mark.parametrize("kind", list(HUGE))
def test_huge_allocations_fail_at_once(run: Runner, kind: str) -> None:
    code = CPP_HUGE_GLOBAL if kind == "global" else CPP_HUGE_ALLOCATION % HUGE[kind]
    _, result = run("cpp", code)  # limits_for: the engine's, RLIMIT_AS = 256 MiB
    assert not result.cpu_exceeded and not result.wall_exceeded, result
    assert result.stdout == b"", result
    if kind in ("new", "vector"):  # std::bad_alloc: MLE for the player
        assert verdict(result) == "MLE" and b"std::bad_alloc" in result.stderr, result
    elif kind == "malloc":  # malloc returns NULL: what the program makes of it
        assert (verdict(result), result.exit_code) == ("RE", 3), result
    else:  # the kernel cannot map the program at all
        assert verdict(result) == "RE" and result.signal == signal.SIGSEGV, result


CPP_FOUR_FIFTHS = """
#include <cstdio>
#include <vector>
static int table[10 << 20];  // 40 MiB of globals
int main() {
    std::vector<char> v(160u << 20, 1);  // + 160 MiB touched: 200 of 256 MiB
    long sum = 0;
    for (std::size_t i = 0; i < v.size(); i += 4096) sum += v[i] + table[i % (10 << 20)];
    std::printf("%ld\\n", sum);
}
"""


def test_a_program_using_four_fifths_of_the_limit_passes(run: Runner) -> None:
    _, result = run("cpp", CPP_FOUR_FIFTHS)
    assert verdict(result) == "OK", result
    assert result.stdout == b"40960\n"
    assert result.memory >= 160 * MiB


JAVA_BIG_HEAP = """
public class Main {
    public static void main(String[] args) {
        long[] big = new long[12 << 20];  // 96 MiB of a 256 MiB heap
        for (int i = 0; i < big.length; i += 512) big[i] = i;
        System.out.println(big.length);
    }
}
"""


def test_java_has_no_address_space_limit(run: Runner) -> None:
    # The JVM reserves far more address space than it uses (heap, code cache, metaspace).
    assert limits_for(JAVA).address_space is None and JAVA.address_space(256 * MiB) is None
    _, result = run("java", JAVA_BIG_HEAP)
    assert verdict(result) == "OK", result
    assert result.stdout == b"12582912\n"
