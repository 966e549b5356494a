"""Python 3, the host's /usr/bin/python3, standard library only.

Programs run isolated: `-I` (no PYTHON* variables, no user site, not even the script's
folder on sys.path) and `-S` (no `site`: no site-packages or dist-packages, and no .pth
files to read at start-up). `site` would also have given the builtins that real solutions
use, `exit()` and `quit()` (and copyright, credits, license, help), and `python3 main.py`
would have put the program's folder first on sys.path, so that `import util` finds util.py
beside main.py. A short bootstrap (`-c`) does both, then runs main.py as `__main__`:
  - the code object comes from main.py.marshal, written when "compiling" (the syntax check):
    the builtin compile() would first build the whole `ast` type table, about 1 ms a run;
  - an uncaught exception is printed without the bootstrap's own frame, so a traceback
    reads as `python3 main.py` prints it ("/prog/main.py", line N), and the exit code is 1.
PyPy (pypy.py) runs the same scripts with its own interpreter.
"""

from __future__ import annotations

from codebattle.judge.languages.base import Language

# "Compiling" checks the syntax of every .py file (a SyntaxError is a compile error with its
# message), copies the submission's files to out/ (run from /prog) and stores main.py's code
# object. Python 3.9 syntax: PyPy runs it too.
_CHECK = """\
import marshal, os, sys
main, failed = sys.argv[1], False
for top, dirs, files in os.walk('.'):
    dirs[:] = sorted(d for d in dirs if top != '.' or d != 'out')
    for name in sorted(files):
        rel = os.path.normpath(os.path.join(top, name))
        with open(rel, 'rb') as f:
            src = f.read()
        dest = os.path.join('out', rel)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        with open(dest, 'wb') as f:
            f.write(src)
        if not name.endswith('.py'):
            continue
        try:
            code = compile(src, '/prog/' + rel, 'exec', dont_inherit=True)
        except SyntaxError as e:
            print(f'{rel}:{e.lineno}:{e.offset}: {type(e).__name__}: {e.msg}')
            failed = True
            continue
        except ValueError as e:
            print(f'{rel}: {e}')
            failed = True
            continue
        if rel == main:
            main_code = code
# Written last: no copied file can take its place (compiler.py refuses the name too).
if not failed:
    with open(os.path.join('out', main + '.marshal'), 'wb') as f:
        marshal.dump(main_code, f)
sys.exit(1 if failed else 0)
"""

# The run's bootstrap; argv is ["-c", "/prog/main.py", args...]. It leaves __main__'s
# namespace as a script's (only __file__ added) before the program runs in it.
_BOOT = """\
import sys, builtins, marshal, _sitebuiltins as s
class T:
    def __init__(self, text): self.text = text
    def __repr__(self): return self.text
    def __call__(self): print(self.text)
builtins.exit = s.Quitter('exit', 'Ctrl-D (i.e. EOF)')
builtins.quit = s.Quitter('quit', 'Ctrl-D (i.e. EOF)')
builtins.help = s._Helper()
builtins.copyright = T(sys.copyright)
builtins.credits = T('See https://www.python.org/about/')
builtins.license = T('See https://docs.python.org/3/license.html')
del sys.argv[0]
sys.path.insert(0, sys.argv[0].rpartition('/')[0])
try:
    with open(sys.argv[0] + '.marshal', 'rb') as f:
        c = marshal.load(f)
except (OSError, ValueError, EOFError):
    with open(sys.argv[0], 'rb') as f:
        c = compile(f.read(), sys.argv[0], 'exec', dont_inherit=True)
g = globals()
g['__file__'] = sys.argv[0]
del sys, builtins, marshal, s, T, f
try:
    exec(g.pop('c'), g.pop('g'))
except SystemExit:
    raise
except BaseException as e:
    import sys
    e.__traceback__ = e.__traceback__.tb_next
    sys.excepthook(type(e), e, e.__traceback__)
    sys.exit(1)
"""

MARSHAL = "main.py.marshal"  # the run loads it instead of main.py

TEMPLATE = (
    "import sys\n\n\ndef main() -> None:\n    data = sys.stdin.read().split()\n"
    "    # Solve the problem here and print the answer.\n\n\nmain()\n"
)


def check_argv(interpreter: str) -> tuple[str, ...]:
    return (interpreter, "-I", "-S", "-B", "-c", _CHECK, "main.py")


def run_argv(interpreter: str) -> tuple[str, ...]:
    return (interpreter, "-I", "-S", "-B", "-c", _BOOT, "/prog/main.py")


class PythonLanguage(Language):
    def source_name(self, code: str) -> str:
        return "main.py"  # also for PyPy, which has no extension of its own

    def ran_out_of_memory(self, stderr: bytes) -> bool:
        # A failed allocation raises MemoryError before the sandbox's limit kills the
        # process; the traceback ends with it (or it is the whole message).
        return b"\nMemoryError" in stderr or stderr.startswith(b"MemoryError")


LANGUAGE = PythonLanguage(
    name="python",
    title="Python 3",
    extensions=(".py", ".py3"),
    compile_argv=check_argv("/usr/bin/python3"),
    run_argv=run_argv("/usr/bin/python3"),
    version_argv=("/usr/bin/python3", "--version"),
    processes=16,
    template=TEMPLATE,
    package_template="solution.py",
    validator_extensions=(".py", ".py3"),
    package_codes=("python3",),
    reserved_names=(MARSHAL,),
    fence_tags=frozenset({"python", "py", "python3", "py3"}),
    prompt_notes=("Use only the Python standard library.",),
)
