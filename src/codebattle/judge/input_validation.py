"""Input validation of a package's test data (`judge verify`): every input validator must
accept every test input."""

from __future__ import annotations

from codebattle.judge.compiler import program_limits
from codebattle.judge.engine import Judge
from codebattle.judge.graders.validator import ACCEPT
from codebattle.judge.package import ProblemPackage
from codebattle.judge.sandbox import Bind

MiB = 1 << 20


def check_inputs(judge: Judge, package: ProblemPackage) -> list[str]:
    """Every input validator must accept every test input (exit code 42)."""
    errors: list[str] = []
    for source in package.input_validators:
        built = judge.compile_validator(source)
        if built.program is None:
            errors.append(
                f"input validator {source.name} does not compile: "
                f"{built.internal_error or built.output}"[:500]
            )
            continue
        program = built.program
        limits = program_limits(program, package.limits.validation_time, 1024 * MiB, 1 * MiB)
        for case in package.tests:
            flags = package.group_flags(case, "input_validator_flags")
            with judge.sandbox.box() as box, open(case.input, "rb") as stdin:
                run = judge.sandbox.run(
                    program.argv(1024 * MiB, tuple(flags)),
                    box,
                    limits,
                    binds=[*program.binds(), Bind(case.input, "/data/input")],
                    stdin=stdin.fileno(),
                )
            if run.exit_code != ACCEPT:
                why = (run.stdout + run.stderr).decode(errors="replace").strip()[:200]
                errors.append(
                    f"input validator {source.name} rejects {case.name}: "
                    f"exit {run.exit_code} {why}".strip()
                )
    return errors
