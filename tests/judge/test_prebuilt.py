"""Prebuilt artifacts (judge/prebuilt.py): the store's lifecycle with small fake artifacts,
then C++'s real precompiled header in the real sandbox (built once for the module)."""

from __future__ import annotations

import json
import multiprocessing
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, cast

import pytest
import structlog

from codebattle.judge import prebuilt
from codebattle.judge.engine import Judge
from codebattle.judge.languages import cpp, java
from codebattle.judge.languages.base import Language
from codebattle.judge.loader import load_package
from codebattle.judge.prebuilt import (
    MANIFEST,
    OLD_VERSION_SECONDS,
    RETRY_SECONDS,
    STAMP,
    BuildFailed,
    Prebuilt,
    Prebuilts,
    Ready,
    probe_run,
)
from codebattle.judge.sandbox import Sandbox
from codebattle.judge.verdicts import JudgeResult, Verdict
from tests.support.hosts import PROBLEMS, require
from tests.support.prebuilt import (  # noqa: F401 - fixtures, registered by importing
    argvs_fixture,
    compiler,
    off,
    root_fixture,
    sandbox_fixture,
    warnings,
)

NO_SANDBOX = cast(Sandbox, object())  # the fakes never use it


class Fake(Prebuilt):
    """An artifact made of one file; its toolchain is `tool`, a file the test touches.
    Every build appends a line to `log` (shared by threads and processes)."""

    name = "fake"
    stage = "compile"
    mount = "/opt/codebattle/fake"

    def __init__(self, tool: Path, *, content: str = "v1", probe_says: str | None = None,
                 build_fails: bool = False, build_seconds: float = 0.0) -> None:  # fmt: skip
        self.tool = tool
        self.content = content
        self.probe_says = probe_says
        self.build_fails = build_fails
        self.build_seconds = build_seconds
        self.log = tool.with_name(tool.name + ".builds")

    def toolchain(self) -> tuple[str, ...]:
        return (str(self.tool),)

    def inputs(self) -> list[str]:
        return ["fake 1.0", *map(str, self.identity())]

    def build(self, folder: Path) -> None:
        with open(self.log, "a") as fh:
            fh.write(f"{os.getpid()}\n")
        time.sleep(self.build_seconds)
        if self.build_fails:
            raise BuildFailed("the fake toolchain refused")
        (folder / "data").write_text(self.content)

    def probe(self, sandbox: Sandbox, folder: Path) -> str | None:
        return self.probe_says

    def args(self) -> tuple[str, ...]:
        return ("--fake", self.mount)

    def builds(self) -> int:
        return len(self.log.read_text().splitlines()) if self.log.exists() else 0


class RunStage(Fake):
    name = "fake-run"
    stage = "run"


@pytest.fixture
def tool(tmp_path: Path) -> Path:
    path = tmp_path / "fakecc"
    path.write_text("#!/bin/sh\n")
    return path


@pytest.fixture
def store(tmp_path: Path) -> Prebuilts:
    return Prebuilts(tmp_path / "prebuilt")


def leftovers(store: Prebuilts) -> list[str]:
    """What builds left behind: staging folders, old layouts, links, versions not in use."""
    current = os.readlink(store.root / "fake") if (store.root / "fake").is_symlink() else ""
    return sorted(
        p.name
        for p in store.root.iterdir()
        if p.name.startswith((".tmp-", ".old-", ".link-", ".v-")) and p.name != current
    )


# -- the store -----------------------------------------------------------------------------


def test_missing_is_ignored_with_one_log_line(store: Prebuilts, tool: Path) -> None:
    fake = Fake(tool)
    with structlog.testing.capture_logs() as logs:
        for _ in range(3):
            assert store.ready([fake], "compile") == []
    assert warnings(logs) == ["prebuilt artifact missing: the language works without it, slower"]
    assert logs[0]["artifact"] == "fake"


def test_a_prepared_artifact_is_ready_logged_once(store: Prebuilts, tool: Path) -> None:
    fake = Fake(tool)
    [outcome] = store.prepare(NO_SANDBOX, [fake])
    assert (outcome.name, outcome.state) == ("fake", "built")
    with structlog.testing.capture_logs() as logs:
        for _ in range(3):
            [ready] = store.ready([fake], "compile")
    # The version the link points at: a later build never changes that folder.
    version = (store.root / "fake").resolve()
    assert (store.root / "fake").is_symlink() and version.name.startswith(".v-fake-")
    assert ready == Ready(fake, version)
    assert ready.args == ("--fake", "/opt/codebattle/fake")
    assert (ready.bind.source, ready.bind.target) == (version, fake.mount)
    assert [e["event"] for e in logs] == ["prebuilt artifact in use"]
    assert (store.root / "fake" / "data").read_text() == "v1"
    assert store.root.stat().st_mode & 0o777 == 0o755  # nobody reads it through binds
    assert (store.root / "fake" / "data").stat().st_mode & 0o777 == 0o644


