"""Benchmark `codebattle judge verify` against Kattis problemtools' `verifyproblem`.

Both tools check the same packages on this machine in one run, alternating per package
(ours, then theirs), doing the same work: input validation of the test data, then judging
every submission. Printed per package and in total: each tool's wall time, the ratio
(ours / theirs), and whether the two verdicts agree submission by submission.

    .venv/bin/python bench/verify_vs_problemtools.py [PACKAGE_DIR ...] [--jobs N] [--json FILE]

problemtools is pip-installed (pinned) into its own venv, never the project's. What
verifyproblem is given differs from the package only where its legacy reader refuses what
ours accepts (see stage()), and in the languages.yaml placed beside the staged copies so that
it runs the same compilers and interpreters as our judge (see LANGUAGES_YAML).
verifyproblem runs submissions unsandboxed: use it on trusted packages only.
Stdlib only; exits 0 whatever the verdicts (2 when the set-up is missing something).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

PROBLEMTOOLS = "1.20260907"
ROOT = Path(__file__).resolve().parents[1]
DEFAULT_VENV = ROOT / "bench" / ".venv-problemtools"
# verifyproblem parts doing what `codebattle judge verify` does: "data" runs the input
# validators on every test case (and also the output validator on every .ans file), and
# "submissions" judges them. Skipped: config, statement (needs LaTeX/pandoc), validators
# (runs them on junk input), graders.
PARTS = ["data", "submissions"]

# problemtools' defaults are PyPy (pypy3), C++23 with -g, and `javac -source 21`; our judge
# runs the host's CPython, C++17 and Java 17 (src/codebattle/judge/languages/).
LANGUAGES_YAML = """\
python3:
  name: 'Python 3'
  compile: '/usr/bin/python3 -m py_compile {files}'
  run: '/usr/bin/python3 -I -S -B "{mainfile}"'
cpp:
  compile: 'g++ -std=gnu++17 -O2 -static -o {binary} {files}'
java:
  compile: 'javac -encoding UTF-8 -sourcepath {path} -d {path} {files}'
"""
# What each language needs on the host, and the Debian package that brings it.
TOOLS = {
    ".py": [("/usr/bin/python3", "python3")],
    ".cpp": [("g++", "g++")],
    ".cc": [("g++", "g++")],
    ".cxx": [("g++", "g++")],
    ".java": [("javac", "openjdk-17-jdk-headless"), ("java", "openjdk-17-jdk-headless")],
}
# Run with the problemtools venv's Python (it has PyYAML): turns the staged problem.yaml into
# what problemtools' legacy schema accepts and prints the time limit it took out, as JSON.
STAGE_YAML = """\
import json, sys, yaml
path = sys.argv[1]
with open(path, encoding='utf-8') as f:
    data = yaml.safe_load(f) or {}
changes, name, limits = [], data.get('name'), data.get('limits') or {}
if isinstance(name, dict):
    data['name'] = name.get('en') or next(iter(name.values()), '')
    changes.append('name: mapping -> its English string')
time_limit = limits.pop('time_limit', None)
if time_limit is not None:
    changes.append(f'limits.time_limit: removed, passed as -t {time_limit}')
if isinstance(data.get('keywords'), list):
    data['keywords'] = ' '.join(map(str, data['keywords']))
    changes.append('keywords: list -> a space-separated string')
if data.pop('difficulty', None) is not None:
    changes.append('difficulty: removed')
with open(path, 'w', encoding='utf-8') as f:
    yaml.safe_dump(data, f, allow_unicode=True, sort_keys=False)
