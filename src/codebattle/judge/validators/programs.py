"""How a package's validator or grader program is built, from what the package holds
(2025-09 "Programs"; legacy packages hold the same kinds):

- one source file (C++ or Python): compiled like a submission; a `.c` file is compiled as
  C by gcc (-std=gnu11 -O2, static when the C library's static archive is there): C is a
  validator language here, not a player language;
- a folder of C++ sources (and headers): every source compiled together into one program;
  with C sources among them, each `.c` file is compiled as C by gcc, the others by g++,
  and g++ links them (gcc when all are C);
- a folder of Python files with __init__.py and __main__.py: a package run as `python3 -m`;
  a folder with one Python file: that file;
- a folder with `build` and/or `run` scripts: `build` runs (in the sandbox, in a copy of the
  folder), then `run` is the program, started in that folder;
- a `.ctd` file (checktestdata, input validators only): translated into a standalone
  Python program by the checktestdata package (decision 0020), then run like one.

Each kind becomes a Language the compiler knows how to build and the sandbox how to run, so
validators are built in the sandbox and cached like submissions (judge/compiler.py).
"""

from __future__ import annotations

import dataclasses
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codebattle.judge import languages
from codebattle.judge.languages.base import Language

BUILD_RUN = "build-run"  # ValidatorSource.language of a folder with build/run scripts
CHECKTESTDATA = "checktestdata"
KINDS = (BUILD_RUN, CHECKTESTDATA)  # the validator kinds that are not a submission language
PATH_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"}

_PY = "/usr/bin/python3"
_GCC = "/usr/bin/gcc"
_C_FLAGS = ("-std=gnu11", "-O2", "-pipe", "-fdiagnostics-color=never", "-fmax-errors=20")
# Link C statically when the static C library is there, as C++ is when libstdc++.a is.
_C_STATIC = any(Path("/usr/lib").glob("*/libc.a")) or Path("/usr/lib/libc.a").exists()


@dataclass(frozen=True)
class BuildPlan:
    """What to give the compiler: the language, the main file's text, the other files."""

    language: Language
    code: str
    extra: dict[str, bytes]


class ProgramError(Exception):
    """A validator folder the judge cannot build; the message names the file."""


def plan(path: Path, kind: str, substitute: Callable[[bytes], bytes] | None = None) -> BuildPlan:
    """How to build the validator at `path` (a file or folder) of kind `kind` (a language
    id or one of KINDS). `substitute` replaces the package's constants (2025-09
    "Constants": validators' files have {{name}} replaced) in every file."""
    built = _plan(path, kind)
    if substitute is None:
        return built
    code = substitute(built.code.encode(errors="surrogateescape"))
    extra = {name: substitute(data) for name, data in built.extra.items()}
    return BuildPlan(built.language, code.decode(errors="surrogateescape"), extra)


def _plan(path: Path, kind: str) -> BuildPlan:
    if kind == CHECKTESTDATA:
        return _checktestdata(path)
    files = _files(path)
    if kind == BUILD_RUN:
        return _build_run(path, files)
    language = languages.get(kind)
    if language.name == "cpp" and any(_is_c(name) for name in files):
        return _c_program(path, files, language)
    if not path.is_dir():
        return BuildPlan(language, _text(path), {})
    sources = sorted(name for name in files if Path(name).suffix in language.extensions)
    if language.name == "python":
        return _python_folder(path, files, sources, language)
    if language.name == "cpp":
        return _cpp_folder(path, files, language)
    if len(sources) != 1:
        raise ProgramError(
            f"{path}: expected exactly one {language.title} source, found {len(sources)}"
        )
    main = sources[0]
    return BuildPlan(language, files.pop(main).decode(errors="surrogateescape"), files)


def _plain(language: Language, **changes: Any) -> Language:
    """A plain Language with `language`'s settings and `changes`: a language module's own
    subclass (its source and main file names) does not apply to these programs."""
    settings = {f.name: getattr(language, f.name) for f in dataclasses.fields(Language)}
    # Nor its prebuilt artifacts: their options are for its own compiler command, and these
    # programs are built by a script (and rarely: their builds are cached).
    return Language(**{**settings, "prebuilt": (), **changes})


def _files(path: Path) -> dict[str, bytes]:
    """The program's files by relative path (a single file counts as a folder holding it).
    Hidden files (below the program's folder) are left out; a file whose symlink leads
    out of the package is refused, so no judge file is built into a program."""
    root = _package_root(path)
    if not path.is_dir():
        return {path.name: _inside(path, root).read_bytes()}
    files: dict[str, bytes] = {}
    for entry in sorted(path.rglob("*")):
        rel = entry.relative_to(path)
        if any(part.startswith(".") for part in rel.parts) or not entry.is_file():
            continue
        files[rel.as_posix()] = _inside(entry, root).read_bytes()
    return files