def test_only_the_asked_stage(store: Prebuilts, tool: Path) -> None:
    compile_stage, run_stage = Fake(tool), RunStage(tool)
    store.prepare(NO_SANDBOX, [compile_stage, run_stage])
    assert [r.artifact for r in store.ready([compile_stage, run_stage], "run")] == [run_stage]
    assert [r.artifact for r in store.ready([compile_stage, run_stage], "compile")] == [
        compile_stage
    ]


def test_a_changed_stamp_is_stale(store: Prebuilts, tool: Path) -> None:
    fake = Fake(tool)
    store.prepare(NO_SANDBOX, [fake])
    assert store.ready([fake], "compile")
    (store.root / "fake" / STAMP).write_text(json.dumps({"stamp": "built by another g++"}))
    with structlog.testing.capture_logs() as logs:
        assert store.ready([fake], "compile") == []
        assert store.ready([fake], "compile") == []
    assert warnings(logs) == ["prebuilt artifact stale: the language works without it, slower"]


def test_a_changed_toolchain_file_makes_it_stale(store: Prebuilts, tool: Path) -> None:
    fake = Fake(tool)
    store.prepare(NO_SANDBOX, [fake])
    assert store.ready([fake], "compile")
    stat = tool.stat()
    os.utime(tool, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))  # an upgrade
    with structlog.testing.capture_logs() as logs:
        assert store.ready([fake], "compile") == []
    assert warnings(logs) == ["prebuilt artifact stale: the language works without it, slower"]
    # Preparing again builds it for the new toolchain, and it is used again.
    [outcome] = store.prepare(NO_SANDBOX, [fake])
    assert outcome.state == "built"
    assert store.ready([fake], "compile")
    assert fake.builds() == 2


def test_a_valid_artifact_is_not_built_again_unless_forced(store: Prebuilts, tool: Path) -> None:
    fake = Fake(tool)
    store.prepare(NO_SANDBOX, [fake])
    [again] = store.prepare(NO_SANDBOX, [fake])
    assert again.state == "ready"
    assert fake.builds() == 1
    fake.content = "v2"
    [forced] = store.prepare(NO_SANDBOX, [fake], force=True)
    assert forced.state == "built"
    assert fake.builds() == 2
    assert (store.root / "fake" / "data").read_text() == "v2"
    assert store.ready([fake], "compile")
    # The version it replaced stays for runs that bound it, until a later prepare finds it
    # replaced long enough ago.
    [old] = leftovers(store)
    assert (store.root / old / "data").read_text() == "v1"
    store.prepare(NO_SANDBOX, [fake])
    assert leftovers(store) == [old]
    link = store.root / "fake"
    long_ago = time.time() - OLD_VERSION_SECONDS - 1
    os.utime(link, (long_ago, long_ago), follow_symlinks=False)
    store.prepare(NO_SANDBOX, [fake])
    assert leftovers(store) == []
    assert (store.root / "fake" / "data").read_text() == "v2"


def test_a_rebuild_never_leaves_the_name_without_an_artifact(store: Prebuilts, tool: Path) -> None:
    """The link is replaced in one rename: whoever resolves it meanwhile finds a complete
    version, the old or the new."""
    fake = Fake(tool)
    store.prepare(NO_SANDBOX, [fake])
    seen: list[str] = []
    stop = threading.Event()

    def look() -> None:
        while not stop.is_set():
            try:
                seen.append((store.root / "fake" / "data").read_text())
            except OSError as exc:
                seen.append(repr(exc))

    watcher = threading.Thread(target=look)
    watcher.start()
    try:
        for version in range(2, 12):
            fake.content = f"v{version}"
            store.prepare(NO_SANDBOX, [fake], force=True)
    finally:
        stop.set()
        watcher.join()
    assert seen and all(text.startswith("v") for text in seen), set(seen) - {"v1"}


def test_an_artifact_of_the_layout_before_links_is_replaced(store: Prebuilts, tool: Path) -> None:
    fake = Fake(tool)
    store.prepare(NO_SANDBOX, [fake])
    version = (store.root / "fake").resolve()
    (store.root / "fake").unlink()
    version.rename(store.root / "fake")  # a plain folder, as versions before links made
    assert store.ready([fake], "compile")
    fake.content = "v2"
    [outcome] = store.prepare(NO_SANDBOX, [fake], force=True)
    assert outcome.state == "built"
    assert (store.root / "fake").is_symlink()
    assert (store.root / "fake" / "data").read_text() == "v2"


def test_a_disabled_store_has_none_and_builds_none(tmp_path: Path, tool: Path) -> None:
    fake = Fake(tool)
    Prebuilts(tmp_path / "prebuilt").prepare(NO_SANDBOX, [fake])
    off = Prebuilts(tmp_path / "prebuilt", enabled=False)
    with structlog.testing.capture_logs() as logs:
        assert off.ready([fake], "compile") == []
        assert off.prepare(NO_SANDBOX, [fake], force=True) == []
        off.prepare_in_background(NO_SANDBOX, [fake])
        off.wait(5)
    assert fake.builds() == 1
    assert logs == []