print(json.dumps({'time_limit': time_limit, 'changes': changes}))
"""
# verifyproblem's lines per submission (problemtools/checks/submissions.py), e.g.
#    accepted/sol.py (Python 3) OK: AC [CPU: 0.03s @ testcase sample/1]
#    time_limit_exceeded/slow.py (Python 3) OK with extra time: TLE [...]
# ERROR wrong_answer/x.cpp (C++) got AC [...]
# WARNING accepted/a.py (Python 3) sensitive to time limit: limit of 1 secs -> TLE [...],
#   limit of 2 secs -> AC [...]
# ERROR Compile error for accepted/a.cpp (C++)
RESULT = re.compile(r"^(?:ERROR )?\s*(\S+) \([^()]*\) (?:OK(?: with extra time)?: |got )([A-Z]+)")
SENSITIVE = re.compile(
    r"^WARNING (\S+) \([^()]*\) sensitive to time limit: limit of \S+ secs -> ([A-Z]+).*"
    r"limit of \S+ secs -> ([A-Z]+)"
)
COMPILE_ERROR = re.compile(r"^ERROR Compile error for (\S+) \(")
SUMMARY = re.compile(r"^\S+ tested: (\d+) errors?, (\d+) warnings?")
ANSI = re.compile(r"\x1b\[[0-9;]*m")
THEIR_NAMES = {"RTE": "RE", "JE": "IE"}  # problemtools' verdict names -> ours


class SetupError(Exception):
    """Something the benchmark needs is missing; the message says what and how to get it."""


@dataclass
class SubmissionRow:
    submission: str
    expected: str
    ours: str = "-"
    theirs: str = "-"  # at the same limit ours used (the margin limit for TLE submissions)
    theirs_note: str = ""
    agree: bool | None = None  # None: only one of the tools judged it


@dataclass
class PackageRow:
    package: str
    ours_seconds: float = 0.0
    theirs_seconds: float = 0.0
    ours_ok: bool = False
    theirs_errors: int = -1
    theirs_warnings: int = -1
    staged_changes: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # our errors, their non-submission errors
    submissions: list[SubmissionRow] = field(default_factory=list)
    theirs_output: str = ""  # verifyproblem's whole output, for the JSON report

    @property
    def ratio(self) -> float:
        return self.ours_seconds / self.theirs_seconds if self.theirs_seconds else float("nan")


def apt_hint(packages: list[str]) -> str:
    return f"apt-get update && apt-get install -y {' '.join(sorted(set(packages)))}"


def ensure_problemtools(venv: Path) -> Path:
    """The venv's verifyproblem, installing problemtools==PROBLEMTOOLS there on first use."""
    python = venv / "bin" / "python"
    probe = "import importlib.metadata as m; print(m.version('problemtools'))"
    if python.exists():
        found = subprocess.run([python, "-c", probe], capture_output=True, text=True)
        if found.stdout.strip() == PROBLEMTOOLS:
            return venv / "bin" / "verifyproblem"
    else:
        print(f"creating {venv}", file=sys.stderr)
        made = subprocess.run([sys.executable, "-m", "venv", venv], capture_output=True, text=True)
        if made.returncode != 0:
            raise SetupError(
                f"cannot create a venv ({made.stderr.strip()[-300:]}); "
                f"Debian needs python3-venv: {apt_hint(['python3-venv'])}"
            )
    print(f"installing problemtools=={PROBLEMTOOLS} into {venv}", file=sys.stderr)
    pip = subprocess.run(
        [python, "-m", "pip", "install", "-q", f"problemtools=={PROBLEMTOOLS}"],
        capture_output=True,
        text=True,
    )
    if pip.returncode != 0:
        # Without a prebuilt wheel pip builds the sdist: `make -C support` with g++.
        missing = [tool for tool in ("g++", "make") if not shutil.which(tool)]  # = Debian names
        hint = f"missing build tools: {apt_hint(missing)}" if missing else "no build tool missing"
        raise SetupError(
            f"pip install problemtools=={PROBLEMTOOLS} failed ({hint}):\n"
            + "\n".join((pip.stdout + pip.stderr).strip().splitlines()[-15:])
        )
    return venv / "bin" / "verifyproblem"


def check_tools(packages: list[Path]) -> None:
    """Fail early, naming the Debian packages, if a compiler or interpreter is missing."""
    missing: dict[str, str] = {}
    for package in packages:
        for path in package.glob("*/**/*"):
            for tool, deb in TOOLS.get(path.suffix, []):
                if path.is_file() and shutil.which(tool) is None:
                    missing[tool] = deb
    if missing:
        raise SetupError(
            f"not found: {', '.join(sorted(missing))}; "
            f"install with: {apt_hint(list(missing.values()))}"
        )


def stage(package: Path, dest: Path, python: Path) -> tuple[Path, float | None, list[str]]:
    """Copy the package for verifyproblem; return the copy, its -t time limit and the changes.

    problemtools' legacy reader rejects a `name` mapping, `limits.time_limit`, a `keywords`
    list and `difficulty`, which our format allows (docs/problem-format.md); it ignores
    `.timelimit`. Both limits go to -t; the keywords become one string; difficulty goes.
    """
    copy = dest / package.name
    shutil.copytree(package, copy, symlinks=True)
    time_limit: float | None = None
    changes: list[str] = []
    if (copy / "problem.yaml").is_file():
        out = subprocess.run(
            [python, "-c", STAGE_YAML, copy / "problem.yaml"], capture_output=True, text=True
        )
        if out.returncode == 0:
            staged = json.loads(out.stdout)
            time_limit, changes = staged["time_limit"], staged["changes"]
        else:  # left as it is: verifyproblem reports the problem itself
            changes.append(f"problem.yaml left as is: {out.stderr.strip().splitlines()[-1]}")
    if time_limit is None and (copy / ".timelimit").is_file():
        time_limit = float((copy / ".timelimit").read_text().strip())
        changes.append(f".timelimit: passed as -t {time_limit:g}")
    return copy, time_limit, changes


