#!/usr/bin/env python3
"""Generates data/sample and data/secret for bracket-depth (deterministic, stdlib only).

Run from anywhere:  python3 generators/gen.py
"""
import os
import random

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data")
OPEN = "([{<"
CLOSE = ")]}>"
PARTNER = {c: o for o, c in zip(OPEN, CLOSE)}


def solve(s):
    stack = []
    depth = 0
    for i, c in enumerate(s):
        if c in OPEN:
            stack.append(c)
            depth = max(depth, len(stack))
        elif not stack or stack.pop() != PARTNER[c]:
            return f"NO {i + 1}"
    if stack:
        return f"NO {len(s) + 1}"
    return f"YES {depth}"


def write(folder, name, s):
    assert 1 <= len(s) <= 10**6
    d = os.path.join(ROOT, folder)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name + ".in"), "w") as f:
        f.write(s + "\n")
    with open(os.path.join(d, name + ".ans"), "w") as f:
        f.write(solve(s) + "\n")


def nested(rng, depth):
    """depth opening brackets of random types followed by their closings."""
    opens = [rng.randrange(4) for _ in range(depth)]
    return "".join(OPEN[t] for t in opens) + "".join(CLOSE[t] for t in reversed(opens))


def random_valid(rng, length, p_open=0.5):
    """A random valid sequence of the given (even) length."""
    out = []
    stack = []
    while len(out) + len(stack) < length:
        room = length - len(out) - len(stack)  # characters still to place beyond the closings
        if stack and (room < 2 or rng.random() >= p_open):
            out.append(CLOSE[stack.pop()])
        else:
            t = rng.randrange(4)
            stack.append(t)
            out.append(OPEN[t])
    while stack:
        out.append(CLOSE[stack.pop()])
    return "".join(out)


def wrong_type(c):
    i = CLOSE.index(c)
    return CLOSE[(i + 1) % 4]


def main():
    rng = random.Random(7340061)
    write("sample", "1", "([]{()})")
    write("sample", "2", "(<)>")
    write("sample", "3", "[[]")

    sec = "secret"
    write(sec, "01-single-open", "(")
    write(sec, "02-single-close", ">")
    write(sec, "03-one-pair", "<>")
    write(sec, "04-crossed", "{[}]")
    write(sec, "05-all-types", "()[]{}<>")
    write(sec, "06-only-opens", "([{<" * 3)
    write(sec, "07-deep-max", nested(rng, 500000))
    write(sec, "08-random-valid-big", random_valid(rng, 600000))
    s = nested(rng, 150000)
    write(sec, "09-deep-bad-last", s[:-1] + wrong_type(s[-1]))
    write(sec, "10-wide", "".join(rng.choice(["()", "[]", "{}", "<>"]) for _ in range(100000)))
    s = list(random_valid(rng, 200000, 0.55))
    closes = [i for i, c in enumerate(s) if c in CLOSE]
    pos = closes[len(closes) // 2]
    s[pos] = wrong_type(s[pos])
    write(sec, "11-wrong-type-middle", "".join(s))
    write(sec, "12-unclosed-tail", random_valid(rng, 199998) + "{")
    s = random_valid(rng, 100000)
    write(sec, "13-extra-close", s + "]" + random_valid(rng, 100000))
    write(sec, "14-starts-closed", ")" + random_valid(rng, 1000))
    write(sec, "15-deep-unclosed", nested(rng, 100000) + "<" * 100000)
    write(sec, "16-odd-length", random_valid(rng, 99998) + ")" )
    write(sec, "17-deep-then-wide", nested(rng, 50000) + random_valid(rng, 50000, 0.3) + nested(rng, 49000))
    write(sec, "18-close-at-end", random_valid(rng, 1000) + "]")
    write(sec, "19-only-closes", ")]}>" * 5)


if __name__ == "__main__":
    main()
