"""Checks of a package's test data and validators (`judge verify`):

- every input validator must accept every test input (exit code 42), given its arguments
  (legacy input_validator_flags; 2025-09 input_validator_args, a list or a map by validator
  name, then the case's `args`);
- 2025-09 data/invalid_input: each input must be rejected by at least one input validator;
- 2025-09 data/valid_output and data/invalid_output: the output validator (the package's, or
  the default one with the case's arguments) must accept, respectively reject, each `.out`.

Errors are one line each (a traceback's exception line, not the traceback), so that the same
failure on many cases reads the same: verify collapses them into one line with the count.
"""

from __future__ import annotations

from codebattle.judge.compiler import Program, program_limits
from codebattle.judge.engine import Judge
from codebattle.judge.graders import validator as output_validation
from codebattle.judge.graders.validator import ACCEPT
from codebattle.judge.package import ProblemPackage, TestCase, ValidatorSource
from codebattle.judge.sandbox import Bind, RunResult
from codebattle.judge.validators import default as default_validator
from codebattle.judge.verdicts import Verdict

MiB = 1 << 20
REASON_CHARS = 200


def check_inputs(judge: Judge, package: ProblemPackage) -> list[str]:
    """Every input validator must accept every test input; every invalid input must be
    rejected by one of them; valid and invalid outputs must be judged as they say."""
    errors: list[str] = []
    programs: list[tuple[ValidatorSource, Program]] = []
    for source in package.input_validators:
        built = judge.compile_validator(source, package)
        if built.program is None:
            why = summary((built.internal_error or built.output).encode())
            errors.append(f"input validator {source.name} does not compile: {why}")
        else:
            programs.append((source, built.program))
    for source, program in programs:
        for case in package.tests:
            run = run_input_validator(judge, package, source, program, case)
            if run.exit_code != ACCEPT:
                errors.append(f"input validator {source.name} rejects {case.name}: {reason(run)}")
    if programs and len(programs) == len(package.input_validators):
        for case in package.invalid_inputs:
            runs = [run_input_validator(judge, package, s, p, case) for s, p in programs]
            if all(run.exit_code == ACCEPT for run in runs):
                errors.append(f"invalid input {case.name} is accepted by every input validator")
    errors.extend(check_outputs(judge, package))
    return errors


def run_input_validator(
    judge: Judge, package: ProblemPackage, source: ValidatorSource, program: Program, case: TestCase
) -> RunResult:
    args = (*package.input_validator_args(case, source.name), *case.args)
    memory = min(package.limits.validation_memory, 2048) * MiB
    limits = program_limits(program, package.limits.validation_time, memory, 1 * MiB)
    with judge.sandbox.box() as box, open(case.input, "rb") as stdin:
        return judge.sandbox.run(
            program.argv(memory, args),
            box,
            limits,
            binds=[*program.binds(), Bind(case.input, "/data/input")],
            stdin=stdin.fileno(),
        )


def check_outputs(judge: Judge, package: ProblemPackage) -> list[str]:
    """data/valid_output must be accepted and data/invalid_output rejected (2025-09)."""
    cases = [(c, True) for c in package.valid_outputs] + [
        (c, False) for c in package.invalid_outputs
    ]
    if not cases:
        return []
    if package.interactive:
        return ["valid_output / invalid_output cannot be checked for an interactive problem"]
    validator: Program | None = None
    if package.validation == "custom":
        built = judge.compile_validator(package.output_validators[0], package)
        if built.program is None:
            return []  # judging reports it; nothing to check the outputs with
        validator = built.program
    errors: list[str] = []
    for case, valid in cases:
        if case.output is None:
            continue
        output = case.output.read_bytes()
        if validator is None:
            flags = package.output_validator_flags(case)
            try:
                ok, message = default_validator.compare(case.answer.read_bytes(), output, flags)
            except ValueError as exc:
                errors.append(f"{case.name}: output validator arguments: {exc}")
                continue
            verdict = Verdict.AC if ok else Verdict.WA
        else:
            checked = output_validation.validate_output(
                judge.sandbox, package, validator, case, output
            )
            verdict, message = checked.verdict, checked.feedback
        if verdict == Verdict.IE:
            errors.append(f"{case.name}: the output validator failed: {message}")
        elif valid and verdict != Verdict.AC:
            errors.append(f"valid output {case.name} is rejected: {message}".strip())
        elif not valid and verdict == Verdict.AC:
            errors.append(f"invalid output {case.name} is accepted")
    return errors


def reason(run: RunResult) -> str:
    """Why a validator refused: its exit, and the last line it wrote (a traceback's last
    line is the exception)."""
    if run.cpu_exceeded or run.wall_exceeded:
        exit_text = "time limit"
    elif run.signal is not None:
        exit_text = f"signal {run.signal}"
    else:
        exit_text = f"exit {run.exit_code}"
    line = summary(run.stderr) or summary(run.stdout)
    return f"{exit_text} {line}".strip()


def summary(data: bytes) -> str:
    """One line of a program's messages: a traceback's last line (the exception), else the
    first line that names an error, else the first line."""
    lines = [line.strip() for line in data.decode(errors="replace").splitlines() if line.strip()]
    if not lines:
        return ""
    if any(line.startswith("Traceback (most recent call last)") for line in lines):
        return lines[-1][:REASON_CHARS]
    return next((line for line in lines if "error" in line.lower()), lines[0])[:REASON_CHARS]
