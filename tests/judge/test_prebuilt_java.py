"""Java's class-data sharing archives (languages/java.py): javac's and the runtime's, built
once for the module in the real sandbox; used when valid, ignored when stale or missing,
harmless when corrupt; the same class files, verdicts and memory with and without them."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import pytest
import structlog

from codebattle.judge.compiler import Program, program_limits
from codebattle.judge.engine import Judge
from codebattle.judge.languages import java
from codebattle.judge.loader import load_package
from codebattle.judge.prebuilt import STAMP, Prebuilts, Ready
from codebattle.judge.sandbox import RunResult, Sandbox
from codebattle.judge.verdicts import JudgeResult, Verdict
from tests.support.hosts import PROBLEMS, require
from tests.support.prebuilt import (  # noqa: F401 - fixtures, registered by importing
    argvs_fixture,
    compiler,
    off,
    root_fixture,
    sandbox_fixture,
    warnings,
)

MiB = 1 << 20
HELLO = PROBLEMS / "hello-battle"  # a + b, 256 MiB, 1 s
JAVAC_ARCHIVE, RUNTIME_ARCHIVE = java.LANGUAGE.prebuilt
JAVAC_FLAG = "-J-XX:SharedArchiveFile=/opt/codebattle/java-javac-cds/javac.jsa"
RUNTIME_FLAG = "-XX:SharedArchiveFile=/opt/codebattle/java-runtime-cds/runtime.jsa"

AC = """\
import java.io.*;
import java.util.*;