def run_ours(codebattle: Path, package: Path, jobs: int) -> tuple[float, Any, str]:
    """Wall time, parsed JSON report (None if there is none) and stderr of our verifier."""
    # A fresh compile cache, as problemtools caches nothing between runs; in the system temp
    # dir and world-readable, because the sandboxed programs (as nobody) reach their boxes there.
    cache = Path(tempfile.mkdtemp(prefix="bench-codebattle-"))
    cache.chmod(0o755)
    env = {**os.environ, "TMPDIR": str(cache)}
    start = time.perf_counter()
    done = subprocess.run(
        [codebattle, "judge", "verify", package, "--json", "--jobs", str(jobs)],
        capture_output=True,
        text=True,
        env=env,
    )
    seconds = time.perf_counter() - start
    shutil.rmtree(cache, ignore_errors=True)
    try:
        reports = json.loads(done.stdout)
    except json.JSONDecodeError:
        return seconds, None, done.stderr + done.stdout
    return seconds, reports[0] if reports else None, done.stderr


def run_theirs(
    verifyproblem: Path, copy: Path, time_limit: float | None, jobs: int
) -> tuple[float, str]:
    argv = [str(verifyproblem), str(copy), "-p", *PARTS, "-j", str(jobs)]
    if time_limit is not None:
        argv += ["-t", f"{time_limit:g}"]
    start = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, cwd=copy.parent)
    return time.perf_counter() - start, ANSI.sub("", done.stdout + done.stderr)


def parse_theirs(output: str) -> tuple[dict[str, tuple[str, str]], list[str], int, int]:
    """{submission: (verdict at the time limit, at the margin)}, other errors, counts."""
    verdicts: dict[str, tuple[str, str]] = {}
    sensitive: dict[str, tuple[str, str]] = {}
    errors: list[str] = []
    counts = (-1, -1)
    for line in output.splitlines():
        if match := SENSITIVE.match(line):
            sensitive[match[1]] = (match[2], match[3])
        elif match := COMPILE_ERROR.match(line):
            verdicts[match[1]] = ("CE", "CE")
        elif match := RESULT.match(line):
            verdicts[match[1]] = (match[2], match[2])
        elif match := SUMMARY.match(line):
            counts = (int(match[1]), int(match[2]))
        elif line.startswith("ERROR "):
            errors.append(line[6:])
    verdicts.update(sensitive)  # it names both verdicts where they differ
    named = {
        sub: (THEIR_NAMES.get(lo, lo), THEIR_NAMES.get(hi, hi))
        for sub, (lo, hi) in verdicts.items()
    }
    return named, errors, *counts


def compare(row: PackageRow, ours: Any, theirs_output: str) -> None:
    theirs, their_errors, row.theirs_errors, row.theirs_warnings = parse_theirs(theirs_output)
    row.notes += [f"problemtools: {e}" for e in their_errors]
    if ours is None:
        row.notes.append("ours: no JSON report")
        ours = {"ok": False, "submissions": [], "errors": []}
    row.ours_ok = ours["ok"]
    row.notes += [f"ours: {e}" for e in ours["errors"]]
    seen: dict[str, SubmissionRow] = {}
    for check in ours["submissions"]:
        seen[check["submission"]] = SubmissionRow(
            check["submission"], check["expected"], ours=check["got"]
        )
    for name in theirs:
        seen.setdefault(name, SubmissionRow(name, name.split("/")[0]))
    for sub in sorted(seen.values(), key=lambda s: s.submission):
        if sub.submission in theirs:
            # Ours judges time_limit_exceeded/ at the margin limit, the rest at the time limit.
            at_limit, at_margin = theirs[sub.submission]
            tle = sub.expected == "time_limit_exceeded"
            sub.theirs = at_margin if tle else at_limit
            if at_limit != at_margin:
                sub.theirs_note = f"{at_limit} at the time limit, {at_margin} at the margin"
        # problemtools has no MLE verdict: a program over the memory limit gets RTE.
        if "-" not in (sub.ours, sub.theirs):
            sub.agree = sub.ours == sub.theirs or {sub.ours, sub.theirs} == {"MLE", "RE"}
        row.submissions.append(sub)


