"""Similarity (issue 13): fingerprint a submission and rank 1000 stored ones.

The stored set: variants of every accepted solution in problems/*/submissions/accepted
(Python, C++, Java) — identifiers renamed, whitespace and blank lines moved, comments added,
adjacent statements swapped — until there are `--stored` of them, fingerprinted and indexed
once, less the boilerplate `common` to 3 or more original solutions of a language. Then,
per candidate (a fresh variant of a random solution): `fingerprint`, `subtract` and
`best_matches` against the index, timed together. The peer, in the same run: the usual bare
way, `difflib.SequenceMatcher(None, candidate, stored).ratio()` of the raw text against each
stored text (on fewer candidates: it is slow). Both report how often their best match is a
variant of the candidate's own solution. Target: ours under 20 ms per submission at p95.

    .venv/bin/python bench/similarity.py [--stored 1000] [--candidates 200] [--peer 10]
"""

from __future__ import annotations

import argparse
import difflib
import keyword
import random
import re
import statistics
import time
from pathlib import Path

from codebattle.fairplay import Fingerprint, Index, best_matches, common, fingerprint, subtract

ROOT = Path(__file__).resolve().parents[1]
LANGUAGES = {".py": "python", ".cpp": "cpp", ".java": "java"}
COMMENT = {"python": "# ", "cpp": "// ", "java": "// "}
WORD = re.compile(r"\b[a-z_][a-z0-9_]*\b")
# Names the renamer leaves alone: keywords and what a real renamer could not touch.
FIXED = set(keyword.kwlist) | set(
    str.split(
        "int long short char bool void double float auto const static return if else for "
        "while do break continue new class public private protected import include using "
        "namespace std main print input range len str list dict set map sorted sum min max "
        "sys stdin readline split cin cout endl vector string sort true false null nullptr "
        "this boolean byte java util io args out println in system size begin end push_back "
        "append throws throw try catch finally final unsigned signed struct typedef template "
        "typename sizeof switch case default goto extern inline operator delete extends "
        "implements interface instanceof super enum package var define ifdef ifndef endif "
        "pragma"
    )
)


def solutions() -> list[tuple[str, str, str]]:
    """(name, language, code) of every accepted solution in the known languages."""
    found = []
    for path in sorted(ROOT.glob("problems/*/submissions/accepted/*")):
        language = LANGUAGES.get(path.suffix)
        if language:
            found.append((f"{path.parts[-4]}/{path.name}", language, path.read_text()))
    return found


