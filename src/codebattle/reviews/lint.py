"""Lint findings for a review: ruff (Python), g++ -Wall -Wextra (C++), javac -Xlint (Java),
each run in the judge's sandbox like any untrusted build, never on the host directly.

Player code goes through the same sandbox a submission's compilation does (compiler.py):
a fresh box, the language's binds and environment, CPU, wall and memory limits. ruff is a
single binary that is not in the sandbox's base system unless it sits under /usr: its folder
(the virtual environment's bin, or wherever `shutil.which` finds it) is bound read-only at
/opt/ruff. Without ruff, or without a sandbox on this host, there are no findings and the
review says lint was unavailable (`Lint.available` False), never a guess.

The output is parsed into `Finding(line, code, message)`: ruff's JSON, and the compilers'
`file:line:col: warning: message [-Wflag]` lines (javac: `File.java:line: warning: [kind]
message`). Sorted by line, capped at MAX_FINDINGS.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import structlog

from codebattle.judge import languages
from codebattle.judge.sandbox import Bind, Limits, MiB, Sandbox, SandboxError

log = structlog.get_logger(__name__)

MAX_FINDINGS = 30
# What ruff checks: pyflakes (F), pycodestyle (E, W), bugbear (B), simplify (SIM). Style
# rules a contest program breaks on purpose (one-letter names, long lines) are left out.
RUFF_RULES = "F,E,W,B,SIM"
RUFF_IGNORE = "E501,E701,E702,E731,E741"
RUFF_TARGET = "/opt/ruff"


@dataclass(frozen=True)
class Finding:
    line: int
    code: str
    message: str

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Lint:
    """What the linter said. `tool` names it ("ruff", "g++ -Wall -Wextra", "javac
    -Xlint:all"); `available` False: nothing could be run (no tool or no sandbox)."""

    tool: str
    available: bool
    findings: list[Finding] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "tool": self.tool,
            "available": self.available,
            "findings": [f.as_json() for f in self.findings],
        }


def ruff_binary() -> Path | None:
    """Where ruff is on this host: on PATH, or beside this interpreter (a venv's bin)."""
    found = shutil.which("ruff") or shutil.which("ruff", path=str(Path(sys.executable).parent))
    return Path(found).resolve() if found else None


def lint(sandbox: Sandbox, language: str, code: str) -> Lint:
    """Lint `code` in the sandbox (blocking: call it in a thread)."""
    base = language
    try:
        if base in ("python", "pypy"):
            return _ruff(sandbox, code)
        if base == "cpp":
            return _gxx(sandbox, code)
        if base == "java":
            return _javac(sandbox, code)
    except (SandboxError, OSError) as exc:
        log.warning("review_lint_failed", language=language, error=str(exc)[:200])
        return Lint(TOOLS.get(base, language), False)
    return Lint(language, False)


TOOLS = {"python": "ruff", "pypy": "ruff", "cpp": "g++ -Wall -Wextra", "java": "javac -Xlint:all"}


def _limits(processes: int = 32, memory: int = 512 * MiB) -> Limits:
    return Limits(
        cpu_time=20,
        wall_time=40,
        memory=memory,
        processes=processes,
        output=256 * 1024,
        stderr=256 * 1024,
        tmp_size=256 * MiB,
    )


def _ruff(sandbox: Sandbox, code: str) -> Lint:
    binary = ruff_binary()
    if binary is None:
        return Lint("ruff", False)
    if binary.is_relative_to("/usr"):
        program, binds = str(binary), []
    else:
        program, binds = f"{RUFF_TARGET}/{binary.name}", [Bind(binary.parent, RUFF_TARGET)]
    argv = [
        program, "check", "--isolated", "--no-cache", "--output-format", "json",
        "--select", RUFF_RULES, "--ignore", RUFF_IGNORE, "main.py",
    ]  # fmt: skip
    with sandbox.box() as box:
        box.put("main.py", code.encode("utf-8", errors="surrogateescape"))
        run = sandbox.run(argv, box, _limits(), binds=binds)
    if run.exit_code not in (0, 1):
        log.warning("review_lint_failed", tool="ruff", stderr=run.stderr[-300:].decode("replace"))
        return Lint("ruff", False)
    return Lint("ruff", True, parse_ruff(run.stdout.decode("utf-8", "replace")))


