"""Python 3, the host's /usr/bin/python3, standard library only."""

from codebattle.judge.languages.base import Language

# "Compiling" checks the syntax, so a SyntaxError is a compile error with its message.
_CHECK = (
    "import sys\n"
    "src = open(sys.argv[1], 'rb').read()\n"
    "try:\n"
    "    compile(src, 'main.py', 'exec')\n"
    "except SyntaxError as e:\n"
    "    print(f'main.py:{e.lineno}:{e.offset}: {type(e).__name__}: {e.msg}'); sys.exit(1)\n"
    "except ValueError as e:\n"
    "    print(f'main.py: {e}'); sys.exit(1)\n"
    "open('out/main.py', 'wb').write(src)\n"
)

LANGUAGE = Language(
    name="python",
    title="Python 3",
    extensions=(".py",),
    compile_argv=("/usr/bin/python3", "-I", "-S", "-B", "-c", _CHECK, "main.py"),
    run_argv=("/usr/bin/python3", "-I", "-S", "-B", "/prog/main.py"),
    version_argv=("/usr/bin/python3", "--version"),
    processes=16,
    template=(
        "import sys\n\n\ndef main() -> None:\n    data = sys.stdin.read().split()\n\n\nmain()\n"
    ),
)