def variant(language: str, code: str, rng: random.Random) -> str:
    """A disguised copy: renamed identifiers, moved whitespace, comments, a swapped pair."""
    names: dict[str, str] = {}

    def rename(m: re.Match[str]) -> str:
        word = m.group(0)
        if word in FIXED:
            return word
        return names.setdefault(word, f"{rng.choice('abcdefghxyz')}{rng.randrange(10**4)}")

    lines = [WORD.sub(rename, line) for line in code.splitlines()]
    if rng.random() < 0.5 and len(lines) > 4:  # swap two adjacent lines of one indentation
        i = rng.randrange(1, len(lines) - 2)
        indent = len(lines[i]) - len(lines[i].lstrip())
        if indent == len(lines[i + 1]) - len(lines[i + 1].lstrip()) and indent > 0:
            lines[i], lines[i + 1] = lines[i + 1], lines[i]
    out = []
    for line in lines:
        if rng.random() < 0.1:
            out.append(COMMENT[language] + "note " + str(rng.randrange(100)))
        if rng.random() < 0.1:
            out.append("")
        if language != "python":
            line = line.replace("    ", rng.choice(["  ", "\t", "    "]))
        out.append(line.rstrip() + (" " * rng.randrange(3)))
    return "\n".join(out) + "\n"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stored", type=int, default=1000)
    parser.add_argument("--candidates", type=int, default=200)
    parser.add_argument("--peer", type=int, default=10, help="candidates for the difflib peer")
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    base = solutions()

    stored: list[tuple[str, str, str]] = []  # (key, language, code); key = origin#n
    for n in range(args.stored):
        name, language, code = base[n % len(base)]
        stored.append((f"{name}#{n}", language, variant(language, code, rng)))
    # Boilerplate: what at least 3 of the original solutions of one language share (the
    # Java fast-input reader, the C++ stream header), subtracted from every side.
    boilerplate: dict[str, Fingerprint] = {}
    for language in LANGUAGES.values():
        own = [fingerprint(language, code) for _, lang, code in base if lang == language]
        boilerplate[language] = common(own, at_least=3)
    started = time.perf_counter()
    raw = [(key, lang, fingerprint(lang, code)) for key, lang, code in stored]
    fingerprinting = time.perf_counter() - started
    started = time.perf_counter()
    index = Index((key, subtract(fp, boilerplate[lang])) for key, lang, fp in raw)
    indexing = time.perf_counter() - started
    unfiltered = Index((key, fp) for key, _, fp in raw)
    print(
        f"{len(base)} solutions, {len(stored)} stored variants; boilerplate hashes: "
        + ", ".join(f"{lang} {len(fp.hashes)}" for lang, fp in boilerplate.items())
    )
    print(
        f"fingerprinting the stored: {fingerprinting * 1000:.0f} ms, "
        f"indexing: {indexing * 1000:.1f} ms"
    )

    candidates = [base[rng.randrange(len(base))] for _ in range(args.candidates)]
    candidates = [(n, lang, variant(lang, code, rng)) for n, lang, code in candidates]

    ours, hits, scores, others, unfiltered_others = [], 0, [], [], []
    for name, language, code in candidates:
        started = time.perf_counter()
        mine = subtract(fingerprint(language, code), boilerplate[language])
        found = best_matches(mine, index, limit=10)
        ours.append((time.perf_counter() - started) * 1000)
        if found and found[0][0].split("#")[0] == name:
            hits += 1
            scores.append(found[0][1].score)
        # The closest variant of another solution (untimed): how high unrelated code scores.
        for into, where, fp in (
            (others, index, mine),
            (unfiltered_others, unfiltered, fingerprint(language, code)),
        ):
            every = where.best(fp, limit=len(where))
            into.append(max((m.score for k, m in every if k.split("#")[0] != name), default=0))
    print(
        f"ours (fingerprint + subtract + best_matches against {len(index)}), "
        f"{len(candidates)} candidates: p50 {percentile(ours, 0.5):.2f} ms, "
        f"p95 {percentile(ours, 0.95):.2f} ms, max {max(ours):.2f} ms; "
        f"best match is its own solution {hits}/{len(candidates)}, "
        f"median score {statistics.median(scores) if scores else 0:.2f}; "
        f"best other solution: median {statistics.median(others):.2f}, max {max(others):.2f} "
        f"(without subtracting boilerplate: median {statistics.median(unfiltered_others):.2f}, "
        f"max {max(unfiltered_others):.2f})"
    )

    peer, peer_hits = [], 0
    for name, _, code in candidates[: args.peer]:
        started = time.perf_counter()
        ratios = [
            (difflib.SequenceMatcher(None, code, other).ratio(), key) for key, _, other in stored
        ]
        best = max(ratios)
        peer.append((time.perf_counter() - started) * 1000)
        peer_hits += best[1].split("#")[0] == name
    print(
        f"peer (difflib ratio of the raw text against {len(stored)}), "
        f"{len(peer)} candidates: p50 {percentile(peer, 0.5):.0f} ms, "
        f"p95 {percentile(peer, 0.95):.0f} ms; "
        f"best match is its own solution {peer_hits}/{len(peer)}"
    )
    print(f"p50 ratio peer / ours: {percentile(peer, 0.5) / percentile(ours, 0.5):.0f}x")


if __name__ == "__main__":
    main()