def print_package(row: PackageRow) -> None:
    print(
        f"\n{row.package}: ours {row.ours_seconds:.1f} s, problemtools "
        f"{row.theirs_seconds:.1f} s, ours/theirs {row.ratio:.2f}"
    )
    print(
        f"  ours: {'OK' if row.ours_ok else 'FAILED'}; problemtools: {row.theirs_errors} "
        f"error(s), {row.theirs_warnings} warning(s)"
    )
    for change in row.staged_changes:
        print(f"  staged for problemtools: {change}")
    for note in row.notes:
        print(f"  {note}")
    if row.submissions:
        width = max(len("submission"), *(len(s.submission) for s in row.submissions))
        print(f"  {'submission':<{width}}  ours  theirs  verdicts")
        for s in row.submissions:
            mark = {True: "agree", False: "DISAGREE", None: "judged by one tool only"}[s.agree]
            note = f"  ({s.theirs_note})" if s.theirs_note else ""
            print(f"  {s.submission:<{width}}  {s.ours:<4}  {s.theirs:<6}  {mark}{note}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "packages", nargs="*", type=Path, help="problem package folders (default: problems/*/)"
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=1,
        help="submissions at once, for both tools (--jobs / -j; default 1)",
    )
    parser.add_argument("--venv", type=Path, default=DEFAULT_VENV, help="problemtools' venv")
    parser.add_argument("--codebattle", type=Path, default=ROOT / ".venv" / "bin" / "codebattle")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the figures here")
    args = parser.parse_args()
    packages = [p.resolve() for p in args.packages] or sorted(
        p.parent for p in (ROOT / "problems").glob("*/problem.yaml")
    )
    try:
        if not args.codebattle.exists():
            raise SetupError(f"{args.codebattle} not found: run `make deps` first")
        check_tools(packages)
        verifyproblem = ensure_problemtools(args.venv)
    except SetupError as exc:
        print(f"verify_vs_problemtools: {exc}", file=sys.stderr)
        return 2
    print(
        f"problemtools {PROBLEMTOOLS} ({verifyproblem}), parts {' '.join(PARTS)}; "
        f"jobs {args.jobs}; {os.cpu_count()} CPUs"
    )
    rows: list[PackageRow] = []
    with tempfile.TemporaryDirectory(prefix="verify-vs-problemtools-") as tmp:
        staging = Path(tmp)
        (staging / "languages.yaml").write_text(LANGUAGES_YAML)  # read beside the package
        for package in packages:
            row = PackageRow(package.name)
            copy, time_limit, row.staged_changes = stage(package, staging, args.venv / "bin/python")
            row.ours_seconds, ours, ours_stderr = run_ours(args.codebattle, package, args.jobs)
            if ours is None:
                row.notes.append(f"ours stderr: {ours_stderr.strip()[-300:]}")
            row.theirs_seconds, theirs_output = run_theirs(
                verifyproblem, copy, time_limit, args.jobs
            )
            row.theirs_output = theirs_output
            compare(row, ours, theirs_output)
            print_package(row)
            rows.append(row)
    ours_total = sum(r.ours_seconds for r in rows)
    theirs_total = sum(r.theirs_seconds for r in rows)
    subs = [s for r in rows for s in r.submissions]
    agreed = sum(s.agree is True for s in subs)
    both = sum(s.agree is not None for s in subs)
    ratio = ours_total / theirs_total if theirs_total else float("nan")
    print(
        f"\nTOTAL ({len(rows)} packages): ours {ours_total:.1f} s, problemtools "
        f"{theirs_total:.1f} s, ours/theirs {ratio:.2f}; verdicts agree on {agreed}/{both}"
        f" submissions judged by both ({len(subs) - both} by one tool only)"
    )
    for r in rows:
        for s in r.submissions:
            if s.agree is False:
                print(
                    f"  DISAGREE {r.package}/{s.submission}: ours {s.ours}, problemtools "
                    f"{s.theirs}" + (f" ({s.theirs_note})" if s.theirs_note else "")
                )
    if args.json:
        report = {
            "problemtools": PROBLEMTOOLS,
            "parts": PARTS,
            "jobs": args.jobs,
            "ours_seconds": round(ours_total, 3),
            "theirs_seconds": round(theirs_total, 3),
            "ratio": round(ratio, 3),
            "agree": agreed,
            "judged_by_both": both,
            "submissions": len(subs),
            "packages": [{**asdict(r), "ratio": round(r.ratio, 3)} for r in rows],
        }
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
