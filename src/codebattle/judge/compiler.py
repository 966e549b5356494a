"""Compiles sources in the sandbox, with a cache keyed by (language, toolchain, source hash).

A submission is its main source plus any extra files (the other files of a multi-file
submission, a package's include/ files), by relative path. The extra sources in the
language are compiled together with the main one (C++ and Java); every extra file is also
copied next to the compiled program, in /prog, so that Python imports its sibling modules
and any program finds its data files there.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from codebattle.judge.languages.base import Language
from codebattle.judge.prebuilt import PREBUILTS, Prebuilts, Ready, with_args
from codebattle.judge.sandbox import (
    UNLIMITED,
    Bind,
    Limits,
    RunResult,
    Sandbox,
    SandboxError,
    copy_box_tree,
)

MiB = 1 << 20
COMPILE_OUTPUT_LINES = 50
COMPILE_OUTPUT_BYTES = 8 * 1024
# Part of the cache key: bumped when what a cached entry holds changes (2: extra files are
# compiled together and copied next to the program).
CACHE_LAYOUT = "2"


@dataclass(frozen=True)
class CompileLimits:
    cpu_time: float = 30.0
    wall_time: float = 45.0
    memory: int = 1024 * MiB
    output: int = 64 * MiB  # largest artifact set


@dataclass(frozen=True)
class Program:
    """A compiled program, ready to run from `artifacts` (bound read-only at /prog)."""

    language: Language
    artifacts: Path
    main: str
    # Where the program runs when not in the sandbox's /box: a submission with files of
    # its own or included runs in /prog, among them, as the format's working directory.
    workdir: str | None = None
    # The runtime's prebuilt artifacts that were valid when the program was loaded.
    prebuilt: tuple[Ready, ...] = ()

    def argv(self, memory_limit: int, args: tuple[str, ...] = ()) -> list[str]:
        memory_mb = str(max(16, memory_limit // MiB))
        out = with_args(
            [
                a.replace("{memory_mb}", memory_mb).replace("{main}", self.main)
                for a in self.language.run_argv
            ],
            self.prebuilt,
        )
        if self.workdir is not None:  # the shell changes folder and becomes the program
            out = ["/bin/sh", "-c", 'cd "$0" && exec "$@"', self.workdir, *out]
        return [*out, *args]

    def binds(self) -> list[Bind]:
        return [
            Bind(self.artifacts, "/prog"),
            *(Bind(p, str(p)) for p in self.language.bind_paths()),
            *(ready.bind for ready in self.prebuilt),
        ]


def program_limits(
    program: Program, cpu_time: float, memory: int, output: int, file_size: int | None = None
) -> Limits:
    """Limits of one run: the wall clock allows for a loaded machine; the runtime's own
    memory (the JVM's) comes on top of the problem's limit; the stack may use all of it.
    `file_size` also caps the test data bubblewrap copies in for validators.

    Under an address-space limit (C++) the stack has no rlimit of its own: glibc gives
    every new thread a stack of RLIMIT_STACK bytes, which at the memory limit could never
    be mapped (std::thread failed with EAGAIN). Unlimited, threads get glibc's 2 MiB and
    the main stack still grows to what the address space leaves (docs/sandbox.md)."""
    address_space = program.language.address_space(memory)
    return Limits(
        cpu_time=cpu_time,
        wall_time=cpu_time * 2 + 2,
        memory=memory + program.language.memory_overhead,
        processes=program.language.processes,
        output=output,
        file_size=Limits.file_size if file_size is None else file_size,
        stack=memory if address_space is None else UNLIMITED,
        address_space=address_space,
    )


@dataclass(frozen=True)
class CompileResult:
    program: Program | None
    output: str  # the compiler's messages, trimmed
    internal_error: str = ""  # a judge fault, not the player's

    @property
    def ok(self) -> bool:
        return self.program is not None


def trim_output(data: bytes) -> str:
    text = data.decode("utf-8", errors="replace")
    lines = text.splitlines()
    cut = len(lines) > COMPILE_OUTPUT_LINES or len(text) > COMPILE_OUTPUT_BYTES
    text = "\n".join(lines[:COMPILE_OUTPUT_LINES])[:COMPILE_OUTPUT_BYTES]
    return text + ("\n... (output trimmed)" if cut else "")


class Compiler:
    """`prebuilt`: where the languages' prebuilt artifacts are (judge/prebuilt.py); they
    make compiling and starting faster and change nothing else, so the cache key leaves
    them out."""

    def __init__(
        self,
        sandbox: Sandbox,
        cache_root: Path | None = None,
        limits: CompileLimits | None = None,
        prebuilt: Prebuilts | None = None,
    ) -> None:
        self.sandbox = sandbox
        self.cache_root = cache_root or sandbox.root / "cache"
        self.cache_root.mkdir(mode=0o755, parents=True, exist_ok=True)
        self.limits = limits or CompileLimits()
        self.prebuilt = PREBUILTS if prebuilt is None else prebuilt

    def key(self, language: Language, code: str, extra: Mapping[str, bytes]) -> str:
        digest = hashlib.sha256()
        for part in (
            CACHE_LAYOUT,
            language.name,
            language.version,
            repr(language.compile_argv),
            repr(language.run_argv),
            code,
        ):
            digest.update(part.encode("utf-8", errors="surrogatepass"))
            digest.update(b"\0")
        for name in sorted(extra):
            digest.update(name.encode() + b"\0" + hashlib.sha256(extra[name]).digest())
        return digest.hexdigest()

    def compile(
        self, language: Language, code: str, extra_files: Mapping[str, bytes] | None = None
    ) -> CompileResult:
        extra = dict(extra_files or {})
        bad = next((name for name in extra if not safe_relative_path(name)), None)
        if bad is not None:
            return CompileResult(None, f"invalid file name {bad!r}: use a relative path")
        reserved = next((name for name in extra if reserved_name(language, name)), None)
        if reserved is not None:
            return CompileResult(
                None, f"{reserved} is a name the judge uses while compiling; rename the file"
            )
        main_source = language.source_name(code)
        if main_source in extra:
            return CompileResult(
                None, f"{main_source} is the main file's name; another file cannot use it"
            )
        key = self.key(language, code, extra)
        entry = self.cache_root / language.name / key[:2] / key
        main = language.main_name(code)
        cached = self._load(entry, language, main)
        if cached is not None:
            return cached
        try:
            result, artifacts = self._compile(language, code, extra)
        except SandboxError as exc:
            return CompileResult(None, "", internal_error=str(exc))
        self._store(entry, result, artifacts)
        return self._load(entry, language, main) or result

    def _compile(
        self, language: Language, code: str, extra: Mapping[str, bytes]
    ) -> tuple[CompileResult, Path | None]:
        source = language.source_name(code)
        data = code.encode("utf-8", errors="surrogateescape")
        if language.compile_argv is None:  # the source itself is what runs
            staging = self._staging()
            (staging / source).write_bytes(data)
            add_files(staging, extra)
            return CompileResult(None, ""), staging
        ready = self.prebuilt.ready(language.prebuilt, "compile")
        result, artifacts, run = self._compile_in_box(language, source, data, extra, ready)
        blamed = [r for r in ready if _blames(run, r)] if artifacts is None else []
        if blamed:
            # The artifact may be damaged in a way its manifest cannot show (a .gch of the
            # right size, garbage): what is kept and cached is the compile without it, so
            # that an artifact never turns into a player's CE.
            again, artifacts, _ = self._compile_in_box(language, source, data, extra, [])
            if artifacts is not None:
                for r in blamed:
                    self.prebuilt.suspect(r.artifact, result.output)
            return again, artifacts
        return result, artifacts

    def _compile_in_box(
        self,
        language: Language,
        source: str,
        data: bytes,
        extra: Mapping[str, bytes],
        ready: list[Ready],
    ) -> tuple[CompileResult, Path | None, RunResult]:
        lim = self.limits
        assert language.compile_argv is not None
        with self.sandbox.box() as box:
            box.put(source, data)
            for name, extra_data in extra.items():
                (box.path / name).parent.mkdir(parents=True, exist_ok=True)
                box.put(name, extra_data)
            out_dir = box.path / "out"
            out_dir.mkdir()
            owner = self.sandbox.drop_to if self.sandbox.drop_to is not None else os.geteuid()
            os.chown(out_dir, owner, owner)
            argv = with_args([a.replace("{source}", source) for a in language.compile_argv], ready)
            # The other sources in the language are compiled with the main one; a name
            # such as `-o.cpp` or `@args.java` is a file, not an option (`./-o.cpp`).
            argv += [
                f"./{n}" if n.startswith(("-", "@")) else n
                for n in sorted(extra)
                if PurePosixPath(n).suffix in language.extensions
            ]
            run = self.sandbox.run(
                argv,
                box,
                Limits(
                    cpu_time=lim.cpu_time,
                    wall_time=lim.wall_time,
                    memory=lim.memory,
                    processes=language.compile_processes,
                    output=COMPILE_OUTPUT_BYTES * 4,
                    file_size=lim.output,
                    tmp_size=256 * MiB,
                ),
                binds=[
                    *(Bind(p, str(p)) for p in language.bind_paths()),
                    *(r.bind for r in ready),
                ],
                env=language.env,
            )
            messages = trim_output(run.stdout + run.stderr)

            def refused(text: str) -> tuple[CompileResult, None, RunResult]:
                return CompileResult(None, text), None, run

            if run.cpu_exceeded or run.wall_exceeded:
                return refused(
                    _limit_note(messages, f"Compilation took too long (limit {lim.cpu_time:g} s)")
                )
            if run.memory_exceeded:
                return refused(
                    _limit_note(
                        messages,
                        f"Compilation used too much memory (limit {lim.memory // MiB} MiB)",
                    )
                )
            if run.exit_code != 0:
                return refused(messages or f"compiler exited with {run.exit_code}")
            staging = self._staging()
            try:
                if copy_box_tree(box, "out", staging, 10_000, lim.output) == 0:
                    shutil.rmtree(staging)
                    return refused(messages or "the compiler produced nothing")
            except SandboxError as exc:
                shutil.rmtree(staging)
                return refused(f"{messages}\n{exc}".strip())
            add_files(staging, extra)
            return CompileResult(None, messages), staging, run

    def _staging(self) -> Path:
        path = Path(tempfile.mkdtemp(dir=self.cache_root))
        path.chmod(0o755)  # the sandbox's nobody reads artifacts through a read-only bind
        return path

    def _store(self, entry: Path, result: CompileResult, artifacts: Path | None) -> None:
        if entry.exists():
            if artifacts is not None:
                shutil.rmtree(artifacts, ignore_errors=True)
            return
        entry.parent.mkdir(parents=True, exist_ok=True)
        tmp = entry.parent / f".tmp-{uuid.uuid4().hex}"
        tmp.mkdir()
        if artifacts is not None:
            artifacts.rename(tmp / "out")
        (tmp / "result.json").write_text(
            json.dumps({"ok": artifacts is not None, "output": result.output})
        )
        try:
            tmp.rename(entry)
        except OSError:  # another worker stored the same key first
            shutil.rmtree(tmp, ignore_errors=True)

    def _load(self, entry: Path, language: Language, main: str) -> CompileResult | None:
        try:
            data = json.loads((entry / "result.json").read_text())
        except (OSError, ValueError):
            return None
        program = None
        if data.get("ok"):
            runtime = tuple(self.prebuilt.ready(language.prebuilt, "run"))
            program = Program(language, entry / "out", main, prebuilt=runtime)
        return CompileResult(program, str(data.get("output", "")))


def safe_relative_path(name: str) -> bool:
    """Whether `name` is a plain relative path ("util.py", "lib/graph.h"): the extra files
    of a submission may come from players."""
    path = PurePosixPath(name)
    return (
        bool(name)
        and "\\" not in name
        and "\0" not in name
        and not path.is_absolute()
        and all(part not in ("", ".", "..") for part in path.parts)
    )


def reserved_name(language: Language, name: str) -> bool:
    """Whether an extra file's `name` is the judge's own while compiling: the `out` folder
    the compiler writes to, or a file the language's build makes (Python's main.py.marshal,
    which the run would load instead of main.py)."""
    if language.compile_argv is not None and PurePosixPath(name).parts[0] == "out":
        return True
    return name in language.reserved_names


def add_files(folder: Path, files: Mapping[str, bytes]) -> None:
    """Copy the extra files next to the compiled program; what the compiler wrote wins."""
    for name, data in files.items():
        target = folder / name
        if target.exists():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        for parent in target.relative_to(folder).parents:
            (folder / parent).chmod(0o755)  # the sandbox's nobody reads them through /prog
        target.write_bytes(data)
        target.chmod(0o644)


def _blames(run: RunResult, ready: Ready) -> bool:
    """Whether a failed compile may be the artifact's doing: its compiler died of a signal
    (a JVM on a bad archive) or its output is one the artifact may cause (g++: "cannot
    read PCH file"; Prebuilt.blamed). Only these are tried again: a player's own compile
    error, the common case, costs no second compile."""
    if run.cpu_exceeded or run.wall_exceeded or run.memory_exceeded:
        return False
    return run.signal is not None or ready.artifact.blamed(run.stdout + run.stderr)


def _limit_note(messages: str, note: str) -> str:
    return f"{note}\n{messages}".strip()
