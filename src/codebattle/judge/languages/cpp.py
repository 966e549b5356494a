"""C++17 with g++ -O2, linked statically when the static libraries are there (faster start)."""

from pathlib import Path

from codebattle.judge.languages.base import Language

_STATIC = ("-static",) if any(Path("/usr/lib/gcc").glob("*/*/libstdc++.a")) else ()

LANGUAGE = Language(
    name="cpp",
    title="C++17 (g++)",
    extensions=(".cpp", ".cc", ".cxx"),
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
    template=(
        "#include <bits/stdc++.h>\nusing namespace std;\n\nint main() {\n"
        "    ios::sync_with_stdio(false);\n    cin.tie(nullptr);\n"
        "    // Solve the problem here and print the answer.\n    return 0;\n}\n"
    ),
    package_template="solution.cpp",
    validator_extensions=(".cpp", ".cc"),
    package_codes=("cpp",),
    fence_tags=frozenset({"cpp", "c++", "cxx", "cc", "c++17"}),
    prompt_notes=("Use only the C++ standard library; the code is compiled with g++.",),
)
