"""What a language is to the judge. Each language is one module in this package."""

from __future__ import annotations

import functools
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from codebattle.judge.prebuilt import Prebuilt

MiB = 1 << 20


@dataclass(frozen=True)
class Language:
    """How to compile and run one language inside the sandbox.

    Compilation sees the source at /box/<source_name> and writes what running needs to
    /box/out; running sees that folder read-only at /prog, with /box as the working directory.
    """

    name: str  # "python", "cpp", "java": the id users and the API use
    title: str  # shown to users
    extensions: tuple[str, ...]  # matched case-sensitively: ".C" is C++, ".c" would be C
    compile_argv: tuple[str, ...] | None  # None: the source itself is the artifact
    run_argv: tuple[str, ...]  # "{memory_mb}" and "{main}" are filled in per run
    version_argv: tuple[str, ...]
    binds: tuple[str, ...] = ()  # extra host paths the runtime reads (bound read-only)
    memory_overhead: int = 0  # runtime memory beyond the problem's limit (e.g. the JVM)
    # RLIMIT_AS of a run, as bytes above the problem's memory limit; None: no address-space
    # limit, the cgroup alone (runtimes that reserve more than they use: the JVM, PyPy).
    # With it a huge allocation fails at once instead of the program running on with
    # untouched pages the cgroup never sees (docs/sandbox.md, "Memory").
    address_space_slack: int | None = None
    processes: int = 32  # processes and threads a normal program needs
    compile_processes: int = 32
    source_file: str = "main"  # name (without extension) of the source file in the box
    template: str = ""  # starter code shown in the editor when a package brings none
    package_template: str = ""  # a package's own starter code: templates/<this file>
    validator_extensions: tuple[str, ...] = ()  # package validators may be written in these
    fence_tags: frozenset[str] = frozenset()  # code block info strings that mark this language
    prompt_notes: tuple[str, ...] = ()  # what the AI opponent's model is told of this language
    env: dict[str, str] = field(default_factory=dict)
    # The codes problem packages use for this language (the format's languages table:
    # submissions.yaml `language`, problem.yaml `languages`, include/<code>/), first = own.
    package_codes: tuple[str, ...] = ()
    # Files the build writes next to the program; a submitted file may not use these names.
    reserved_names: tuple[str, ...] = ()
    # Artifacts built once per toolchain that make compiling or starting faster (the C++
    # precompiled header, Java's class-data archives): judge/prebuilt.py.
    prebuilt: tuple[Prebuilt, ...] = ()

    def source_name(self, code: str) -> str:
        return f"{self.source_file}{self.extensions[0]}"

    def main_name(self, code: str) -> str:
        """What run_argv's {main} means for this source (Java: the main class)."""
        return self.source_name(code)

    def address_space(self, memory: int) -> int | None:
        """The address-space limit of a run under a `memory` byte limit, or None."""
        if self.address_space_slack is None:
            return None
        return memory + self.address_space_slack

    def ran_out_of_memory(self, stderr: bytes) -> bool:
        """Whether a failed run's stderr shows the runtime's own out-of-memory error (a
        heap limit the runtime enforces before the sandbox's memory limit is reached)."""
        return False

    def available(self) -> bool:
        return shutil.which(self.version_argv[0]) is not None

    @functools.cached_property
    def version(self) -> str:
        """The toolchain's version line: part of the compile cache key."""
        try:
            out = subprocess.run(  # noqa: S603 - trusted host toolchain, argument list
                self.version_argv, capture_output=True, text=True, timeout=30, env={}
            )
        except (OSError, subprocess.TimeoutExpired):
            return "unavailable"
        text = (out.stdout or out.stderr).strip()
        return text.splitlines()[0] if text else "unknown"

    def bind_paths(self) -> list[Path]:
        return [Path(p) for p in self.binds if Path(p).exists()]
