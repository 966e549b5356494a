"""Artifacts built once per toolchain that make a language faster to compile or to start:
C++'s precompiled <bits/stdc++.h>, Java's class-data archives (docs/judge-speed.md).

Each language module declares its own (`Language.prebuilt`); this module keeps them. An
artifact is built on the host from the toolchain's own files and the judge's fixed inputs,
never from a submission, into `<root>/<name>/` (`codebattle judge prepare` at install, or a
worker that finds it missing or stale, in the background). It is installed only after a
probe in the sandbox showed that the toolchain really uses it there, with a stamp of what it
was built from: the toolchain's version and the identity of its files, the flags, the
inputs, and a manifest of its files' sizes. Before each use the stamp is compared with what
the toolchain is now and the files with the manifest; a stale, missing or damaged artifact
is ignored, with a log line, and the language works as without it: verdicts never depend
on an artifact, only speed does (a compile that fails with artifacts is tried again
without them, judge/compiler.py). A worker's store rebuilds such an artifact in the
background (at most one build at a time, an artifact at most once per RETRY_SECONDS).

The root is a predictable name in /tmp: it is used only when it is this user's own folder,
not a link, writable by nobody else, and its artifacts' links point at version folders
inside it (`_unsafe`); otherwise the store behaves as disabled.

Inside the sandbox an artifact's folder is bound read-only at `artifact.mount`.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import stat
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import structlog

from codebattle.judge.sandbox import Bind, Limits, Sandbox, SandboxError

log = structlog.get_logger(__name__)
STAMP = "stamp.json"
MANIFEST = "manifest.json"  # {relative path: size} of the artifact's files, as built
RETRY_SECONDS = 600.0  # a worker rebuilds one artifact in the background at most this often
Stage = Literal["compile", "run"]


class Prebuilt:
    """One artifact. Subclasses say what it is built from, how, and how to tell that the
    toolchain uses it."""

    name: str = ""  # its folder under the store's root: "cpp-pch"
    stage: Stage = "compile"  # whether the compiler or the program's runtime reads it
    mount: str = ""  # where its folder appears in the sandbox

    def toolchain(self) -> tuple[str, ...]:
        """The toolchain's files whose change makes the artifact stale (stat'ed before each
        use, so the list itself should be cached)."""
        return ()

    def inputs(self) -> list[str]:
        """Everything the artifact depends on, as text: the toolchain's version, the flags,
        the hashes of its inputs. Its hash is the stamp."""
        raise NotImplementedError

    def build(self, folder: Path) -> None:
        """Write the artifact into the empty `folder` (on the host, from trusted inputs);
        raise BuildFailed when the toolchain refuses."""
        raise NotImplementedError

    def probe(self, sandbox: Sandbox, folder: Path) -> str | None:
        """Use the artifact in `folder` as a submission would, in the sandbox: None when the
        toolchain used it, else why not."""
        raise NotImplementedError

    def args(self) -> tuple[str, ...]:
        """The options that make the toolchain use it, put right after the command."""
        raise NotImplementedError

    def links(self) -> tuple[str, ...]:
        """The commands' paths as configured (/usr/bin/g++): symbolic links that an upgrade
        or `update-alternatives` may point elsewhere; lstat'ed with the toolchain's files."""
        return ()

    def blamed(self, output: bytes) -> bool:
        """Whether a failed compile's `output` may be the artifact's doing (then the compile
        is tried again without it): by default, when it names the artifact's mount."""
        return self.mount.encode() in output

    def refresh(self) -> None:
        """Forget what was cached about the toolchain (its version, its files' paths):
        called when its identity changed, before the stamp is computed again."""

    def stamp(self) -> str:
        digest = hashlib.sha256()
        for part in [self.name, *self.inputs()]:
            digest.update(part.encode() + b"\0")
        return digest.hexdigest()

    def identity(self) -> tuple[tuple[int, int, int], ...]:
        """The toolchain's files as they are now: a change (an upgrade) recomputes the stamp."""
        found = []
        paths = [(p, os.lstat) for p in self.links()] + [(p, os.stat) for p in self.toolchain()]
        for path, look in paths:
            try:
                st = look(path)
            except OSError:
                found.append((0, 0, 0))
            else:
                found.append((st.st_ino, st.st_size, st.st_mtime_ns))
        return tuple(found)


