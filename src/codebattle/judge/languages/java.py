"""Java 17: javac, then the JVM with the heap capped at the problem's memory limit.

The source may name its public class anything: the file is named after it. The JVM's own
memory (code cache, metaspace, threads) is granted on top of the heap so that a normal
program is not MLE; the heap (-Xmx) is the problem's limit.

Two class-data sharing (CDS) archives are built once per JDK (judge/prebuilt.py,
docs/judge-speed.md): javac's own classes (`JavacArchive`, a dynamic archive: javac runs
from the JDK's modules alone) and the JDK classes that solutions use (`RuntimeArchive`, a
static archive from a class list). The runtime's class path is /prog, a folder that holds
other classes every time: CDS refuses a non-empty folder on the class path when dumping,
so the runtime archive holds JDK classes only and was dumped with no class path at all,
which any class path matches. The JVM logs to stdout by default; its log goes to stderr
here (-Xlog), so that no warning of the JVM (a rejected archive, a full code cache) can
ever be part of a program's output.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from codebattle.judge.languages.base import Language, MiB
from codebattle.judge.prebuilt import BuildFailed, Prebuilt, probe_run
from codebattle.judge.sandbox import Bind, Sandbox

JAVA = "/usr/bin/java"
JAVAC = "/usr/bin/javac"
# Every JVM message to stderr, warnings and worse only (the default is stdout).
_LOG = ("-Xlog:disable", "-Xlog:all=warning:stderr")

_PUBLIC_CLASS = re.compile(
    r"\bpublic\s+(?:(?:final|abstract|strictfp)\s+)*class\s+([A-Za-z_$][\w$]*)"
)
_ANY_CLASS = re.compile(r"\bclass\s+([A-Za-z_$][\w$]*)")

# What the archives are trained on: a solution that reads, parses and prints the ways
# solutions do, with the collections, streams, lambdas, formatting, BigInteger and regex.
TRAINING = """\
import java.io.*;
import java.math.BigInteger;
import java.util.*;
import java.util.function.*;
import java.util.regex.*;
import java.util.stream.*;