@pytest.mark.parametrize(
    "broken",
    [{"probe_says": "g++ read the header, not the .gch"}, {"build_fails": True}],
    ids=["probe", "build"],
)
def test_a_failure_installs_nothing(store: Prebuilts, tool: Path, broken: dict[str, Any]) -> None:
    [failed] = store.prepare(NO_SANDBOX, [Fake(tool, **broken)])
    assert failed.state == "failed"
    assert failed.detail
    assert not (store.root / "fake").exists()
    assert leftovers(store) == []
    assert store.ready([Fake(tool)], "compile") == []


@pytest.mark.parametrize(
    "broken",
    [{"probe_says": "g++ read the header, not the .gch"}, {"build_fails": True}],
    ids=["probe", "build"],
)
def test_a_failed_rebuild_keeps_the_old_artifact(
    store: Prebuilts, tool: Path, broken: dict[str, Any]
) -> None:
    store.prepare(NO_SANDBOX, [Fake(tool)])
    stamp = (store.root / "fake" / STAMP).read_text()
    [failed] = store.prepare(NO_SANDBOX, [Fake(tool, content="v2", **broken)], force=True)
    assert failed.state == "failed"
    assert "the toolchain does not use it" in failed.detail or "refused" in failed.detail
    assert (store.root / "fake" / "data").read_text() == "v1"
    assert (store.root / "fake" / STAMP).read_text() == stamp
    assert leftovers(store) == []
    assert store.ready([Fake(tool)], "compile")


def test_leftovers_of_a_dead_build_are_removed(store: Prebuilts, tool: Path) -> None:
    """A process killed mid-build leaves its staging folder; the next prepare of the same
    artifact removes it, and only its own."""
    store.prepare(NO_SANDBOX, [Fake(tool)])
    dead = [store.root / f".tmp-fake-{'a' * 32}", store.root / f".old-fake-{'b' * 32}"]
    others = [store.root / f".tmp-fake-run-{'c' * 32}", store.root / ".tmp-fake-keep"]
    for path in [*dead, *others]:
        path.mkdir()
        (path / "data").write_text("half")
    [outcome] = store.prepare(NO_SANDBOX, [Fake(tool)])
    assert outcome.state == "ready"
    assert leftovers(store) == sorted(p.name for p in others)


class Hangs(Fake):
    def build(self, folder: Path) -> None:
        (folder / "data").write_text("half")
        raise subprocess.TimeoutExpired(["g++"], 300)


class Crashes(Fake):
    def build(self, folder: Path) -> None:
        (folder / "data").write_text("half")
        raise RuntimeError("a bug in the artifact's code")


def test_a_timed_out_build_fails_and_leaves_nothing(store: Prebuilts, tool: Path) -> None:
    [outcome] = store.prepare(NO_SANDBOX, [Hangs(tool)])
    assert outcome.state == "failed"
    assert "timed out" in outcome.detail
    assert leftovers(store) == []


def test_an_unexpected_error_propagates_and_leaves_nothing(store: Prebuilts, tool: Path) -> None:
    with pytest.raises(RuntimeError):
        store.prepare(NO_SANDBOX, [Crashes(tool)])
    assert leftovers(store) == []
    assert not (store.root / "fake").exists()


class Held(Fake):
    """A build that waits for `release` (so that other builds would overlap it)."""

    def __init__(self, tool: Path, release: threading.Event) -> None:
        super().__init__(tool)
        self.release = release
        self.started = threading.Event()

    def build(self, folder: Path) -> None:
        super().build(folder)
        self.started.set()
        assert self.release.wait(30)