def _package_root(path: Path) -> Path:
    """The package holding the program at `path`: the nearest folder above it with a
    problem.yaml or data/ (else the folder holding the program)."""
    start = path.absolute()
    for folder in start.parents:
        if (folder / "problem.yaml").is_file() or (folder / "data").is_dir():
            return folder.resolve()
    return start.parent.resolve()


def _inside(entry: Path, root: Path) -> Path:
    try:
        target = entry.resolve(strict=True)
    except (OSError, RuntimeError) as exc:
        raise ProgramError(f"{entry}: broken or looping symlink") from exc
    if not target.is_relative_to(root):
        raise ProgramError(f"{entry}: symlink points outside the package")
    return target


def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="surrogateescape")


def _python_folder(
    path: Path, files: dict[str, bytes], sources: list[str], language: Language
) -> BuildPlan:
    if "__main__.py" not in files:
        if len(sources) != 1:
            raise ProgramError(
                f"{path}: a folder of several Python files needs __init__.py and __main__.py"
            )
        main = sources[0]
        return BuildPlan(language, files.pop(main).decode(errors="surrogateescape"), files)
    if "__init__.py" not in files:
        raise ProgramError(f"{path}: a Python package needs __init__.py besides __main__.py")
    # The folder is bound at /prog: with / on the path it is the package `prog`, so
    # __main__.py's relative imports (`from . import lib`) work as under `python3 -m`.
    check = (
        "import os, shutil, sys\n"
        "for name in sorted(os.listdir('.')):\n"
        "    if name.endswith('.py'):\n"
        "        try:\n"
        "            compile(open(name, 'rb').read(), name, 'exec')\n"
        "        except (SyntaxError, ValueError) as e:\n"
        "            print(f'{name}: {type(e).__name__}: {e}'); sys.exit(1)\n"
        "    if os.path.isfile(name):\n"
        "        shutil.copy(name, 'out/' + name)\n"
    )
    runner = (
        "import runpy, sys; sys.path[:0] = ['/']; sys.argv[0] = '/prog/__main__.py'; "
        "runpy.run_module('prog', run_name='__main__', alter_sys=True)"
    )
    package_language = _plain(
        language,
        name="python-package",
        source_file="__main__",
        compile_argv=(_PY, "-I", "-S", "-B", "-c", check),
        run_argv=(_PY, "-I", "-S", "-B", "-c", runner),
    )
    main = files.pop("__main__.py").decode(errors="surrogateescape")
    return BuildPlan(package_language, main, files)


def _is_c(name: str) -> bool:
    """A C source at the top of a validator folder (or the validator's single file)."""
    return Path(name).suffix == ".c" and "/" not in name


def _c_program(path: Path, files: dict[str, bytes], cpp: Language) -> BuildPlan:
    """A `.c` file, or a folder with C sources (and perhaps C++ ones): each source compiled
    by its own compiler (C as C, not as C++), then linked into one program. The compiler
    passes the main source and the other sources in the extensions to the build script."""
    suffixes = tuple(dict.fromkeys((".c", *cpp.extensions)))
    sources = sorted(n for n in files if Path(n).suffix in suffixes and "/" not in n)
    main = next((n for n in sources if Path(n).stem == "main"), sources[0])
    argv = cpp.compile_argv
    assert argv is not None and "-o" in argv
    cpp_flags = [a for a in argv[1 : argv.index("-o")] if a != "-static"]
    only_c = all(Path(n).suffix == ".c" for n in sources)
    static = ("-static",) if (_C_STATIC if only_c else "-static" in argv) else ()
    linker = _GCC if only_c else argv[0]
    script = (
        "set -e\n"
        "i=0; objects=''\n"
        'for f in "$@"; do\n'
        "  i=$((i + 1)); o=/tmp/object$i.o\n"
        '  case "$f" in\n'
        f'    *.c) {_GCC} {" ".join(_C_FLAGS)} -c "$f" -o "$o" ;;\n'
        f'    *) {argv[0]} {" ".join(cpp_flags)} -c "$f" -o "$o" ;;\n'
        "  esac\n"
        '  objects="$objects $o"\n'
        "done\n"
        f"exec {linker} {' '.join(static)} -o out/main $objects -lm\n"
    )
    c_language = _plain(
        cpp,
        name="c-program",
        title="C (gcc)",
        source_file=Path(main).stem,
        extensions=tuple(dict.fromkeys((Path(main).suffix, *suffixes))),
        compile_argv=("/bin/sh", "-c", script, "build", main),
        version_argv=(_GCC, "--version"),
        validator_extensions=(".c",),
    )
    text = files.pop(main).decode(errors="surrogateescape")
    return BuildPlan(c_language, text, files)


