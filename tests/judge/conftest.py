"""Fixtures for the hostile-program suite (tests/judge/test_hostile.py).

One sandbox and one compiler for the session, in a private root, plus:
- `run(lang, code, stdin=b"", limits=...)`: compile, then run once; (CompileResult, RunResult);
- `host_untouched`: after a test, asserts that no sandboxed process survived, that no cgroup
  of ours is left, and that nothing of the sandbox's user is left in the box root or in the
  usual writable places of the host;
- `verdict(run)`: the verdict the engine would give a run.

Other engineers' test sessions may run sandboxes on this machine at the same time; the host
checks only look at what this session created (its cgroups, its descendants, its box root).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from codebattle.judge import cgroups, languages
from codebattle.judge.compiler import CompileLimits, Compiler, CompileResult
from codebattle.judge.engine import failure_verdict
from codebattle.judge.languages.base import Language
from codebattle.judge.sandbox import NOBODY, Bind, Box, Limits, RunResult, Sandbox
from tests.support.hosts import require

MiB = 1 << 20
# Places outside any box where a leaked file of the sandbox's user would show up.
WATCHED_DIRS = ("/", "/tmp", "/var/tmp", "/dev/shm", "/work", "/work/main", "/root", "/etc")
_CGROUP_NAME = re.compile(r"codebattle-[0-9a-f]{16}")


def verdict(run: RunResult) -> str:
    """The verdict the engine gives a finished run, "OK" when it did not fail by itself."""
    failed = failure_verdict(run)
    return "OK" if failed is None else str(failed)


def limits_for(
    lang: Language,
    *,
    cpu: float = 1.0,
    wall: float | None = None,
    memory: int = 256 * MiB,
    **overrides: int,
) -> Limits:
    """Run limits as the engine derives them (Judge.run_limits), but small."""
    values: dict[str, int | float | None] = {
        "cpu_time": cpu,
        "wall_time": wall if wall is not None else cpu + 1,
        "memory": memory + lang.memory_overhead,
        "processes": lang.processes,
        "output": 16 * MiB,
        "file_size": 16 * MiB,
        "stack": memory,
        "address_space": lang.address_space(memory),
    }
    values.update(overrides)
    return Limits(**values)  # type: ignore[arg-type]


@dataclass
class Runner:
    """Compiles and runs hostile programs; see `__call__`. In mode "reused" each program runs
    in a sandbox reused across runs (the engine's path for the tests of a submission), as
    the second run after a harmless one, so that it meets a sandbox that was cleaned up."""

    sandbox: Sandbox
    compiler: Compiler
    mode: str = "fresh"

    def compile(self, lang: str, code: str) -> CompileResult:
        return self.compiler.compile(languages.get(lang), code)

    def __call__(
        self,
        lang: str,
        code: str,
        stdin: bytes | int = b"",
        limits: Limits | None = None,
        *,
        box: Box | None = None,
        binds: Sequence[Bind] = (),
    ) -> tuple[CompileResult, RunResult]:
        """Compile `code` (it must compile) and run it once, in `box` when given (the caller
        then inspects the used box before it is removed), else in a fresh box."""
        language = languages.get(lang)
        compiled = self.compile(lang, code)
        assert compiled.program is not None, f"did not compile: {compiled}"
        program = compiled.program
        lim = limits or limits_for(language)
        argv = program.argv(lim.memory - language.memory_overhead)  # as the engine: -Xmx
        if self.mode == "reused":
            with self.sandbox.session(
                binds=[*program.binds(), *binds], env=language.env, tmp_size=lim.tmp_size, box=box
            ) as session:
                warm_up = session.run(["/bin/true"], lim)
                assert warm_up.exit_code == 0, warm_up
                return compiled, session.run(argv, lim, stdin=stdin, keep=box is not None)
        used = contextlib.nullcontext(box) if box is not None else self.sandbox.box()
        with used as target:
            result = self.sandbox.run(
                argv, target, lim, binds=[*program.binds(), *binds], env=language.env, stdin=stdin
            )
        return compiled, result


# -- the host ----------------------------------------------------------------------------


@dataclass
class Session:
    sandbox: Sandbox
    cgroup_names: set[str] = field(default_factory=set)  # every group this session created

    def cgroup_parents(self) -> list[Path]:
        factory = self.sandbox.cgroups
        if factory is None:
            return []
        found = [factory.memory_parent, factory.pids_parent, factory.cpu_parent]
        return sorted({p for p in found if p is not None})


def _status(pid: str) -> dict[str, str]:
    out: dict[str, str] = {}
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            key, _, value = line.partition(":")
            out[key] = value.strip()
    return out


def nobody_processes(session: Session) -> dict[int, str]:
    """Processes of the sandbox's user that belong to this session or to no judge at all.

    Ours: in one of our cgroups, or descended from this test process. No judge's: the
    topmost process of the user hangs off init (an escaped orphan). Skipped: the sandboxes
    of other judges running on the machine (their topmost process is a judge's child)."""
    me = os.getpid()
    table: dict[int, tuple[int, bool, str]] = {}  # pid -> (ppid, is nobody, name)
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            status = _status(entry.name)
            cgroup_text = Path(f"/proc/{entry.name}/cgroup").read_text()
        except OSError:
            continue  # gone meanwhile
        uids = status.get("Uid", "").split()
        # A zombie is dead: bubblewrap's outer process exits without reaping the namespace's
        # init, which the host's init then reaps (lazily on some hosts). Not a survivor.
        alive = status.get("State", "Z")[:1] not in ("Z", "X")
        is_nobody = str(NOBODY) in uids and alive
        name = status.get("Name", "?")
        if is_nobody and set(_CGROUP_NAME.findall(cgroup_text)) & session.cgroup_names:
            name += " (in our cgroup)"
        table[int(entry.name)] = (int(status.get("PPid", "0")), is_nobody, name)
    found: dict[int, str] = {}
    for pid, (ppid, is_nobody, name) in table.items():
        if not is_nobody:
            continue
        if name.endswith("(in our cgroup)"):
            found[pid] = name
            continue
        # Walk up past the user's own processes to the first other one.
        parent, seen = ppid, 0
        while parent in table and table[parent][1] and seen < 1000:
            parent, seen = table[parent][0], seen + 1
        if parent in (me, 0, 1) or parent not in table:
            found[pid] = f"{name} (parent {parent})"
    return found


def nobody_files() -> set[str]:
    """Files of the sandbox's user in the watched host folders (not recursive)."""
    found: set[str] = set()
    for folder in WATCHED_DIRS:
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.stat(follow_symlinks=False).st_uid == NOBODY:
                    found.add(entry.path)
            except OSError:
                continue
    return found


def tree_files_of(root: Path, uid: int) -> list[str]:
    out = []
    for top, dirs, files in os.walk(root):
        for name in [*dirs, *files]:
            path = os.path.join(top, name)
            try:
                if os.lstat(path).st_uid == uid:
                    out.append(path)
            except OSError:
                continue
    return out


@dataclass
class HostCheck:
    session: Session
    root: Path
    before_procs: set[int]
    before_files: set[str]
    markers: list[Path] = field(default_factory=list)  # paths that must never appear

    def marker(self, name: str) -> Path:
        """A unique host path the test's program will try to create; checked afterwards."""
        path = Path("/tmp") / f"codebattle-hostile-{name}-{os.urandom(6).hex()}"
        self.markers.append(path)
        return path

    def problems(self) -> list[str]:
        out = []
        procs = {
            pid: name
            for pid, name in nobody_processes(self.session).items()
            if pid not in self.before_procs
        }
        if procs:
            out.append(f"sandboxed processes survived: {procs}")
        for parent in self.session.cgroup_parents():
            left = [n for n in self.session.cgroup_names if (parent / n).exists()]
            if left:
                out.append(f"cgroups left under {parent}: {left}")
        boxes = sorted(p.name for p in self.session.sandbox.root.glob("box-*"))
        if boxes:
            out.append(f"boxes left in {self.session.sandbox.root}: {boxes}")
        owned = tree_files_of(self.root, NOBODY)
        if owned:
            out.append(f"files of uid {NOBODY} left under {self.root}: {owned[:10]}")
        new_files = nobody_files() - self.before_files
        if new_files:
            out.append(f"files of uid {NOBODY} appeared on the host: {sorted(new_files)}")
        appeared = [str(m) for m in self.markers if os.path.lexists(m)]
        if appeared:
            out.append(f"marker files appeared on the host: {appeared}")
        return out


# -- fixtures ----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def hostile_root() -> Iterator[Path]:
    # Not under pytest's private tmp folder: the sandbox's nobody must traverse it.
    root = Path(tempfile.mkdtemp(prefix="codebattle-hostile-"))
    root.chmod(0o711)
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def session(hostile_root: Path) -> Session:
    require(shutil.which("bwrap") is not None, "bubblewrap is not installed")
    sandbox = Sandbox(work_root=hostile_root / "boxes")
    record = Session(sandbox)
    factory = sandbox.cgroups
    if factory is not None:
        create = factory.create

        def recording_create(*args: object, **kwargs: object) -> cgroups.Cgroup:
            group = create(*args, **kwargs)  # type: ignore[arg-type]
            record.cgroup_names.update(d.name for d in group.dirs)
            return group

        factory.create = recording_create  # type: ignore[method-assign]
    return record


@pytest.fixture(scope="session")
def sandbox(session: Session) -> Sandbox:
    return session.sandbox


@pytest.fixture(scope="session")
def compiler(sandbox: Sandbox, hostile_root: Path) -> Compiler:
    # Small compile limits: a compile-time bomb must end quickly.
    limits = CompileLimits(cpu_time=4, wall_time=8, memory=512 * MiB)
    return Compiler(sandbox, hostile_root / "cache", limits)


@pytest.fixture(scope="session", params=["fresh", "reused"])
def run(sandbox: Sandbox, compiler: Compiler, request: pytest.FixtureRequest) -> Runner:
    """Runs each hostile program in a fresh sandbox and in a reused one (decision 0013)."""
    if request.param == "reused":
        require(sandbox.reusable, "no static launcher: sandboxes are not reused")
    return Runner(sandbox, compiler, request.param)


@pytest.fixture(scope="session")
def build(sandbox: Sandbox, compiler: Compiler) -> Runner:
    """For tests that only compile (compilation always has a fresh sandbox)."""
    return Runner(sandbox, compiler)


@pytest.fixture
def host_untouched(session: Session, hostile_root: Path) -> Iterator[HostCheck]:
    """Checks the host after the test (processes, cgroups, files); yields marker paths."""
    check = HostCheck(
        session,
        hostile_root,
        set(nobody_processes(session)),
        nobody_files(),
    )
    yield check
    session.sandbox.settle()  # used boxes and cgroups are removed in the background
    # Processes are reaped when a run returns; allow the kernel a moment anyway.
    deadline = time.monotonic() + 3
    while (problems := check.problems()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not problems, "the host was touched:\n" + "\n".join(problems)