def test_threads_preparing_at_once_build_once(
    store: Prebuilts, tool: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first build is held until every other thread has come to the artifact's lock:
    without the lock they would all build."""
    release = threading.Event()
    fake = Held(tool, release)
    arrived: list[str] = []
    real_locked = prebuilt._locked

    def locked(path: Path) -> Any:
        arrived.append(threading.current_thread().name)
        if len(arrived) == 3:
            release.set()
        return real_locked(path)

    monkeypatch.setattr(prebuilt, "_locked", locked)
    states: list[str] = []

    def prepare() -> None:
        states.extend(o.state for o in store.prepare(NO_SANDBOX, [fake]))

    threads = [threading.Thread(target=prepare) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert release.is_set()
    assert sorted(states) == ["built", "ready", "ready"]
    assert fake.builds() == 1


def _prepare_in_a_process(root: str, tool: str) -> None:
    Prebuilts(Path(root)).prepare(NO_SANDBOX, [Fake(Path(tool), build_seconds=0.3)])


def test_processes_preparing_at_once_build_once(store: Prebuilts, tool: Path) -> None:
    context = multiprocessing.get_context("fork")
    processes = [
        context.Process(target=_prepare_in_a_process, args=(str(store.root), str(tool)))
        for _ in range(3)
    ]
    store.root.mkdir()
    for p in processes:
        p.start()
    for p in processes:
        p.join(30)
    assert [p.exitcode for p in processes] == [0, 0, 0]
    assert Fake(tool).builds() == 1
    assert store.ready([Fake(tool)], "compile")


def test_prepare_in_background(store: Prebuilts, tool: Path) -> None:
    fake = Fake(tool, build_seconds=0.2)
    store.prepare_in_background(NO_SANDBOX, [fake])
    store.wait(30)
    assert fake.builds() == 1
    assert store.ready([fake], "compile")


def test_a_background_failure_is_logged(store: Prebuilts, tool: Path) -> None:
    with structlog.testing.capture_logs() as logs:
        store.prepare_in_background(NO_SANDBOX, [Fake(tool, build_fails=True)])
        store.wait(30)
    assert warnings(logs) == ["a prebuilt artifact could not be built"]
    assert logs[-1]["detail"] == "the fake toolchain refused"


# -- damaged files: the manifest ------------------------------------------------------------


def test_a_prepared_artifact_has_a_manifest_of_its_files(store: Prebuilts, tool: Path) -> None:
    store.prepare(NO_SANDBOX, [Fake(tool, content="v1")])
    manifest = json.loads((store.root / "fake" / MANIFEST).read_text())
    assert manifest == {"data": 2}
    assert (store.root / "fake" / MANIFEST).stat().st_mode & 0o777 == 0o644


@pytest.mark.parametrize("how", ["truncated", "longer", "file-gone", "no-manifest"])
def test_a_damaged_artifact_is_left_out_then_rebuilt(
    store: Prebuilts, tool: Path, how: str
) -> None:
    fake = Fake(tool)
    store.prepare(NO_SANDBOX, [fake])
    assert store.ready([fake], "compile")
    folder = store.root / "fake"
    if how == "truncated":
        (folder / "data").write_text("v")
    elif how == "longer":
        (folder / "data").write_text("v1 and more")
    elif how == "file-gone":
        (folder / "data").unlink()
    else:
        (folder / MANIFEST).unlink()
        os.utime(folder / STAMP, ns=(0, 1))  # as an artifact written before manifests
    with structlog.testing.capture_logs() as logs:
        assert store.ready([fake], "compile") == []
        assert store.ready([fake], "compile") == []
    assert warnings(logs) == ["prebuilt artifact damaged: the language works without it, slower"]
    [outcome] = store.prepare(NO_SANDBOX, [fake])  # prepare rebuilds it, not "ready"
    assert outcome.state == "built"
    assert fake.builds() == 2
    assert store.ready([fake], "compile")


# -- toolchain upgrades and a worker's background rebuilds --------------------------------------


class Versioned(Fake):
    """A fake whose version, like Language.version, is read once and cached until
    refresh(); its command is `link`, a symbolic link to the tool (as /usr/bin/g++ is)."""

    def __init__(self, tool: Path, **kwargs: Any) -> None:
        super().__init__(tool, **kwargs)
        self.link = tool.with_name("fakecc-link")
        self.version_file = tool.with_name("fakecc.version")
        self._version: str | None = None
        self._target: str | None = None

    def version(self) -> str:
        if self._version is None:
            self._version = self.version_file.read_text()
        return self._version

    def links(self) -> tuple[str, ...]:
        return (str(self.link),)

    def toolchain(self) -> tuple[str, ...]:
        if self._target is None:
            self._target = os.path.realpath(self.link)
        return (self._target,)

    def refresh(self) -> None:
        self._version = self._target = None

    def inputs(self) -> list[str]:
        return [self.version(), *map(str, self.identity())]


@pytest.fixture
def versioned(tool: Path) -> Versioned:
    tool.with_name("fakecc.version").write_text("fake 1.0")
    tool.with_name("fakecc-link").symlink_to(tool.name)
    return Versioned(tool)


def upgrade(fake: Versioned, version: str, *, retarget: bool = False) -> None:
    """A new version of the toolchain: installed in place, or beside the old one with the
    command's link pointed at it (update-alternatives), the old files left as they were."""
    fake.version_file.write_text(version)
    if retarget:
        new = fake.tool.with_name(f"fakecc-{version.replace(' ', '-')}")
        new.write_text("#!/bin/sh\n# new\n")
        tmp = fake.link.with_name("fakecc-link.tmp")
        tmp.symlink_to(new.name)
        os.replace(tmp, fake.link)
    else:
        stat = fake.tool.stat()
        os.utime(fake.tool, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


@pytest.mark.parametrize("retarget", [False, True], ids=["in-place", "link-retargeted"])
def test_a_running_worker_uses_the_artifact_rebuilt_for_an_upgrade(
    store: Prebuilts, versioned: Versioned, retarget: bool
) -> None:
    """The worker's process cached the version and the toolchain's paths: a change of
    identity (a file's stat, or the command's link) makes it read them again, so that the
    artifact another process rebuilt for the new toolchain is used."""
    store.prepare(NO_SANDBOX, [versioned])
    assert store.ready([versioned], "compile")
    upgrade(versioned, "fake 2.0", retarget=retarget)
    assert store.ready([versioned], "compile") == []  # stale for the new toolchain
    # `codebattle judge prepare`, a new process: nothing cached.
    [outcome] = Prebuilts(store.root).prepare(NO_SANDBOX, [Versioned(versioned.tool)])
    assert outcome.state == "built"
    assert store.ready([versioned], "compile")
    assert versioned.toolchain() == (os.path.realpath(versioned.link),)


def test_a_worker_rebuilds_in_the_background_what_becomes_stale(
    store: Prebuilts, versioned: Versioned
) -> None:
    store.retry_seconds = 0
    store.prepare_in_background(NO_SANDBOX, [versioned])
    store.wait(30)
    assert store.ready([versioned], "compile")
    upgrade(versioned, "fake 2.0")
    assert store.ready([versioned], "compile") == []  # judged without it meanwhile
    store.wait(30)
    assert versioned.builds() == 2
    assert store.ready([versioned], "compile")
    # Damaged later: rebuilt too.
    (store.root / "fake" / "data").write_text("v")
    assert store.ready([versioned], "compile") == []
    store.wait(30)
    assert versioned.builds() == 3
    assert store.ready([versioned], "compile")


def test_a_failing_background_build_is_tried_again_only_after_a_while(
    store: Prebuilts, tool: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = Fake(tool, build_fails=True)
    clock = [1000.0]
    monkeypatch.setattr(prebuilt.time, "monotonic", lambda: clock[0])
    store.prepare_in_background(NO_SANDBOX, [fake])
    store.wait(30)
    for _ in range(5):  # every compile checks it
        assert store.ready([fake], "compile") == []
        store.wait(30)
    assert fake.builds() == 1
    clock[0] += RETRY_SECONDS - 1
    store.ready([fake], "compile")
    store.wait(30)
    assert fake.builds() == 1
    clock[0] += 2
    store.ready([fake], "compile")
    store.ready([fake], "compile")
    store.wait(30)
    assert fake.builds() == 2


def test_a_store_not_started_by_a_worker_never_builds_by_itself(
    store: Prebuilts, tool: Path
) -> None:
    fake = Fake(tool)
    assert store.ready([fake], "compile") == []
    store.wait(30)
    assert fake.builds() == 0


def test_one_background_build_at_a_time(store: Prebuilts, tool: Path) -> None:
    release = threading.Event()
    first, second = Held(tool, release), RunStage(tool)
    store.retry_seconds = 0
    store.prepare_in_background(NO_SANDBOX, [first])  # held
    assert first.started.wait(30)
    store.ready([second], "run")  # a build is running: not started
    store.ready([second], "run")  # a build is running: not started
    assert first.builds() == 1  # the log is shared: first's build only
    release.set()
    store.wait(30)
    assert first.builds() == 1
    store.ready([second], "run")
    store.wait(30)
    assert first.builds() == 2  # now second's
    assert store.ready([first, second], "run")


def test_a_suspected_artifact_is_probed_again_by_a_worker(store: Prebuilts, tool: Path) -> None:
    """A compile failed with it and passed without (judge/compiler.py): a worker probes it;
    when the probe fails it is not used again, even if no new build can replace it."""
    fake = Fake(tool)
    store.retry_seconds = 0
    store.prepare_in_background(NO_SANDBOX, [fake])
    store.wait(30)
    store.suspect(fake, "cannot read PCH file")  # its probe passes: kept, not rebuilt
    store.wait(30)
    assert fake.builds() == 1
    assert store.ready([fake], "compile")
    fake.probe_says = "g++ read the header, not the .gch"
    with structlog.testing.capture_logs() as logs:
        store.suspect(fake, "cannot read PCH file")
        store.wait(30)
        assert store.ready([fake], "compile") == []
        store.wait(30)
    assert fake.builds() >= 2  # tried, and failed: its probe fails for new builds too
    assert warnings(logs)[:3] == [
        "prebuilt artifact damaged? a compile failed with it and passed without",
        "prebuilt artifact damaged: its probe fails",
        "a prebuilt artifact could not be built",
    ]


def test_a_suspect_in_a_store_that_is_not_a_workers_is_only_logged(
    store: Prebuilts, tool: Path
) -> None:
    fake = Fake(tool, probe_says="broken")
    store.prepare(NO_SANDBOX, [Fake(tool)])
    store.suspect(fake, "cannot read PCH file")
    store.wait(30)
    assert fake.builds() == 1
    assert store.ready([fake], "compile")


# -- the root's safety ---------------------------------------------------------------------


@pytest.mark.parametrize("how", ["symlink", "group-writable", "other-writable", "foreign"])
def test_an_unsafe_root_is_never_used_nor_built_in(tmp_path: Path, tool: Path, how: str) -> None:
    """/tmp/codebattle-prebuilt-<euid> is a predictable name: made by someone else first,
    it would decide what every compile and run loads."""
    fake = Fake(tool)
    real = tmp_path / "real"
    Prebuilts(real).prepare(NO_SANDBOX, [fake])
    root = real
    if how == "symlink":
        root = tmp_path / "link"
        root.symlink_to(real)
    elif how == "group-writable":
        real.chmod(0o775)
    elif how == "other-writable":
        real.chmod(0o757)
    else:
        require(os.geteuid() == 0, "only root can give a folder to another user")
        os.chown(real, 65534, 65534)
    store = Prebuilts(root)
    with structlog.testing.capture_logs() as logs:
        for _ in range(3):
            assert store.ready([fake], "compile") == []
        [outcome] = store.prepare(NO_SANDBOX, [fake], force=True)
    assert outcome.state == "failed" and outcome.detail
    assert fake.builds() == 1
    assert warnings(logs) == ["prebuilt artifacts not used: their root is unsafe"]


@pytest.mark.parametrize("how", ["outside", "not-a-version", "version-writable"])
def test_an_artifact_link_must_point_at_a_version_in_the_root(
    store: Prebuilts, tool: Path, tmp_path: Path, how: str
) -> None:
    fake = Fake(tool)
    store.prepare(NO_SANDBOX, [fake])
    link = store.root / "fake"
    version = link.resolve()
    if how == "version-writable":
        version.chmod(0o777)
    else:
        elsewhere = tmp_path / "elsewhere" if how == "outside" else store.root / "other"
        shutil.copytree(version, elsewhere)
        link.unlink()
        link.symlink_to(elsewhere if how == "outside" else elsewhere.name)
    with structlog.testing.capture_logs() as logs:
        assert store.ready([fake], "compile") == []
        assert store.ready([fake], "compile") == []
    assert warnings(logs) == ["prebuilt artifact unsafe: the language works without it, slower"]
    [outcome] = store.prepare(NO_SANDBOX, [fake])
    assert outcome.state == "built"  # replaced by a version of its own
    assert store.ready([fake], "compile")


# -- C++: the precompiled <bits/stdc++.h> ------------------------------------------------------

HELLO = PROBLEMS / "hello-battle"
BITS_AC = (
    "#include <bits/stdc++.h>\nusing namespace std;\n"
    "int main() { long long a, b; cin >> a >> b; cout << a + b << '\\n'; }\n"
)
CASES = {
    "AC": BITS_AC,
    "WA": "#include <bits/stdc++.h>\nint main() { int a, b; std::cin >> a >> b;"
    " std::cout << a + b << '\\n'; }\n",
    "RE": "#include <bits/stdc++.h>\nint main() { std::vector<int> v; return v.at(3); }\n",
    "MLE": "#include <bits/stdc++.h>\nint main() { std::vector<char> v;"
    " while (true) v.push_back(1); }\n",
    "TLE": "#include <bits/stdc++.h>\nint main() { volatile long x = 0; while (true) x++; }\n",
    # The usual macro, after the include.
    "AC-macro": "#include <bits/stdc++.h>\nusing namespace std;\n#define int long long\n"
    "signed main() { int a, b; cin >> a >> b; cout << a + b << endl; }\n",
}


@pytest.fixture(scope="module")
def pch(root: Path, sandbox: Sandbox) -> Prebuilts:
    require(cpp.LANGUAGE.available(), "g++ is not installed")
    store = Prebuilts(root / "prebuilt")
    [outcome] = store.prepare(sandbox, cpp.LANGUAGE.prebuilt)
    assert outcome.state == "built", outcome.detail  # the probe passed on this host
    return store


def test_the_probe_passes_on_this_host(pch: Prebuilts, sandbox: Sandbox) -> None:
    [header] = cpp.LANGUAGE.prebuilt
    folder = pch.root / "cpp-pch"
    assert header.probe(sandbox, folder) is None
    assert (folder / "bits" / "stdc++.h.gch").is_file()
    assert pch.ready(cpp.LANGUAGE.prebuilt, "compile") == [Ready(header, folder.resolve())]


def test_the_compile_reads_the_pch_folder_first_when_ready(
    pch: Prebuilts, sandbox: Sandbox, argvs: list[list[str]]
) -> None:
    assert compiler(sandbox, pch).compile(cpp.LANGUAGE, BITS_AC).ok
    assert compiler(sandbox, off()).compile(cpp.LANGUAGE, BITS_AC).ok
    with_pch, without = argvs
    assert with_pch[:3] == [cpp.GXX, "-isystem", "/opt/codebattle/cpp-pch"]
    assert with_pch[3:] == without[1:]
    assert "-isystem" not in without


@pytest.mark.parametrize("state", ["stale", "missing"])
def test_a_stale_or_missing_pch_is_not_passed_to_gxx(
    pch: Prebuilts, sandbox: Sandbox, argvs: list[list[str]], state: str
) -> None:
    store = Prebuilts(Path(tempfile.mkdtemp(dir=sandbox.root)))
    if state == "stale":
        shutil.copytree((pch.root / "cpp-pch").resolve(), store.root / "cpp-pch")
        (store.root / "cpp-pch" / STAMP).write_text(json.dumps({"stamp": "an older g++"}))
    with structlog.testing.capture_logs() as logs:
        result = compiler(sandbox, store).compile(cpp.LANGUAGE, BITS_AC)
    assert result.ok, result.output
    [argv] = argvs
    assert "-isystem" not in argv
    assert "/opt/codebattle/cpp-pch" not in " ".join(argv)
    assert warnings(logs) == [f"prebuilt artifact {state}: the language works without it, slower"]


def _judge(sandbox: Sandbox, store: Prebuilts, code: str) -> tuple[JudgeResult, bytes]:
    judge = Judge(sandbox, compiler(sandbox, store))
    result = judge.judge(load_package(HELLO), cpp.LANGUAGE, code)
    compiled = judge.compiler.compile(cpp.LANGUAGE, code)  # from the cache
    assert compiled.program is not None
    return result, (compiled.program.artifacts / "main").read_bytes()  # g++ -o out/main


@pytest.mark.parametrize("expected", list(CASES))
def test_the_same_program_with_and_without_the_pch(
    pch: Prebuilts, sandbox: Sandbox, expected: str
) -> None:
    code = CASES[expected]
    with_pch, binary = _judge(sandbox, pch, code)
    without, binary_without = _judge(sandbox, off(), code)
    assert with_pch.verdict == Verdict(expected.split("-")[0])
    # The precompiled header changes nothing in the program: g++ writes the same bytes.
    assert binary == binary_without
    assert with_pch.compile_output == without.compile_output == ""
    assert [(t.name, t.verdict, t.exit_code, t.signal) for t in with_pch.tests] == [
        (t.name, t.verdict, t.exit_code, t.signal) for t in without.tests
    ]
    # The same binary on the same input: what the sandbox measures differs by noise only.
    for a, b in zip(with_pch.tests, without.tests, strict=True):
        assert abs(a.memory - b.memory) <= max(a.memory, b.memory) // 10 + (1 << 20), (a, b)


def test_a_macro_before_the_include_makes_gxx_read_the_header(
    pch: Prebuilts, sandbox: Sandbox, argvs: list[list[str]]
) -> None:
    """The .gch was made without _GLIBCXX_DEBUG: g++ must not take it, and the header it
    reads instead honours the macro (a checked vector aborts on a bad index)."""
    code = (
        "#define _GLIBCXX_DEBUG\n#include <bits/stdc++.h>\n"
        "int main() { std::vector<int> v(1); volatile int i = 5; return v[i]; }\n"
    )
    with_pch, binary = _judge(sandbox, pch, code)
    without, binary_without = _judge(sandbox, off(), code)
    assert "-isystem" in argvs[0]
    assert with_pch.compile_output == without.compile_output == ""  # no PCH warning
    assert with_pch.verdict == without.verdict == Verdict.RE
    assert binary == binary_without


def without_main_in_include_chains(output: str) -> str:
    """`output` as g++ writes it with the precompiled header: an include chain ends at
    <bits/stdc++.h> (the header the .gch was made from), without its last line, the
    submission's own "from main.cpp:1:"."""
    return re.sub(r"(bits/stdc\+\+\.h:\d+),\n +from main\.cpp:\d+:", r"\1:", output)


@pytest.mark.parametrize(
    "code",
    [
        "#include <bits/stdc++.h>\nint main() { std::vector<int> v; v.push(1); }\n",
        # An error inside the library: the include chain goes through <bits/stdc++.h>.
        "#include <bits/stdc++.h>\nint main() { std::array<int, 2> a; return std::get<5>(a); }\n",
    ],
    ids=["in-main", "in-library"],
)
def test_compile_errors_read_the_same(pch: Prebuilts, sandbox: Sandbox, code: str) -> None:
    with_pch = compiler(sandbox, pch).compile(cpp.LANGUAGE, code)
    without = compiler(sandbox, off()).compile(cpp.LANGUAGE, code)
    assert not with_pch.ok
    assert len(without.output.splitlines()) < 40  # untrimmed
    # The library's error comes through <bits/stdc++.h>: g++ names the toolchain's header.
    assert ("/bits/stdc++.h:" in with_pch.output) == ("from main.cpp:1:" in without.output)
    assert with_pch.output == without_main_in_include_chains(without.output)
    # Never a path of the host's artifact folder (nor of the folder it was built in).
    assert "gch" not in with_pch.output and "cpp-pch" not in with_pch.output
    assert str(pch.root) not in with_pch.output


def test_a_program_cannot_change_the_artifact(pch: Prebuilts, sandbox: Sandbox) -> None:
    folder = pch.root / "cpp-pch"
    before = (folder / "bits" / "stdc++.h.gch").stat()
    [ready] = pch.ready(cpp.LANGUAGE.prebuilt, "compile")
    code, output = probe_run(
        sandbox,
        [
            "/bin/sh",
            "-c",
            "echo x > /opt/codebattle/cpp-pch/bits/stdc++.h.gch;"
            " touch /opt/codebattle/cpp-pch/new; ls /opt/codebattle/cpp-pch/bits",
        ],  # fmt: skip
        {},
        [ready.bind],
    )
    assert b"stdc++.h.gch" in output  # the program saw it
    assert b"Read-only file system" in output
    assert sorted(p.name for p in folder.iterdir()) == ["bits", MANIFEST, STAMP]
    after = (folder / "bits" / "stdc++.h.gch").stat()
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)


def damage_pch(store: Prebuilts, how: str) -> None:
    """Spoil the .gch in place, its stamp and manifest left as they were."""
    path = store.root / "cpp-pch" / "bits" / "stdc++.h.gch"
    data = path.read_bytes()
    if how == "truncated":
        path.write_bytes(data[: len(data) // 2])
    else:  # a valid header, then garbage: the same size
        half = len(data) // 2
        path.write_bytes(data[:half] + (b"garbage!" * (half // 8 + 1))[: len(data) - half])


def copy_of(store: Prebuilts, sandbox: Sandbox) -> Prebuilts:
    other = Prebuilts(Path(tempfile.mkdtemp(dir=sandbox.root)))
    other.root.chmod(0o755)  # the sandbox's nobody reads it
    shutil.copytree((store.root / "cpp-pch").resolve(), other.root / "cpp-pch")
    return other


def test_a_truncated_pch_is_left_out(
    pch: Prebuilts, sandbox: Sandbox, argvs: list[list[str]]
) -> None:
    damaged = copy_of(pch, sandbox)
    assert damaged.ready(cpp.LANGUAGE.prebuilt, "compile")
    damage_pch(damaged, "truncated")
    with structlog.testing.capture_logs() as logs:
        result = compiler(sandbox, damaged).compile(cpp.LANGUAGE, BITS_AC)
    assert result.ok, result.output
    [argv] = argvs
    assert "-isystem" not in argv
    assert warnings(logs) == ["prebuilt artifact damaged: the language works without it, slower"]


def test_a_pch_damaged_at_its_size_never_makes_a_compile_error(
    pch: Prebuilts, sandbox: Sandbox, argvs: list[list[str]]
) -> None:
    """Its manifest cannot tell, and g++ fails ("cannot read PCH file"): the compile is
    tried again without it, and that result is the one kept and cached."""
    damaged = copy_of(pch, sandbox)
    damage_pch(damaged, "garbage")
    cc = compiler(sandbox, damaged)
    with structlog.testing.capture_logs() as logs:
        result = cc.compile(cpp.LANGUAGE, BITS_AC)
    assert result.ok, result.output
    assert result.output == ""
    with_pch, without = argvs
    assert "-isystem" in with_pch and "-isystem" not in without
    assert warnings(logs) == [
        "prebuilt artifact damaged? a compile failed with it and passed without"
    ]
    assert logs[-1]["artifact"] == "cpp-pch" and "PCH file" in logs[-1]["why"]
    # Cached: the next compile of the same source is not a CE either, and runs nothing.
    assert cc.compile(cpp.LANGUAGE, BITS_AC).ok
    assert len(argvs) == 2


def test_a_compile_error_of_the_player_is_compiled_once(
    pch: Prebuilts, sandbox: Sandbox, argvs: list[list[str]]
) -> None:
    code = "#include <bits/stdc++.h>\nint main() { return undeclared; }\n"
    with structlog.testing.capture_logs() as logs:
        result = compiler(sandbox, pch).compile(cpp.LANGUAGE, code)
    assert not result.ok and "undeclared" in result.output
    assert len(argvs) == 1
    assert warnings(logs) == []


def test_a_compile_error_naming_the_pch_is_tried_again_and_blames_nothing(
    pch: Prebuilts, sandbox: Sandbox, argvs: list[list[str]]
) -> None:
    # A player can write the words g++ uses: it costs one more compile, and the artifact
    # is not suspected, since the compile fails without it too.
    code = "#include <bits/stdc++.h>\n#error cannot read PCH file\nint main() {}\n"
    with structlog.testing.capture_logs() as logs:
        result = compiler(sandbox, pch).compile(cpp.LANGUAGE, code)
    assert not result.ok and "#error cannot read PCH file" in result.output
    assert len(argvs) == 2 and "-isystem" not in argvs[1]
    assert warnings(logs) == []


@pytest.mark.parametrize("language", [cpp.LANGUAGE, java.LANGUAGE], ids=["cpp", "java"])
def test_refresh_forgets_the_cached_version_and_paths(language: Language) -> None:
    version = language.version
    assert vars(language)["version"] == version
    for artifact in language.prebuilt:
        artifact.toolchain()
        artifact.refresh()
        assert "version" not in vars(language)
        assert type(artifact).toolchain.cache_info().currsize == 0  # type: ignore[attr-defined]
    assert language.version == version  # read again, from the toolchain
