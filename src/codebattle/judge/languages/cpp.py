"""C++17 with g++ -O2, linked statically when the static libraries are there (faster start).

The address space is limited to the memory limit (RLIMIT_AS, as DMOJ and Kattis do): a
`new char[limit]` or a vector that large fails at once with std::bad_alloc, reported as MLE,
instead of running on with pages the cgroup only counts once they are touched. The program's
code, libc and the stack it uses count within the limit (about 2 MiB for a static binary).
"""

from pathlib import Path

from codebattle.judge.languages.base import Language

_STATIC = ("-static",) if any(Path("/usr/lib/gcc").glob("*/*/libstdc++.a")) else ()


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
        "/usr/bin/g++",
        "-std=gnu++17",
        "-O2",
        "-pipe",
        "-fdiagnostics-color=never",
        "-fmax-errors=20",
        *_STATIC,
        "-o",
        "out/main",
        "main.cpp",
    ),
    run_argv=("/prog/main",),
    version_argv=("/usr/bin/g++", "--version"),
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
)
