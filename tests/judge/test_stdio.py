"""Programs may reach their standard streams by name too (/dev/stdin, /dev/stdout,
/dev/stderr), as some solutions do."""

from __future__ import annotations

from pathlib import Path

from codebattle.judge.sandbox import Limits, Sandbox

BY_NAME = (
    "line = open('/dev/stdin').readline()\n"
    "with open('/dev/stdout', 'w') as out:\n"
    "    out.write(line.upper())\n"
    "with open('/dev/stderr', 'w') as err:\n"
    "    err.write('note')\n"
)


def test_standard_streams_by_name(judge_root: Path) -> None:
    sandbox = Sandbox(work_root=judge_root / "stdio")
    limits = Limits(cpu_time=2, wall_time=5, memory=128 << 20)
    with sandbox.box() as box:
        run = sandbox.run(
            ["/usr/bin/python3", "-I", "-S", "-c", BY_NAME], box, limits, stdin=b"hello\n"
        )
    assert run.exit_code == 0, run.stderr
    assert run.stdout == b"HELLO\n"
    assert run.stderr == b"note"