class BuildFailed(Exception):
    pass


@dataclass(frozen=True)
class Ready:
    """An artifact that is valid now, where it is."""

    artifact: Prebuilt
    folder: Path

    @property
    def args(self) -> tuple[str, ...]:
        return self.artifact.args()

    @property
    def bind(self) -> Bind:
        return Bind(self.folder, self.artifact.mount)


def with_args(argv: Sequence[str], ready: Sequence[Ready]) -> list[str]:
    """`argv` with the ready artifacts' options right after the command."""
    extra = [a for r in ready for a in r.args]
    return [argv[0], *extra, *argv[1:]] if extra else list(argv)


@dataclass
class _Seen:
    """What the store last found for one artifact (so that a state is logged once)."""

    identity: tuple[tuple[int, int, int], ...] = ()
    stamp: str = ""
    state: str = ""  # "ready", "missing", "stale", "damaged", "unsafe"
    checked_mtime: int = -1
    ready: Ready | None = None
    manifest: dict[str, int] = field(default_factory=dict)  # of `ready`'s folder


@dataclass
class Outcome:
    """What `prepare` did for one artifact."""

    name: str
    state: str  # "ready" (was valid), "built", "failed"
    seconds: float = 0.0
    detail: str = ""


def default_root() -> Path:
    return Path(tempfile.gettempdir()) / f"codebattle-prebuilt-{os.geteuid()}"