public class Main {
    public static void main(String[] args) throws IOException {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
        StringTokenizer st = new StringTokenizer(in.readLine());
        long a = Long.parseLong(st.nextToken()), b = Long.parseLong(st.nextToken());
        System.out.println(a + b);
    }
}
"""
CASES = {
    "AC": AC,
    "WA": "import java.util.*;\npublic class Main { public static void main(String[] x) {"
    " Scanner s = new Scanner(System.in); System.out.println(s.nextLong() - s.nextLong()); } }\n",
    "RE": "public class Main { public static void main(String[] x) {"
    ' throw new IllegalStateException("no"); } }\n',
    "MLE": "import java.util.*;\npublic class Main { public static void main(String[] x) {"
    " List<long[]> l = new ArrayList<>(); while (true) l.add(new long[1 << 20]); } }\n",
    "TLE": "public class Main { public static void main(String[] x) {"
    " long i = 0; while (true) i++; } }\n",
    # 150 MiB of a 256 MiB heap, touched: near the limit, still within it.
    "AC-near-limit": AC.replace(
        "System.out.println(a + b);",
        "long[] big = new long[150 << 17]; Arrays.fill(big, 1);"
        " System.out.println(a + b + big.length - big.length);",
    ),
}


@pytest.fixture(scope="module")
def cds(root: Path, sandbox: Sandbox) -> Prebuilts:
    require(java.LANGUAGE.available(), "the JDK is not installed")
    store = Prebuilts(root / "prebuilt")
    outcomes = store.prepare(sandbox, java.LANGUAGE.prebuilt)
    # Both were built and their probes passed on this host.
    assert [(o.name, o.state) for o in outcomes] == [
        ("java-javac-cds", "built"),
        ("java-runtime-cds", "built"),
    ], [o.detail for o in outcomes]
    return store


def copy_of(store: Prebuilts, sandbox: Sandbox) -> Prebuilts:
    other = Prebuilts(Path(tempfile.mkdtemp(dir=sandbox.root)))
    other.root.chmod(0o755)
    for name in ("java-javac-cds", "java-runtime-cds"):
        shutil.copytree(store.root / name, other.root / name)
    return other


def program_of(sandbox: Sandbox, store: Prebuilts, code: str = AC) -> Program:
    compiled = compiler(sandbox, store).compile(java.LANGUAGE, code)
    assert compiled.program is not None, compiled.output
    return compiled.program


def run(
    sandbox: Sandbox, program: Program, stdin: bytes, *, extra: tuple[str, ...] = ()
) -> RunResult:
    """One run as the engine makes it (256 MiB), with `extra` JVM options last."""
    argv = program.argv(256 * MiB)
    at = argv.index("-cp")
    argv[at:at] = extra
    with sandbox.box() as box:
        return sandbox.run(
            argv,
            box,
            program_limits(program, 5.0, 256 * MiB, 16 * MiB),
            binds=program.binds(),
            stdin=stdin,
        )


def test_both_archives_are_ready_after_their_probes(cds: Prebuilts, sandbox: Sandbox) -> None:
    # The versions the links point at (what a sandbox binds).
    javac_folder = (cds.root / "java-javac-cds").resolve()
    runtime_folder = (cds.root / "java-runtime-cds").resolve()
    assert JAVAC_ARCHIVE.probe(sandbox, javac_folder) is None
    assert RUNTIME_ARCHIVE.probe(sandbox, runtime_folder) is None
    assert cds.ready(java.LANGUAGE.prebuilt, "compile") == [Ready(JAVAC_ARCHIVE, javac_folder)]
    assert cds.ready(java.LANGUAGE.prebuilt, "run") == [Ready(RUNTIME_ARCHIVE, runtime_folder)]
    # The runtime archive holds JDK classes only: no class of the training solution.
    listed = (runtime_folder / "classes.lst").read_text().splitlines()
    assert "java/util/StringTokenizer" in listed
    assert not [line for line in listed if line.split(" ")[-1] == "Main" or "Main$" in line]


def test_a_probe_fails_when_the_archive_cannot_be_mapped(cds: Prebuilts, sandbox: Sandbox) -> None:
    broken = copy_of(cds, sandbox)
    (broken.root / "java-javac-cds" / "javac.jsa").write_bytes(b"not an archive")
    (broken.root / "java-runtime-cds" / "runtime.jsa").write_bytes(b"not an archive")
    assert JAVAC_ARCHIVE.probe(sandbox, broken.root / "java-javac-cds") is not None
    assert RUNTIME_ARCHIVE.probe(sandbox, broken.root / "java-runtime-cds") is not None


def test_javac_is_given_its_archive_when_ready(
    cds: Prebuilts, sandbox: Sandbox, argvs: list[list[str]]
) -> None:
    assert compiler(sandbox, cds).compile(java.LANGUAGE, AC).ok
    assert compiler(sandbox, off()).compile(java.LANGUAGE, AC).ok
    with_cds, without = argvs
    assert with_cds[:2] == [java.JAVAC, JAVAC_FLAG]
    assert with_cds[2:] == without[1:]
    assert not [a for a in without if "SharedArchiveFile" in a]


def test_a_program_starts_with_the_runtime_archive_when_ready(
    cds: Prebuilts, sandbox: Sandbox
) -> None:
    program = program_of(sandbox, cds)
    assert program.argv(256 * MiB)[:2] == [java.JAVA, RUNTIME_FLAG]
    assert program_of(sandbox, off()).argv(256 * MiB)[1] != RUNTIME_FLAG
    result = run(sandbox, program, b"1 2\n", extra=("-Xlog:class+load=info:stderr",))
    assert result.exit_code == 0, result.stderr[-2000:]
    assert result.stdout == b"3\n"
    assert b"java.util.StringTokenizer source: shared objects file" in result.stderr
    assert b"Main source: file:/prog/" in result.stderr  # the submission's own, from /prog


@pytest.mark.parametrize("how", ["stale", "missing"])
def test_an_archive_that_is_not_valid_is_left_out_with_a_log_line(
    cds: Prebuilts, sandbox: Sandbox, argvs: list[list[str]], how: str
) -> None:
    other = copy_of(cds, sandbox)
    for name in ("java-javac-cds", "java-runtime-cds"):
        if how == "stale":
            (other.root / name / STAMP).write_text(json.dumps({"stamp": "an older JDK"}))
        else:
            shutil.rmtree(other.root / name)
    with structlog.testing.capture_logs() as logs:
        program = program_of(sandbox, other)
    assert program.prebuilt == ()
    assert not [a for argv in argvs for a in argv if "SharedArchiveFile" in a]
    assert not [a for a in program.argv(256 * MiB) if "SharedArchiveFile" in a]
    assert warnings(logs) == [f"prebuilt artifact {how}: the language works without it, slower"] * 2
    assert run(sandbox, program, b"1 2\n").stdout == b"3\n"


def damage(store: Prebuilts, how: str) -> None:
    """Spoil both archives in place, leaving their stamps as they were."""
    for name, file in (("java-javac-cds", "javac.jsa"), ("java-runtime-cds", "runtime.jsa")):
        path = store.root / name / file
        data = path.read_bytes()
        spoilt = {
            "truncated": data[:100_000],
            "empty": b"",
            "garbage": (b"\x00not an archive\n" * (len(data) // 16 + 1))[: len(data)],
            "no-header": bytes(4096) + data[4096:],
        }[how]
        path.write_bytes(spoilt)


@pytest.mark.parametrize("how", ["truncated", "empty"])
def test_a_damaged_archive_is_left_out_with_a_log_line(
    cds: Prebuilts, sandbox: Sandbox, argvs: list[list[str]], how: str
) -> None:
    # A JVM given a truncated archive dies of SIGBUS with its report on stdout: the store
    # checks each archive's size before each use.
    damaged = copy_of(cds, sandbox)
    assert damaged.ready(java.LANGUAGE.prebuilt, "run")  # valid at first, then damaged
    damage(damaged, how)
    with structlog.testing.capture_logs() as logs:
        program = program_of(sandbox, damaged)
    assert program.prebuilt == ()
    assert not [a for argv in argvs for a in argv if "SharedArchiveFile" in a]
    assert (
        warnings(logs) == ["prebuilt artifact damaged: the language works without it, slower"] * 2
    )
    result = run(sandbox, program, b"1 2\n")
    assert (result.exit_code, result.stdout, result.stderr) == (0, b"3\n", b"")


@pytest.mark.parametrize("how", ["garbage", "no-header"])
def test_a_corrupt_archive_of_the_right_size_never_adds_to_the_output(
    cds: Prebuilts, sandbox: Sandbox, how: str
) -> None:
    # It passes every check of the judge's: the JVM refuses it, silently, and runs without.
    corrupt = copy_of(cds, sandbox)
    damage(corrupt, how)
    compiled = compiler(sandbox, corrupt).compile(java.LANGUAGE, AC)
    assert compiled.program is not None, compiled.output
    assert compiled.output == ""
    program = compiled.program
    assert program.argv(256 * MiB)[1] == RUNTIME_FLAG
    result = run(sandbox, program, b"1 2\n")
    assert (result.exit_code, result.stdout, result.stderr) == (0, b"3\n", b"")


def test_javac_writes_the_same_class_files_with_and_without_its_archive(
    cds: Prebuilts, sandbox: Sandbox
) -> None:
    # Lambdas, generics, a nested and an anonymous class (Main$1.class, Main$Pair.class).
    code = java.TRAINING.replace(
        "public class Main {",
        "public class Main {\n    static class Pair { long a, b; }\n"
        "    Runnable r = new Runnable() { public void run() {} };\n",
    )
    with_cds = program_of(sandbox, cds, code).artifacts
    without = program_of(sandbox, off(), code).artifacts
    names = sorted(p.name for p in with_cds.iterdir())
    assert names == sorted(p.name for p in without.iterdir())
    assert {"Main.class", "Main$1.class", "Main$Pair.class"} <= set(names)
    for name in names:
        assert (with_cds / name).read_bytes() == (without / name).read_bytes()


def _judge(sandbox: Sandbox, store: Prebuilts, code: str) -> JudgeResult:
    return Judge(sandbox, compiler(sandbox, store)).judge(load_package(HELLO), java.LANGUAGE, code)


@pytest.mark.parametrize("expected", list(CASES))
def test_the_same_verdicts_and_memory_with_and_without_the_archives(
    cds: Prebuilts, sandbox: Sandbox, expected: str
) -> None:
    code = CASES[expected]
    with_cds = _judge(sandbox, cds, code)
    without = _judge(sandbox, off(), code)
    assert with_cds.verdict == Verdict(expected.split("-")[0])
    assert with_cds.compile_output == without.compile_output == ""
    assert [(t.name, t.verdict, t.exit_code, t.signal) for t in with_cds.tests] == [
        (t.name, t.verdict, t.exit_code, t.signal) for t in without.tests
    ]
    # The archive is mapped from a file in place of the JDK's default one: a run reports
    # 2.2-3.0 MiB less with it (measured, 14.0 against
    # 16.5-16.7 MiB, 164.7 against 167.2-167.5 MiB; docs/judge-speed.md). A change of
    # more than a MiB either way beyond that is a regression.
    for a, b in zip(with_cds.tests, without.tests, strict=True):
        if a.verdict == Verdict.AC:
            assert -1 * MiB <= b.memory - a.memory <= 4 * MiB, (a.name, a.memory, b.memory)
