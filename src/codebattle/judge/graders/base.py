"""What every grader shares: the interface, a run's own failure and the TestResult."""

from __future__ import annotations

import signal as signals
from typing import Protocol

from codebattle.judge import languages
from codebattle.judge.languages.base import Language
from codebattle.judge.package import TestCase
from codebattle.judge.sandbox import RunResult
from codebattle.judge.verdicts import TestResult, Verdict

FEEDBACK_BYTES = 2048


class Grader(Protocol):
    """Grades one test from the submission's finished run."""

    def grade(self, case: TestCase, run: RunResult) -> TestResult: ...


def failure_verdict(run: RunResult, language: Language | None = None) -> Verdict | None:
    """The verdict of a run that failed on its own (before any answer check), or None.

    A runtime that reports running out of memory itself (the JVM's heap limit, Python's
    MemoryError) is MLE: `language`'s hook tells; without a language, any known one's.
    """
    if run.output_exceeded:
        return Verdict.OLE
    if run.cpu_exceeded or run.wall_exceeded:
        return Verdict.TLE
    if run.memory_exceeded or (run.exit_code != 0 and _ran_out_of_memory(run, language)):
        return Verdict.MLE
    if run.exit_code != 0 or run.signal is not None:
        return Verdict.RE
    return None


def _ran_out_of_memory(run: RunResult, language: Language | None) -> bool:
    candidates = [language] if language is not None else languages.LANGUAGES.values()
    return any(lang.ran_out_of_memory(run.stderr) for lang in candidates)


def signal_name(sig: int | None) -> str:
    if sig is None:
        return ""
    try:
        return signals.Signals(sig).name
    except ValueError:
        return f"signal {sig}"


def trim(data: bytes, limit: int = FEEDBACK_BYTES) -> str:
    text = data.decode("utf-8", errors="replace").strip()
    return text if len(text) <= limit else text[:limit] + " ..."


def result(case: TestCase, verdict: Verdict, run: RunResult, feedback: str = "") -> TestResult:
    """The TestResult of `case`: the run's measures, and feedback that says why when the
    grader has none (the crash's signal or exit code and stderr's tail, which clock ran out)."""
    if not feedback and verdict == Verdict.RE:
        sig = signal_name(run.signal)
        why = f"killed by {sig}" if sig else f"exit code {run.exit_code}"
        tail = trim(run.stderr[-FEEDBACK_BYTES:], 600)
        feedback = f"{why}\n{tail}".strip()
    elif not feedback and verdict == Verdict.TLE:
        feedback = "wall-clock limit exceeded" if run.wall_exceeded else "CPU time limit exceeded"
    return TestResult(
        name=case.name,
        verdict=verdict,
        time=round(run.cpu_time, 4),
        wall_time=round(run.wall_time, 4),
        memory=run.memory,
        exit_code=run.exit_code,
        signal=run.signal,
        feedback=feedback,
        sample=case.sample,
    )