@dataclass
class Prebuilts:
    """The artifacts of this host, under `root`. `enabled=False`: never any (the peer of
    the speed benchmarks and of the tests that compare verdicts with and without)."""

    root: Path = field(default_factory=default_root)
    enabled: bool = True
    retry_seconds: float = RETRY_SECONDS
    _seen: dict[str, _Seen] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _building: threading.Thread | None = field(default=None, repr=False)
    # Set by prepare_in_background (a worker): what check() rebuilds when it finds an
    # artifact not ready, and when each was last tried.
    _sandbox: Sandbox | None = field(default=None, repr=False)
    _tried: dict[str, float] = field(default_factory=dict, repr=False)
    _unsafe_logged: str = field(default="", repr=False)

    def ready(self, artifacts: Sequence[Prebuilt], stage: Stage) -> list[Ready]:
        """The artifacts of `stage` that are valid now (cheap: a few stat calls)."""
        if not self.enabled:
            return []
        return [
            r
            for artifact in artifacts
            if artifact.stage == stage and (r := self.check(artifact)) is not None
        ]

    def check(self, artifact: Prebuilt) -> Ready | None:
        """The artifact if its stamp matches the toolchain now and its files the manifest;
        else None, logged once per change of state (and rebuilt in the background when
        this store is a worker's)."""
        with self._lock:
            if self._root_unsafe():
                return None
            seen = self._seen.setdefault(artifact.name, _Seen())
            ready = self._check(artifact, seen)
            if ready is None and self._sandbox is not None:
                self._rebuild_later(artifact)
            return ready

    def _check(self, artifact: Prebuilt, seen: _Seen) -> Ready | None:
        identity = artifact.identity()
        if identity != seen.identity or not seen.stamp:
            if seen.identity:  # changed under this process (an upgrade): cached no more
                artifact.refresh()
                identity = artifact.identity()
            seen.identity, seen.stamp = identity, artifact.stamp()
            seen.checked_mtime = -1
        # The version the link points at now: a sandbox binds that folder, which a later
        # build never changes (see _install).
        link = self.root / artifact.name
        folder = link.resolve()
        try:
            mtime = (folder / STAMP).stat().st_mtime_ns
        except OSError:
            mtime = 0
        if mtime == seen.checked_mtime and (
            seen.ready is None or _intact(seen.ready.folder, seen.manifest)
        ):
            return seen.ready
        seen.checked_mtime = mtime
        built = _read_stamp(folder) if mtime else None
        manifest = _read_manifest(folder)
        why = _unsafe_artifact(self.root, link)
        if why:
            state, seen.ready = "unsafe", None
        elif built is None:
            state, seen.ready = "missing", None
        elif built != seen.stamp:
            state, seen.ready = "stale", None
        elif manifest is None or not _intact(folder, manifest):
            state, seen.ready = "damaged", None
        else:
            state, seen.ready, seen.manifest = "ready", Ready(artifact, folder), manifest
        if state != seen.state:
            seen.state = state
            if state == "ready":
                log.info("prebuilt artifact in use", artifact=artifact.name)
            else:
                log.warning(
                    f"prebuilt artifact {state}: the language works without it, slower",
                    artifact=artifact.name,
                    folder=str(folder),
                    **({"why": why} if why else {}),
                )
        return seen.ready

    def suspect(self, artifact: Prebuilt, why: str) -> None:
        """A compile failed with the artifact and passed without it (judge/compiler.py): its
        files may be damaged in a way their sizes do not show. Logged; a worker's store
        probes it again in the background (at most once per retry_seconds, so that a
        submission made to fail only with it cannot keep the worker rebuilding)."""
        log.warning("prebuilt artifact damaged? a compile failed with it and passed without",
                    artifact=artifact.name, why=why[:500])  # fmt: skip
        with self._lock:
            if self._sandbox is not None:
                self._rebuild_later(artifact, verify=True)

    def prepare(
        self, sandbox: Sandbox, artifacts: Sequence[Prebuilt], *, force: bool = False
    ) -> list[Outcome]:
        """Build (and probe) every artifact that is missing, stale or damaged, or all with
        `force`. Safe to run from several processes at once: each artifact is built under a
        lock."""
        return self._prepare(sandbox, artifacts, force=force)

    def _prepare(
        self,
        sandbox: Sandbox,
        artifacts: Sequence[Prebuilt],
        *,
        force: bool = False,
        verify: bool = False,
    ) -> list[Outcome]:
        if not self.enabled:
            return []
        try:
            self.root.mkdir(mode=0o755, parents=True)
            self.root.chmod(0o755)  # the sandbox's nobody reads artifacts through binds
        except FileExistsError:
            pass
        with self._lock:
            why = self._root_unsafe()
        if why:
            return [Outcome(a.name, "failed", detail=why) for a in artifacts]
        return [self._prepare_one(sandbox, artifact, force, verify) for artifact in artifacts]

    def prepare_in_background(self, sandbox: Sandbox, artifacts: Sequence[Prebuilt]) -> None:
        """`prepare` on a thread (a worker starting: it judges without them meanwhile); from
        then on, check() rebuilds in the background an artifact it finds not ready."""
        if not self.enabled or not artifacts:
            return
        with self._lock:
            self._sandbox = sandbox
            now = time.monotonic()
            self._tried.update({a.name: now for a in artifacts})
            self._start(list(artifacts), verify=False)

    def _rebuild_later(self, artifact: Prebuilt, *, verify: bool = False) -> None:
        """Under self._lock: one background build of `artifact` unless a build is running or
        it was tried less than retry_seconds ago."""
        now = time.monotonic()
        last = self._tried.get(artifact.name)
        if last is not None and now - last < self.retry_seconds:
            return
        if self._building is not None and self._building.is_alive():
            return
        self._tried[artifact.name] = now
        self._start([artifact], verify=verify)

    def _start(self, artifacts: list[Prebuilt], *, verify: bool) -> None:
        sandbox = self._sandbox
        assert sandbox is not None

        def run() -> None:
            try:
                for outcome in self._prepare(sandbox, artifacts, verify=verify):
                    if outcome.state == "failed":
                        log.warning("a prebuilt artifact could not be built",
                                    artifact=outcome.name, detail=outcome.detail)  # fmt: skip
            except Exception:
                log.exception("building the prebuilt artifacts failed")

        self._building = threading.Thread(target=run, name="prebuilt artifacts", daemon=True)
        self._building.start()

    def wait(self, timeout: float | None = None) -> None:
        if self._building is not None:
            self._building.join(timeout)

    def _root_unsafe(self) -> str:
        """Under self._lock: why the root must not be used ("" when it may), logged once."""
        why = _unsafe_root(self.root)
        if why and why != self._unsafe_logged:
            log.warning("prebuilt artifacts not used: their root is unsafe",
                        root=str(self.root), why=why)  # fmt: skip
        self._unsafe_logged = why
        return why

    def _prepare_one(
        self, sandbox: Sandbox, artifact: Prebuilt, force: bool, verify: bool = False
    ) -> Outcome:
        began = time.monotonic()
        folder = self.root / artifact.name
        with _locked(self.root / f".{artifact.name}.lock"):
            _sweep(self.root, artifact.name)
            stamp = artifact.stamp()
            manifest = _read_manifest(folder)
            valid = (
                not _unsafe_artifact(self.root, folder)
                and _read_stamp(folder) == stamp
                and manifest is not None
                and _intact(folder, manifest)
            )
            if valid and verify and artifact.probe(sandbox, folder.resolve()) is not None:
                # Suspected and its probe fails now: not used again, even if no new build
                # can replace it (the version is swept by a later prepare).
                log.warning("prebuilt artifact damaged: its probe fails", artifact=artifact.name)
                folder.unlink()
                valid = False
            if valid and not force:
                return Outcome(artifact.name, "ready")
            staging = self.root / f".tmp-{artifact.name}-{uuid.uuid4().hex}"
            staging.mkdir(mode=0o755)
            try:
                artifact.build(staging)
                _readable(staging)
                why = artifact.probe(sandbox, staging)
                if why is not None:
                    raise BuildFailed(f"built, but the toolchain does not use it: {why}")
                # Written last, the manifest then the stamp: a folder with a stamp is a
                # verified artifact, and its files' sizes are checked before each use.
                _write(staging / MANIFEST, json.dumps(_sizes(staging)))
                _write(staging / STAMP, json.dumps({"stamp": stamp}))
                _install(staging, folder)
            except (BuildFailed, OSError, SandboxError, subprocess.SubprocessError) as exc:
                shutil.rmtree(staging, ignore_errors=True)
                return Outcome(artifact.name, "failed", time.monotonic() - began, str(exc))
            except BaseException:
                shutil.rmtree(staging, ignore_errors=True)
                raise
        seconds = time.monotonic() - began
        log.info("prebuilt artifact built", artifact=artifact.name, seconds=round(seconds, 2))
        return Outcome(artifact.name, "built", seconds)


