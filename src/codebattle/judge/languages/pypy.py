"""PyPy 3, Debian's pypy3 (Python 3.9): Python programs that need speed.

The same scripts as CPython (python.py): `exit()` and `quit()` exist, modules beside main.py
are importable, no site-packages. It has no file extension of its own (".py" stays CPython):
players pick it in the menu, packages name it `language: pypy3` in submissions.yaml.
Memory is the sandbox's cgroup alone: PyPy's GC grows its heap without knowing the limit,
and a program that outgrows the limit is stopped there (MLE).
"""

from codebattle.judge.languages.python import (
    MARSHAL,
    TEMPLATE,
    PythonLanguage,
    check_argv,
    run_argv,
)

LANGUAGE = PythonLanguage(
    name="pypy",
    title="PyPy 3",
    extensions=(),
    compile_argv=check_argv("/usr/bin/pypy3"),
    run_argv=run_argv("/usr/bin/pypy3"),
    version_argv=("/usr/bin/pypy3", "--version"),
    processes=16,
    template=TEMPLATE,
    package_template="solution.py",
    package_codes=("pypy3",),
    reserved_names=(MARSHAL,),
    fence_tags=frozenset({"pypy", "pypy3", "python", "py", "python3", "py3"}),
    prompt_notes=(
        "Use only the Python standard library.",
        "The code runs on PyPy 3.9: Python 3.9 syntax (no match statements).",
    ),
)
