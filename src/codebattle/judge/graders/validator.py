"""A package's own output validator (the Kattis interface): compiled in the sandbox like a
submission, then run per test as `validator input answer feedback_dir [flags] < output`.
It accepts with exit code 42 and rejects with 43 (anything else is the judge's fault, IE);
its judgemessage.txt is the feedback, and with `validation: custom score` its score.txt the
test's score. The interactive grader runs the same program as an interactor."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass

from codebattle.judge.compiler import Compiler, CompileResult, Program, program_limits
from codebattle.judge.graders.base import FEEDBACK_BYTES, failure_verdict, result, signal_name, trim
from codebattle.judge.graders.feedback_scores import read_scores
from codebattle.judge.languages.base import Language
from codebattle.judge.package import ProblemPackage, TestCase, ValidatorSource
from codebattle.judge.sandbox import Bind, Box, Limits, RunResult, Sandbox, read_box_file
from codebattle.judge.validators import programs
from codebattle.judge.verdicts import TestResult, Verdict

MiB = 1 << 20
ACCEPT, REJECT = 42, 43


@dataclass(frozen=True)
class ValidatorOutcome:
    verdict: Verdict  # AC, WA or IE
    feedback: str
    score: float | None = None  # score.txt (see graders/feedback_scores.py)
    score_multiplier: float | None = None  # 2025-09 score_multiplier.txt


class ValidatorBuilds:
    """Compiles a package's validators, once per source (shared by concurrent judgings)."""

    def __init__(self, compiler: Compiler) -> None:
        self.compiler = compiler
        self._built: dict[str, CompileResult] = {}
        self._lock = threading.Lock()

    def compile(
        self, source: ValidatorSource, substitute: Callable[[bytes], bytes] | None = None
    ) -> CompileResult:
        """Build `source` (`substitute`: the package's constants, see programs.plan)."""
        try:
            built = programs.plan(source.path, source.language, substitute)
        except (programs.ProgramError, OSError) as exc:
            return CompileResult(None, "", internal_error=str(exc))
        language, code, extra = built.language, built.code, built.extra
        key = _build_key(language, code, extra)
        with self._lock:
            cached = self._built.get(key)
        if cached is None:
            cached = self.compiler.compile(language, code, extra)
            if cached.program is not None and extra:
                # 2025-09 "Working directory": a program of several files runs among them
                # (the compiler copied them next to it, at /prog, read-only).
                program = dataclasses.replace(cached.program, workdir="/prog")
                cached = dataclasses.replace(cached, program=program)
            with self._lock:
                self._built[key] = cached
        return cached


def _build_key(language: Language, code: str, extra: dict[str, bytes]) -> str:
    """What a validator's build depends on (the compiler's own cache adds the toolchain)."""
    digest = hashlib.sha256(repr((language.name, language.compile_argv)).encode())
    digest.update(code.encode(errors="surrogateescape"))
    for name in sorted(extra):
        digest.update(name.encode() + b"\0" + hashlib.sha256(extra[name]).digest())
    return digest.hexdigest()


def limits(package: ProblemPackage, validator: Program) -> Limits:
    lim = package.limits
    return program_limits(
        validator,
        lim.validation_time,
        min(lim.validation_memory, 2048) * MiB,
        lim.validation_output * MiB,
    )


def argv(package: ProblemPackage, validator: Program, case: TestCase) -> list[str]:
    flags = package.output_validator_flags(case)
    return validator.argv(
        package.limits.validation_memory * MiB,
        ("/data/input", "/data/answer", "/box/feedback/", *flags),
    )


def binds(validator: Program, case: TestCase) -> list[Bind]:
    return [*validator.binds(), Bind(case.input, "/data/input"), Bind(case.answer, "/data/answer")]


def prepare_feedback(box: Box, owner: int | None) -> None:
    """The feedback folder the validator writes to, owned by the sandbox's user."""
    feedback = box.path / "feedback"
    feedback.mkdir()
    if owner is not None:
        os.chown(feedback, owner, owner)


def judge_message(box: Box) -> bytes:
    return read_box_file(box, "feedback/judgemessage.txt", FEEDBACK_BYTES) or b""


def verdict(run: RunResult, message: bytes) -> ValidatorOutcome:
    """What the validator's exit says: 42 accepts, 43 rejects, anything else is IE."""
    feedback = trim(message)
    if run.exit_code == ACCEPT and run.signal is None:
        return ValidatorOutcome(Verdict.AC, feedback)
    if run.exit_code == REJECT:
        return ValidatorOutcome(Verdict.WA, feedback or "rejected by the output validator")
    why = (
        "time limit"
        if run.cpu_exceeded or run.wall_exceeded
        else signal_name(run.signal) or f"exit code {run.exit_code}"
    )
    return ValidatorOutcome(Verdict.IE, f"output validator failed ({why}): {trim(run.stderr, 400)}")


def validate_output(
    sandbox: Sandbox, package: ProblemPackage, validator: Program, case: TestCase, output: bytes
) -> ValidatorOutcome:
    """Run the validator on one test's output."""
    with sandbox.box() as box, tempfile.TemporaryFile() as out:
        out.write(output)
        out.seek(0)
        prepare_feedback(box, sandbox.drop_to)
        run = sandbox.run(
            argv(package, validator, case),
            box,
            limits(package, validator),
            binds=binds(validator, case),
            stdin=out.fileno(),
        )
        outcome = with_scores(box, package, verdict(run, judge_message(box)))
    return outcome


def with_scores(box: Box, package: ProblemPackage, outcome: ValidatorOutcome) -> ValidatorOutcome:
    """`outcome` with the score files the validator left in `box`'s feedback folder."""
    scores = read_scores(box, package, outcome.verdict)
    if scores.error:
        return ValidatorOutcome(Verdict.IE, scores.error)
    return ValidatorOutcome(outcome.verdict, outcome.feedback, scores.score, scores.multiplier)


@dataclass(frozen=True)
class OutputValidatorGrader:
    sandbox: Sandbox
    package: ProblemPackage
    language: Language  # the submission's
    validator: Program

    def grade(self, case: TestCase, run: RunResult) -> TestResult:
        failed = failure_verdict(run, self.language)
        if failed is not None:
            return result(case, failed, run)
        checked = validate_output(self.sandbox, self.package, self.validator, case, run.stdout)
        graded = result(case, checked.verdict, run, checked.feedback)
        graded.score = checked.score
        graded.score_multiplier = checked.score_multiplier
        return graded
