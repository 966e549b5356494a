#!/usr/bin/env python3
"""Generates data/sample and data/secret for mirror-names (deterministic, stdlib only).

Run from anywhere:  python3 generators/gen.py
"""
import os
import random
import string

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data")
MAXT = 10**5
MAXLEN = 5 * 10**5


def changes(w):
    h = len(w) // 2
    return sum(1 for i in range(h) if w[i] != w[-1 - i])


def write(folder, name, words):
    assert 1 <= len(words) <= MAXT and sum(map(len, words)) <= MAXLEN
    assert all(w and set(w) <= set(string.ascii_lowercase) for w in words)
    d = os.path.join(ROOT, folder)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name + ".in"), "w") as f:
        f.write(f"{len(words)}\n" + "".join(w + "\n" for w in words))
    with open(os.path.join(d, name + ".ans"), "w") as f:
        f.write("".join(f"{changes(w)}\n" for w in words))


def rand_word(rng, length, alphabet=string.ascii_lowercase):
    return "".join(rng.choice(alphabet) for _ in range(length))


def palindrome(rng, length, alphabet=string.ascii_lowercase):
    half = rand_word(rng, length // 2, alphabet)
    mid = rand_word(rng, length % 2, alphabet)
    return half + mid + half[::-1]


def near_palindrome(rng, length, flips):
    """A palindrome with `flips` mirrored pairs broken (so the answer is exactly `flips`)."""
    w = list(palindrome(rng, length))
    for i in rng.sample(range(length // 2), flips):
        w[i] = chr((ord(w[i]) - 97 + rng.randrange(1, 26)) % 26 + 97)
    return "".join(w)


def main():
    rng = random.Random(20240611)
    write("sample", "1", ["level", "robot", "battle", "z"])
    write("sample", "2", ["ab", "aabb", "abcba"])

    s = "secret"
    write(s, "01-single-letter", ["q"])
    write(s, "02-tiny", ["aa", "ab", "ba", "zz", "aba", "abb", "bba", "abab", "abba", "baab"])
    write(s, "03-all-palindromes", [palindrome(rng, rng.randint(1, 30)) for _ in range(500)])
    write(s, "04-small-two-letters", [rand_word(rng, rng.randint(1, 20), "ab") for _ in range(2000)])
    words = []
    for _ in range(2000):
        n = rng.randint(2, 200)
        words.append(near_palindrome(rng, n, rng.randint(0, min(3, n // 2))))
    write(s, "05-near-palindromes", words)
    write(s, "06-max-t-short", [rand_word(rng, rng.randint(1, 5)) for _ in range(MAXT)])
    write(s, "07-long-palindrome", [palindrome(rng, MAXLEN - 1, "xy")])
    write(s, "08-long-all-wrong", ["a" * (MAXLEN // 2) + "b" * (MAXLEN // 2)])
    write(s, "09-long-random", [rand_word(rng, MAXLEN)])
    w = palindrome(rng, 99999)
    write(s, "10-odd-middle", [w[:49999] + "m" + w[50000:], near_palindrome(rng, 100000, 1), "ab" * 1000])
    words = [rand_word(rng, 100000, "abc") for _ in range(3)]
    words += [near_palindrome(rng, rng.randint(1, 9), 0) for _ in range(40000)]
    write(s, "11-max-mixed", words)


if __name__ == "__main__":
    main()