public class Main {
    public static void main(String[] args) throws IOException {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
        String line = in.readLine();
        StringTokenizer st = new StringTokenizer(line == null ? "1 2" : line);
        long a = Long.parseLong(st.nextToken()), b = Long.parseLong(st.nextToken());
        Scanner sc = new Scanner("3 4.5 word\\nline two\\n");
        int n = sc.nextInt();
        double d = sc.nextDouble();
        String w = sc.next();
        sc.nextLine();
        String l2 = sc.nextLine();
        PrintWriter out = new PrintWriter(new BufferedWriter(new OutputStreamWriter(System.out)));
        StringBuilder sb = new StringBuilder();
        List<Integer> list = new ArrayList<>(List.of(5, 3, 1));
        Collections.sort(list);
        list.sort(Comparator.reverseOrder());
        Map<String, Integer> map = new HashMap<>();
        map.merge(w, 1, Integer::sum);
        TreeMap<Integer, Long> tm = new TreeMap<>();
        tm.put(n, a);
        TreeSet<Integer> ts = new TreeSet<>(list);
        ArrayDeque<int[]> dq = new ArrayDeque<>();
        dq.add(new int[] {1});
        dq.poll();
        PriorityQueue<long[]> pq = new PriorityQueue<>((x, y) -> Long.compare(x[0], y[0]));
        pq.add(new long[] {2});
        pq.poll();
        LinkedList<String> ll = new LinkedList<>(List.of(l2));
        HashSet<Long> hs = new HashSet<>(List.of(b));
        LinkedHashMap<Integer, Integer> lhm = new LinkedHashMap<>(Map.of(1, 2));
        int[] arr = {3, 1, 2};
        Arrays.sort(arr);
        long[] larr = {4, 2};
        Arrays.sort(larr);
        Integer[] boxed = {2, 1};
        Arrays.sort(boxed, (x, y) -> y - x);
        String joined = list.stream().map(String::valueOf).collect(Collectors.joining(" "));
        int sum = IntStream.range(0, 10).filter(i -> i % 2 == 0).sum();
        long cnt = Arrays.stream(arr).boxed().collect(Collectors.toList()).size();
        Map<Integer, List<Integer>> groups =
            list.stream().collect(Collectors.groupingBy(x -> x % 2));
        Function<Integer, Integer> f = x -> x + 1;
        Supplier<String> s = () -> "s";
        BiFunction<Long, Long, Long> g = Math::max;
        Optional<Integer> mx = list.stream().max(Integer::compare);
        BigInteger big = BigInteger.valueOf(a).pow(20).mod(BigInteger.valueOf(1_000_000_007L));
        Matcher m = Pattern.compile("(\\\\w+)\\\\s+(\\\\d+)").matcher("abc 123");
        m.find();
        String[] parts = "a,b,,c".split(",");
        sb.append(String.format("%.6f %d %s%n", d, n, m.group(1)));
        sb.append(String.join(",", parts)).append("x-y".replaceAll("-", "+")).append(joined);
        sb.append(sum).append(cnt).append(groups).append(f.apply(1)).append(s.get());
        sb.append(g.apply(1L, 2L)).append(mx.get()).append(big).append(hs).append(lhm).append(ll);
        sb.append(tm.floorKey(4)).append(ts.ceiling(2)).append(map).append(Math.abs(-1));
        sb.append(Character.isDigit('1')).append(Integer.toBinaryString(5));
        out.println(a + b);
        out.flush();
        System.out.printf("%s%n", sb.length() > 0 ? "" : sb);
    }
}
"""
TRAINING_INPUT = b"1 2\n"


class JavaLanguage(Language):
    def main_name(self, code: str) -> str:
        match = _PUBLIC_CLASS.search(code) or _ANY_CLASS.search(code)
        return match.group(1) if match else "Main"

    def source_name(self, code: str) -> str:
        return f"{self.main_name(code)}.java"

    def ran_out_of_memory(self, stderr: bytes) -> bool:
        # The heap is capped at the problem's limit (-Xmx), so the JVM fails before the
        # sandbox's memory limit is reached.
        return b"java.lang.OutOfMemoryError: Java heap space" in stderr


class _Archive(Prebuilt):
    """What both archives share: they are stale when the JDK changes."""

    file = ""  # the archive's name in its folder

    @functools.cache  # noqa: B019 - one instance, for the process's life
    def toolchain(self) -> tuple[str, ...]:
        home = Path(os.path.realpath(JAVA)).parent.parent
        return (
            os.path.realpath(JAVA),
            os.path.realpath(JAVAC),
            str(home / "lib" / "server" / "libjvm.so"),
            str(home / "lib" / "modules"),
            str(home / "lib" / "server" / "classes.jsa"),  # a dynamic archive's base
        )

    def inputs(self) -> list[str]:
        training = hashlib.sha256(TRAINING.encode()).hexdigest()
        argv = repr((LANGUAGE.compile_argv, LANGUAGE.run_argv))
        return [LANGUAGE.version, *map(str, self.identity()), argv, training]

    def args(self) -> tuple[str, ...]:
        return (f"{self._prefix()}-XX:SharedArchiveFile={self.mount}/{self.file}",)

    def links(self) -> tuple[str, ...]:
        return (JAVA, JAVAC)

    def refresh(self) -> None:
        _Archive.toolchain.cache_clear()
        LANGUAGE.__dict__.pop("version", None)  # functools.cached_property: run again

    def _built(self, folder: Path) -> None:
        """Check that the JDK wrote an archive (its size is in the store's manifest)."""
        try:
            size = (folder / self.file).stat().st_size
        except OSError:
            size = 0
        if not size:
            raise BuildFailed(f"the JDK wrote no {self.file}")

    def _prefix(self) -> str:
        return "-J" if self.stage == "compile" else ""


class JavacArchive(_Archive):
    """javac's classes, archived by javac compiling the training source with the flags
    submissions are compiled with."""

    name = "java-javac-cds"
    stage = "compile"
    mount = "/opt/codebattle/java-javac-cds"
    file = "javac.jsa"

    def build(self, folder: Path) -> None:
        with _training() as work:
            argv = [JAVAC, f"-J-XX:ArchiveClassesAtExit={folder / self.file}", *_compile_flags()]
            _host_run([*argv, str(work / "out"), str(work / "Main.java")], cwd=work)
        self._built(folder)

    def probe(self, sandbox: Sandbox, folder: Path) -> str | None:
        # Compiled as a submission is, but the archive must be mapped (-Xshare:on fails
        # otherwise), and the class file must be there.
        argv = [JAVAC, *self.args(), *_compile_flags(), "out", "-J-Xshare:on", "Main.java"]
        script = '"$@" && test -s out/Main.class && echo CLASS-WRITTEN'
        code, output = probe_run(
            sandbox,
            ["/bin/sh", "-c", f"mkdir out && {script}", "sh", *argv],
            {"Main.java": TRAINING.encode()},
            [Bind(folder, self.mount), *_jdk_binds()],
        )
        if code == 0 and b"CLASS-WRITTEN" in output:
            return None
        return output.decode(errors="replace").strip()[:2000] or f"javac exited with {code}"


class RuntimeArchive(_Archive):
    """The JDK classes that the training solution loads, in a static archive (it replaces
    the JDK's default one) dumped from their list with the runtime's flags."""

    name = "java-runtime-cds"
    stage = "run"
    mount = "/opt/codebattle/java-runtime-cds"
    file = "runtime.jsa"

    def build(self, folder: Path) -> None:
        flags = _run_flags(256)
        with _training() as work:
            _host_run([JAVAC, "-d", str(work / "out"), str(work / "Main.java")], cwd=work)
            listed = work / "loaded.lst"
            _host_run(
                [JAVA, *flags, f"-XX:DumpLoadedClassList={listed}", "-cp", "out", "Main"],
                cwd=work,
                stdin=TRAINING_INPUT,
            )
            own = {p.stem for p in (work / "out").glob("*.class")}
            kept = [line for line in listed.read_text().splitlines() if not _is_own(line, own)]
            (folder / "classes.lst").write_text("\n".join(kept) + "\n")
        _host_run(
            [JAVA, *flags, "-Xshare:dump", f"-XX:SharedClassListFile={folder / 'classes.lst'}",
             f"-XX:SharedArchiveFile={folder / self.file}"],
            cwd=folder,
        )  # fmt: skip
        self._built(folder)

    def probe(self, sandbox: Sandbox, folder: Path) -> str | None:
        # The training solution run as a submission is, from /prog: the archive must be
        # mapped (-Xshare:on) and the JDK classes loaded from it.
        with _training() as work:
            _host_run([JAVAC, "-d", str(work / "out"), str(work / "Main.java")], cwd=work)
            flags = _run_flags(256)
            argv = [JAVA, *self.args(), *flags, "-Xshare:on", "-Xlog:class+load=info"]
            code, output = probe_run(
                sandbox,
                ["/bin/sh", "-c", '"$@" < in.txt', "sh", *argv, "-cp", "/prog", "Main"],
                {"in.txt": TRAINING_INPUT},
                [Bind(work / "out", "/prog"), Bind(folder, self.mount), *_jdk_binds()],
            )
        if code == 0 and b"java.util.StringTokenizer source: shared objects file" in output:
            return None
        return output.decode(errors="replace").strip()[-2000:] or f"java exited with {code}"


def _is_own(line: str, own: set[str]) -> bool:
    """Whether a class-list line names a class of the training solution (not the JDK's)."""
    first = line.split()[0] if line.strip() else ""
    if first.startswith("@lambda-proxy"):
        first = line.split()[1]
    return first.split("$")[0] in own


def _compile_flags() -> list[str]:
    """javac's options as submissions have them, ending with -d (the caller adds its
    folder and the source)."""
    argv = LANGUAGE.compile_argv or ()
    return list(argv[1 : argv.index("-d") + 1])


def _run_flags(memory_mb: int) -> list[str]:
    """The JVM's options as a run has them (without the class path and class)."""
    argv = LANGUAGE.run_argv
    return [a.replace("{memory_mb}", str(memory_mb)) for a in argv[1 : argv.index("-cp")]]


def _jdk_binds() -> list[Bind]:
    return [Bind(p, str(p)) for p in LANGUAGE.bind_paths()]


@contextmanager
def _training() -> Iterator[Path]:
    """A folder on the host with the training source, readable by the sandbox's user."""
    work = Path(tempfile.mkdtemp(prefix="codebattle-java-cds-"))
    try:
        work.chmod(0o755)
        (work / "Main.java").write_text(TRAINING)
        (work / "out").mkdir(mode=0o755)
        yield work
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _host_run(argv: list[str], cwd: Path, stdin: bytes = b"") -> None:
    """Run the host's JDK on trusted inputs; BuildFailed when it fails."""
    try:
        out = subprocess.run(  # noqa: S603 - the host's JDK, argument list
            argv, cwd=cwd, input=stdin, capture_output=True, timeout=300, env={}
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise BuildFailed(f"{argv[0]}: {exc}") from exc
    if out.returncode != 0:
        raise BuildFailed((out.stderr or out.stdout).decode(errors="replace").strip()[:2000])
    for path in cwd.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)


LANGUAGE = JavaLanguage(
    name="java",
    title="Java 17",
    extensions=(".java",),
    compile_argv=(
        JAVAC,
        "-J-XX:+UseSerialGC",
        "-J-XX:-UsePerfData",
        "-J-Xshare:auto",
        *(f"-J{flag}" for flag in _LOG),
        "-J-XX:TieredStopAtLevel=1",
        "-J-Xmx512m",
        "-encoding",
        "UTF-8",
        "-proc:none",
        "-Xmaxerrs",
        "20",
        "-d",
        "out",
        "{source}",
    ),
    run_argv=(
        JAVA,
        "-Xmx{memory_mb}m",
        "-Xss64m",
        "-XX:+UseSerialGC",
        "-XX:-UsePerfData",
        "-Xshare:auto",
        *_LOG,
        "-XX:CICompilerCount=2",
        "-XX:ReservedCodeCacheSize=64m",
        "-XX:MaxMetaspaceSize=128m",
        "-cp",
        "/prog",
        "{main}",
    ),
    version_argv=(JAVAC, "-version"),
    binds=("/etc/java-17-openjdk",),
    memory_overhead=192 * MiB,
    processes=64,
    compile_processes=64,
    template=(
        "import java.io.*;\nimport java.util.*;\n\npublic class Main {\n"
        "    public static void main(String[] args) throws IOException {\n"
        "        BufferedReader in = new BufferedReader(new InputStreamReader(System.in));\n"
        "        // Solve the problem here and print the answer.\n"
        "    }\n}\n"
    ),
    package_template="Main.java",
    package_codes=("java",),
    fence_tags=frozenset({"java"}),
    prompt_notes=("The public class must be named Main, with no package declaration.",),
    prebuilt=(JavacArchive(), RuntimeArchive()),
)
