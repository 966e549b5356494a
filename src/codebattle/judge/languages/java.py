"""Java 17: javac, then the JVM with the heap capped at the problem's memory limit.

The source may name its public class anything: the file is named after it. The JVM's own
memory (code cache, metaspace, threads) is granted on top of the heap so that a normal
program is not MLE; the heap (-Xmx) is the problem's limit.
"""

import re

from codebattle.judge.languages.base import Language, MiB

_PUBLIC_CLASS = re.compile(
    r"\bpublic\s+(?:(?:final|abstract|strictfp)\s+)*class\s+([A-Za-z_$][\w$]*)"
)
_ANY_CLASS = re.compile(r"\bclass\s+([A-Za-z_$][\w$]*)")


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


LANGUAGE = JavaLanguage(
    name="java",
    title="Java 17",
    extensions=(".java",),
    compile_argv=(
        "/usr/bin/javac",
        "-J-XX:+UseSerialGC",
        "-J-XX:-UsePerfData",
        "-J-Xshare:auto",
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
        "/usr/bin/java",
        "-Xmx{memory_mb}m",
        "-Xss64m",
        "-XX:+UseSerialGC",
        "-XX:-UsePerfData",
        "-Xshare:auto",
        "-XX:CICompilerCount=2",
        "-XX:ReservedCodeCacheSize=64m",
        "-XX:MaxMetaspaceSize=128m",
        "-cp",
        "/prog",
        "{main}",
    ),
    version_argv=("/usr/bin/javac", "-version"),
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
)
