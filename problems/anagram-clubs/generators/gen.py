#!/usr/bin/env python3
"""Generates data/sample and data/secret for anagram-clubs (deterministic, stdlib only).

Run from anywhere:  python3 generators/gen.py
"""
import os
import random
import string
from collections import Counter

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data")
MAXN = 10**5
MAXLEN = 5 * 10**5


def solve(words):
    clubs = Counter("".join(sorted(w)) for w in words)
    return f"{len(clubs)} {max(clubs.values())}"


def write(folder, name, words):
    assert 1 <= len(words) <= MAXN and sum(map(len, words)) <= MAXLEN
    assert all(w and set(w) <= set(string.ascii_lowercase) for w in words)
    d = os.path.join(ROOT, folder)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name + ".in"), "w") as f:
        f.write(f"{len(words)}\n" + "".join(w + "\n" for w in words))
    with open(os.path.join(d, name + ".ans"), "w") as f:
        f.write(solve(words) + "\n")


def rand_word(rng, length, alphabet=string.ascii_lowercase):
    return "".join(rng.choice(alphabet) for _ in range(length))


def shuffled(rng, w):
    c = list(w)
    rng.shuffle(c)
    return "".join(c)


def main():
    rng = random.Random(8675309)
    write("sample", "1", ["listen", "silent", "google", "enlist", "banana", "tinsel"])
    write("sample", "2", ["abc", "b", "cab"])

    s = "secret"
    write(s, "01-one-word", ["x"])
    write(s, "02-all-equal", ["battle"] * 1000)
    write(s, "03-single-letters", list(string.ascii_lowercase) * 3 + ["q"])
    # Same set of letters, different counts: these are all different clubs
    # except for the shuffled copies.
    base = ["ab", "aab", "abb", "aabb", "aaab", "abbb", "ba", "aba", "bab", "baab"]
    write(s, "04-same-letter-sets", base + [shuffled(rng, w) for w in base * 20])
    write(s, "05-small-random", [rand_word(rng, rng.randint(1, 4), "abc") for _ in range(3000)])
    # Distinct multisets of 5 letters: every word founds its own club.
    seen, words = set(), []
    while len(words) < MAXN:
        w = rand_word(rng, 5)
        k = "".join(sorted(w))
        if k not in seen:
            seen.add(k)
            words.append(w)
    write(s, "06-max-n-all-different", words)
    bases = [rand_word(rng, 5) for _ in range(10)]
    write(s, "07-max-n-few-clubs", [shuffled(rng, rng.choice(bases)) for _ in range(MAXN)])
    w = rand_word(rng, MAXLEN // 5)
    longs = [shuffled(rng, w) for _ in range(4)]
    odd = list(shuffled(rng, w))
    odd[0] = "a" if odd[0] != "a" else "b"
    write(s, "08-long-words", longs + ["".join(odd)])
    words = []
    total = 0
    while total < MAXLEN - 200:
        length = rng.choice([1, 2, 3, 8, 20, 100])
        w = rand_word(rng, length, "abcd" if length < 8 else "ab")
        words.append(w)
        total += length
    write(s, "09-random-lengths", words[:MAXN])
    perm = [shuffled(rng, "abcdefgh") for _ in range(50000)]
    write(s, "10-permutations", perm + ["abcdefgi"])


if __name__ == "__main__":
    main()
