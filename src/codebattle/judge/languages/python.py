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


class PythonLanguage(Language):
    def ran_out_of_memory(self, stderr: bytes) -> bool:
        # A failed allocation raises MemoryError before the sandbox's limit kills the
        # process; the traceback ends with it (or it is the whole message).
        return b"\nMemoryError" in stderr or stderr.startswith(b"MemoryError")


LANGUAGE = PythonLanguage(
    name="python",
    title="Python 3",
    extensions=(".py",),
    compile_argv=("/usr/bin/python3", "-I", "-S", "-B", "-c", _CHECK, "main.py"),
    run_argv=("/usr/bin/python3", "-I", "-S", "-B", "/prog/main.py"),
    version_argv=("/usr/bin/python3", "--version"),
    processes=16,
    template=(
        "import sys\n\n\ndef main() -> None:\n    data = sys.stdin.read().split()\n"
        "    # Solve the problem here and print the answer.\n\n\nmain()\n"
    ),
    package_template="solution.py",
    validator_extensions=(".py",),
    package_codes=("python3",),
    fence_tags=frozenset({"python", "py", "python3", "py3"}),
    prompt_notes=("Use only the Python standard library.",),
)