def _unsafe_root(root: Path) -> str:
    """Why `root` cannot be trusted ("" when it can): whoever created it or can write in it
    decides what every compile and run loads."""
    try:
        st = root.lstat()
    except FileNotFoundError:
        return ""  # nothing to use yet; prepare creates it
    except OSError as exc:
        return str(exc)
    return _unsafe_stat(st, "the root")


def _unsafe_stat(st: os.stat_result, what: str) -> str:
    if stat.S_ISLNK(st.st_mode):
        return f"{what} is a symbolic link"
    if not stat.S_ISDIR(st.st_mode):
        return f"{what} is not a folder"
    if st.st_uid != os.geteuid():
        return f"{what} belongs to uid {st.st_uid}, not to this user"
    if st.st_mode & 0o022:
        return f"{what} is writable by others (mode {st.st_mode & 0o777:o})"
    return ""


def _unsafe_artifact(root: Path, link: Path) -> str:
    """Why the artifact at `link` cannot be trusted ("" when it can, or is absent): a link
    must name a version folder of its own inside the root; the folder must be ours."""
    try:
        st = link.lstat()
    except FileNotFoundError:
        return ""
    except OSError as exc:
        return str(exc)
    if stat.S_ISLNK(st.st_mode):
        target = os.readlink(link)
        prefix = f".v-{link.name}-"
        if not (target.startswith(prefix) and _LEFTOVER.fullmatch(target[len(prefix) :])):
            return f"{link.name} points at {target!r}, not at a version inside the root"
        try:
            st = (root / target).lstat()
        except OSError as exc:
            return str(exc)
    return _unsafe_stat(st, link.name)