def _cpp_folder(path: Path, files: dict[str, bytes], language: Language) -> BuildPlan:
    """Every C++ source of the folder compiled together (the compiler adds the extra files
    in the language's extensions)."""
    suffixes = language.extensions
    sources = sorted(n for n in files if Path(n).suffix in suffixes and "/" not in n)
    if not sources:
        raise ProgramError(f"{path}: no C++ source")
    main = next((n for n in sources if Path(n).stem == "main"), sources[0])
    argv = language.compile_argv
    assert argv is not None and argv[-1] == language.source_name("")
    folder_language = _plain(
        language,
        name="cpp-folder",
        source_file=Path(main).stem,
        extensions=tuple(dict.fromkeys((Path(main).suffix, *suffixes))),
        compile_argv=(*argv[:-1], main),
    )
    text = files.pop(main).decode(errors="surrogateescape")
    return BuildPlan(folder_language, text, files)


def _build_run(path: Path, files: dict[str, bytes]) -> BuildPlan:
    """`build` runs in the box holding the folder's files; the folder (with what `build`
    made) is the program, and `run` starts it there."""
    main = "build" if "build" in files else "run"
    if main not in files:  # the discovery only gives folders that hold one of them
        raise ProgramError(f"{path}: neither a build nor a run script")
    build = (
        "set -e\n"
        'for f in * .[!.]*; do [ -e "$f" ] && [ "$f" != out ] && cp -pR -- "$f" out/; done\n'
        "cd out\n"
        "chmod +x build run 2>/dev/null || true\n"
        "if [ -e build ]; then ./build; fi\n"
        "if [ ! -x run ]; then echo 'no executable run script after build' >&2; exit 1; fi\n"
    )
    cpp, python = languages.get("cpp"), languages.get("python")
    language = Language(
        name=BUILD_RUN,
        title="build and run scripts",
        extensions=("",),
        compile_argv=("/bin/sh", "-c", build),
        run_argv=("/bin/sh", "-c", 'cd /prog && exec ./run "$@"', "run"),
        version_argv=cpp.version_argv,
        binds=tuple(dict.fromkeys((*cpp.binds, *python.binds))),
        processes=max(cpp.processes, python.processes),
        compile_processes=max(cpp.compile_processes, python.compile_processes),
        source_file=main,
        env={**PATH_ENV, **cpp.env, **python.env},
    )
    return BuildPlan(language, files.pop(main).decode(errors="surrogateescape"), files)


def checktestdata_library() -> Path | None:
    """The installed checktestdata package's folder, or None."""
    spec = importlib.util.find_spec("checktestdata")
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent


_RUN_WITHOUT_ARGUMENTS = (
    "import runpy, sys; sys.argv = ['/prog/main.py']; "
    "runpy.run_path('/prog/main.py', run_name='__main__')"
)


def _checktestdata(path: Path) -> BuildPlan:
    library = checktestdata_library()
    if library is None:
        raise ProgramError(f"{path}: checktestdata is not installed on this judge")
    # Translating the script writes a standalone Python program (the checktestdata library
    # inlined, exit codes 42 and 43), so running it needs nothing beyond Python. The library
    # goes into the box with the script rather than being bound from where it is installed:
    # a virtualenv may sit in a folder the sandbox's user cannot enter.
    tool = {
        f"{CHECKTESTDATA}/{source.name}": source.read_bytes()
        for source in sorted(library.glob("*.py"))
    }
    convert = (
        "import sys; sys.path[:0] = ['/box']; "
        "from checktestdata.pyctd import main; "
        "sys.argv = ['checktestdata', '--convert', 'out/main.py', 'main.ctd']; main()"
    )
    python = languages.get("python")
    language = _plain(
        python,
        name=CHECKTESTDATA,
        title="checktestdata",
        extensions=(".ctd",),
        compile_argv=(_PY, "-I", "-S", "-B", "-c", convert),
        # checktestdata takes no arguments (it would read the first as its input file):
        # the input validator arguments of the case are dropped, as problemtools does.
        run_argv=(_PY, "-I", "-S", "-B", "-c", _RUN_WITHOUT_ARGUMENTS),
        validator_extensions=(".ctd",),
    )
    return BuildPlan(language, _text(path), tool)