def parse_ruff(text: str) -> list[Finding]:
    try:
        items = json.loads(text or "[]")
    except ValueError:
        return []
    findings = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        location = item.get("location") or {}
        findings.append(
            Finding(
                int(location.get("row") or 0),
                str(item.get("code") or "syntax"),
                str(item.get("message") or ""),
            )
        )
    return _capped(findings)


def _gxx(sandbox: Sandbox, code: str) -> Lint:
    language = languages.get("cpp")
    tool = TOOLS["cpp"]
    argv = [
        "/usr/bin/g++", "-std=gnu++17", "-fsyntax-only", "-Wall", "-Wextra",
        "-fdiagnostics-color=never", "-fno-diagnostics-show-caret", "-fmax-errors=20",
        "main.cpp",
    ]  # fmt: skip
    with sandbox.box() as box:
        box.put("main.cpp", code.encode("utf-8", errors="surrogateescape"))
        run = sandbox.run(
            argv,
            box,
            _limits(processes=language.compile_processes, memory=1024 * MiB),
            binds=[Bind(p, str(p)) for p in language.bind_paths()],
            env=language.env,
        )
    if run.cpu_exceeded or run.wall_exceeded or run.memory_exceeded:
        return Lint(tool, False)
    return Lint(tool, True, parse_gcc(run.stderr.decode("utf-8", "replace"), "main.cpp"))


_GCC = re.compile(
    r"^(?P<file>[^:\n]+):(?P<line>\d+):(?:\d+:)? (?P<kind>warning|error): (?P<msg>.*)$"
)
_FLAG = re.compile(r"\s*\[(-W[\w=+-]+)\]$")


def parse_gcc(text: str, source: str) -> list[Finding]:
    findings = []
    for line in text.splitlines():
        match = _GCC.match(line)
        if match is None or match["file"] != source:
            continue
        message = match["msg"].strip()
        flag = _FLAG.search(message)
        code = flag.group(1) if flag else match["kind"]
        if flag:
            message = message[: flag.start()].strip()
        findings.append(Finding(int(match["line"]), code, message))
    return _capped(findings)


def _javac(sandbox: Sandbox, code: str) -> Lint:
    language = languages.get("java")
    tool = TOOLS["java"]
    source = language.source_name(code)
    argv = [
        "/usr/bin/javac", "-J-XX:+UseSerialGC", "-J-XX:-UsePerfData", "-J-Xmx512m",
        "-J-XX:TieredStopAtLevel=1", "-encoding", "UTF-8", "-proc:none", "-Xlint:all",
        "-Xmaxwarns", str(MAX_FINDINGS), "-d", "/tmp/classes", source,
    ]  # fmt: skip
    with sandbox.box() as box:
        box.put(source, code.encode("utf-8", errors="surrogateescape"))
        run = sandbox.run(
            argv,
            box,
            _limits(
                processes=language.compile_processes,
                memory=512 * MiB + language.memory_overhead,
            ),
            binds=[Bind(p, str(p)) for p in language.bind_paths()],
            env=language.env,
        )
    if run.cpu_exceeded or run.wall_exceeded or run.memory_exceeded:
        return Lint(tool, False)
    text = (run.stdout + run.stderr).decode("utf-8", "replace")
    return Lint(tool, True, parse_javac(text, source))


_JAVAC = re.compile(r"^(?P<file>[^:\n]+):(?P<line>\d+): (?P<kind>warning|error): (?P<msg>.*)$")
_KIND = re.compile(r"^\[([\w-]+)\]\s*")


def parse_javac(text: str, source: str) -> list[Finding]:
    findings = []
    for line in text.splitlines():
        match = _JAVAC.match(line)
        if match is None or match["file"] != source:
            continue
        message = match["msg"].strip()
        kind = _KIND.match(message)
        code = f"-Xlint:{kind.group(1)}" if kind else match["kind"]
        if kind:
            message = message[kind.end() :]
        findings.append(Finding(int(match["line"]), code, message))
    return _capped(findings)


def _capped(findings: list[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (f.line, f.code))[:MAX_FINDINGS]
