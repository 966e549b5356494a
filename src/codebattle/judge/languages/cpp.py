"""C++17 with g++ -O2, linked statically when the static libraries are there (faster start).

The address space is limited to the memory limit (RLIMIT_AS, as DMOJ and Kattis do): a
`new char[limit]` or a vector that large fails at once with std::bad_alloc, reported as MLE,
instead of running on with pages the cgroup only counts once they are touched. The program's
code, libc and the stack it uses count within the limit (about 2 MiB for a static binary).

`<bits/stdc++.h>`, the include most competitive programs start with, is precompiled once per
toolchain with the flags submissions use (`PrecompiledHeader`): it takes most of a compile's
2 s, and the precompiled header brings that to a fraction (docs/judge-speed.md).
"""

from __future__ import annotations

import functools
import hashlib
import os
import subprocess
from pathlib import Path

from codebattle.judge.languages.base import Language
from codebattle.judge.prebuilt import BuildFailed, Prebuilt, probe_run
from codebattle.judge.sandbox import Bind, Sandbox

GXX = "/usr/bin/g++"
_STATIC = ("-static",) if any(Path("/usr/lib/gcc").glob("*/*/libstdc++.a")) else ()
# The flags that shape the code (a precompiled header is valid only for the same ones).
CODE_FLAGS = ("-std=gnu++17", "-O2")
HEADER = "bits/stdc++.h"
# Part of the stamp: bumped when what the artifact's folder holds changes (2: the .gch only,
# made from the toolchain's header in place).
LAYOUT = "2"


class PrecompiledHeader(Prebuilt):
    """`<bits/stdc++.h>` precompiled: a folder holding only `bits/stdc++.h.gch`, searched
    first (-isystem). g++ takes the .gch only when it was made by the same compiler with
    the same code flags and no macro defined before the include changes it; otherwise it
    goes on searching and reads the toolchain's header: a program compiles the same either
    way. The .gch is made from the toolchain's header where it is (not a copy), so that a
    diagnostic's include chain names that header, never the host's build folder."""

    name = "cpp-pch"
    stage = "compile"
    mount = "/opt/codebattle/cpp-pch"

    @functools.cache  # noqa: B019 - one instance, for the process's life
    def toolchain(self) -> tuple[str, ...]:
        return (os.path.realpath(GXX), _cc1plus(), self.header())

    def links(self) -> tuple[str, ...]:
        return (GXX,)

    def blamed(self, output: bytes) -> bool:
        # A .gch damaged past its valid header: "main.cpp:1: fatal error: cannot read PCH
        # file: Invalid argument", which names neither the file nor the mount.
        return b"PCH file" in output or super().blamed(output)

    def refresh(self) -> None:
        PrecompiledHeader.toolchain.cache_clear()
        LANGUAGE.__dict__.pop("version", None)  # functools.cached_property: run again

    def args(self) -> tuple[str, ...]:
        return ("-isystem", self.mount)

    def header(self) -> str:
        """Where the toolchain's <bits/stdc++.h> is ("" when it has none)."""
        try:
            out = subprocess.run(  # noqa: S603 - the host's compiler, argument list
                [GXX, *CODE_FLAGS, "-E", "-H", "-x", "c++", "-", "-o", "/dev/null"],
                input=f"#include <{HEADER}>\n", capture_output=True, text=True, timeout=60,
            )  # fmt: skip
        except (OSError, subprocess.TimeoutExpired):
            return ""
        first = out.stderr.splitlines()[0] if out.stderr else ""
        return first[2:] if first.startswith(". ") and first.endswith(HEADER) else ""

    def inputs(self) -> list[str]:
        header = self.header()
        digest = hashlib.sha256(Path(header).read_bytes()).hexdigest() if header else ""
        version = LANGUAGE.version
        return [LAYOUT, version, *map(str, self.identity()), repr(CODE_FLAGS), header, digest]

    def build(self, folder: Path) -> None:
        header = self.header()
        if not header:
            raise BuildFailed(f"{GXX} has no <{HEADER}>")
        (folder / "bits").mkdir()
        out = subprocess.run(  # noqa: S603 - the host's compiler on its own header
            [GXX, *CODE_FLAGS, "-x", "c++-header", header, "-o", str(folder / f"{HEADER}.gch")],
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        if out.returncode != 0:
            raise BuildFailed((out.stderr or out.stdout).strip()[:2000])

    def probe(self, sandbox: Sandbox, folder: Path) -> str | None:
        # As a submission is compiled (but for the output file), telling which header it read.
        flags = (LANGUAGE.compile_argv or ())[1:-3]
        argv = [GXX, *self.args(), *flags, "-H", "-Winvalid-pch", "-fsyntax-only", "main.cpp"]
        code, output = probe_run(
            sandbox,
            argv,
            {"main.cpp": f"#include <{HEADER}>\nint main() {{ std::vector<int> v; }}\n".encode()},
            [Bind(folder, self.mount)],
        )
        used = f"! {self.mount}/{HEADER}.gch".encode()
        if code == 0 and used in output:
            return None
        return output.decode(errors="replace").strip()[:2000] or f"g++ exited with {code}"


def _cc1plus() -> str:
    try:
        out = subprocess.run(  # noqa: S603 - the host's compiler
            [GXX, "-print-prog-name=cc1plus"], capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return out.stdout.strip()


class CppLanguage(Language):
    def ran_out_of_memory(self, stderr: bytes) -> bool:
        # An allocation over the address-space limit throws std::bad_alloc; uncaught, the
        # runtime says so on stderr before it aborts.
        return b"std::bad_alloc" in stderr


LANGUAGE = CppLanguage(
    name="cpp",
    title="C++17 (g++)",
    # The languages table's: ".C" is C++ (matched case-sensitively), ".c" would be C.
    extensions=(".cpp", ".cc", ".cxx", ".c++", ".C"),
    compile_argv=(
        GXX,
        *CODE_FLAGS,
        "-pipe",
        "-fdiagnostics-color=never",
        "-fmax-errors=20",
        *_STATIC,
        "-o",
        "out/main",
        "main.cpp",
    ),
    run_argv=("/prog/main",),
    version_argv=(GXX, "--version"),
    processes=16,
    compile_processes=16,
    address_space_slack=0,
    template=(
        "#include <bits/stdc++.h>\nusing namespace std;\n\nint main() {\n"
        "    ios::sync_with_stdio(false);\n    cin.tie(nullptr);\n"
        "    // Solve the problem here and print the answer.\n    return 0;\n}\n"
    ),
    package_template="solution.cpp",
    validator_extensions=(".cpp", ".cc", ".cxx", ".c++", ".C"),
    package_codes=("cpp",),
    fence_tags=frozenset({"cpp", "c++", "cxx", "cc", "c++17"}),
    prompt_notes=("Use only the C++ standard library; the code is compiled with g++.",),
    prebuilt=(PrecompiledHeader(),),
)