def _sizes(folder: Path) -> dict[str, int]:
    return {
        str(path.relative_to(folder)): path.stat().st_size
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.name not in (STAMP, MANIFEST)
    }


def _read_manifest(folder: Path) -> dict[str, int] | None:
    try:
        value = json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(value, dict) or not value:
        return None
    if not all(isinstance(k, str) and isinstance(v, int) for k, v in value.items()):
        return None
    return value


def _intact(folder: Path, manifest: dict[str, int]) -> bool:
    """Whether the files are still as built (a stat each): a JVM crashes, printing to
    stdout, on a truncated archive; g++ fails every compile on a truncated .gch."""
    try:
        return all((folder / name).stat().st_size == size for name, size in manifest.items())
    except OSError:
        return False


def _write(path: Path, text: str) -> None:
    path.write_text(text)
    path.chmod(0o644)


def _sweep(root: Path, name: str) -> None:
    """Remove what builds of `name` left behind when their process died (a worker stopped
    mid-build leaves a staging folder of up to 100 MB), and versions replaced more than
    OLD_VERSION_SECONDS ago (long enough for any run that bound one to end). Called under
    the artifact's lock: no build of it is running."""
    current = root / name
    try:
        target = os.readlink(current) if current.is_symlink() else ""
        replaced_at = current.lstat().st_mtime
    except OSError:
        target, replaced_at = "", 0.0
    old_enough = time.time() - replaced_at > OLD_VERSION_SECONDS
    for prefix in (f".tmp-{name}-", f".old-{name}-", f".link-{name}-", f".v-{name}-"):
        for path in root.glob(f"{prefix}*"):
            if not _LEFTOVER.fullmatch(path.name[len(prefix) :]):  # another artifact's
                continue
            if prefix == f".v-{name}-" and (path.name == target or not old_enough):
                continue
            if path.is_symlink() or path.is_file():
                path.unlink(missing_ok=True)
            else:
                shutil.rmtree(path, ignore_errors=True)


OLD_VERSION_SECONDS = 600.0
_LEFTOVER = re.compile(r"[0-9a-f]{32}")


def _read_stamp(folder: Path) -> str | None:
    try:
        value = json.loads((folder / STAMP).read_text()).get("stamp")
    except (OSError, ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None


def _readable(folder: Path) -> None:
    for top, dirs, files in os.walk(folder):
        for name in dirs:
            os.chmod(os.path.join(top, name), 0o755)  # noqa: S103 - read through binds
        for name in files:
            os.chmod(os.path.join(top, name), 0o644)


def _install(staging: Path, folder: Path) -> None:
    """Make `staging` the artifact: it becomes a version folder (`.v-<name>-<hex>`) and
    `folder`, a symbolic link, is pointed at it in one rename. A compile starting meanwhile
    binds the old version or the new one, never a folder half gone; the old version is
    removed by a later prepare (_sweep)."""
    version = folder.with_name(f".v-{folder.name}-{uuid.uuid4().hex}")
    staging.rename(version)
    link = folder.with_name(f".link-{folder.name}-{uuid.uuid4().hex}")
    os.symlink(version.name, link)
    if folder.is_dir() and not folder.is_symlink():  # a folder of the layout before links
        folder.rename(folder.with_name(f".old-{folder.name}-{uuid.uuid4().hex}"))
    os.replace(link, folder)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


PREBUILTS = Prebuilts()  # this host's, for judges that are not given another


def probe_run(
    sandbox: Sandbox,
    argv: Sequence[str],
    files: dict[str, bytes],
    binds: Sequence[Bind],
    *,
    memory: int = 1024 << 20,
    processes: int = 64,
) -> tuple[int | None, bytes]:
    """Run a probe command in a fresh sandbox box holding `files`: its exit code and its
    output (stdout then stderr)."""
    with sandbox.box() as box:
        for name, data in files.items():
            box.put(name, data)
        run = sandbox.run(
            list(argv),
            box,
            Limits(
                cpu_time=30, wall_time=60, memory=memory, processes=processes, tmp_size=256 << 20
            ),  # fmt: skip
            binds=list(binds),
        )
    return run.exit_code, run.stdout + run.stderr
