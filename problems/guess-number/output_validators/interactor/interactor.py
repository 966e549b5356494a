#!/usr/bin/env python3
"""Interactor for guess-number (Kattis interface).

    interactor input_file answer_file feedback_dir  (stdin: submission's output,
                                                     stdout: submission's input)

input_file holds "N K" on the first line and the hidden number S on the second.
Protocol: the interactor first sends "N K". The submission then sends lines "? x"
(1 <= x <= N, at most K of them), each answered with "<" (S < x), ">" (S > x) or
"=" (S = x), and finally one line "! x" with its answer, after which it must exit.
Exit 42 accepts; exit 43 rejects, with the reason in feedback_dir/judgemessage.txt.
"""
import os
import re
import sys
import time

MAX_LINE = 100  # longer lines are malformed anyway
# When the submission hangs up early (end of its output, or it stopped reading), it has
# almost always crashed or is exiting. Waiting a moment before rejecting lets the judge
# see the submission's own exit first, so a crash is reported as a run-time error and
# not as a wrong answer whichever process the operating system happens to reap first.
HANG_UP_GRACE = 0.3  # seconds
NUMBER = re.compile(rb"[0-9]{1,10}")

feedback_dir = sys.argv[3] if len(sys.argv) > 3 else None


def finish(code: int, message: str, hang_up: bool = False) -> None:
    if hang_up:
        time.sleep(HANG_UP_GRACE)
    if feedback_dir:
        try:
            with open(os.path.join(feedback_dir, "judgemessage.txt"), "a") as f:
                f.write(message + "\n")
        except OSError:
            pass
    # os._exit: never let a failed flush at interpreter shutdown change the exit code.
    os._exit(code)


def send(text: str) -> None:
    try:
        sys.stdout.buffer.write(text.encode() + b"\n")
        sys.stdout.buffer.flush()
    except (BrokenPipeError, OSError):
        finish(43, "the submission stopped reading its input", hang_up=True)


def show(raw: bytes) -> str:
    text = raw[:40].decode("ascii", "backslashreplace")
    return repr(text + ("..." if len(raw) > 40 else ""))


def main() -> None:
    if len(sys.argv) < 4:
        print("usage: interactor input_file answer_file feedback_dir", file=sys.stderr)
        os._exit(1)
    with open(sys.argv[1]) as f:
        n, k = map(int, f.readline().split())
        secret = int(f.readline())

    send(f"{n} {k}")
    queries = 0
    inp = sys.stdin.buffer
    while True:
        raw = inp.readline(MAX_LINE + 1)
        if not raw:
            finish(43, f"end of output before an answer '! x' (after {queries} queries)", hang_up=True)
        if len(raw) > MAX_LINE:
            finish(43, f"line too long after {queries} queries: {show(raw)}")
        parts = raw.split()
        if len(parts) != 2 or parts[0] not in (b"?", b"!") or not NUMBER.fullmatch(parts[1]):
            finish(43, f"malformed line after {queries} queries: {show(raw)}")
        kind, x = parts[0], int(parts[1])
        if not 1 <= x <= n:
            finish(43, f"number {x} is outside [1, {n}]")
        if kind == b"?":
            queries += 1
            if queries > k:
                finish(43, f"too many queries: more than {k}")
            send("<" if secret < x else ">" if secret > x else "=")
            continue
        # kind == b"!": the final answer
        if x != secret:
            finish(43, f"wrong answer: claimed {x}, the hidden number is {secret}")
        rest = inp.read(1 << 16)
        if rest.strip():
            finish(43, f"extra output after the answer: {show(rest.strip())}")
        finish(42, f"correct: found {secret} with {queries} of {k} queries")


if __name__ == "__main__":
    main()
