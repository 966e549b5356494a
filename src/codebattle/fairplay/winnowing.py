"""Winnowing (Schleimer, Wilkerson, Aiken 2003): a few hashes that stand for a document.

Hash every k-gram of tokens, then keep the minimum hash of every window of `window`
consecutive k-gram hashes (the rightmost on ties), each once. Any shared run of at least
`window + k - 1` tokens is guaranteed to share a kept hash; runs shorter than `k` are noise.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

# Hashes fit in 53 bits so they survive JSON in a browser too.
_MASK = (1 << 53) - 1


def gram_hash(texts: Sequence[str]) -> int:
    """A stable hash of one k-gram (stable across runs and processes, unlike hash())."""
    digest = hashlib.blake2b("\x1f".join(texts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") & _MASK


def kgram_hashes(texts: Sequence[str], k: int) -> list[int]:
    """The hash of every k-gram; a text shorter than k is one gram."""
    if not texts:
        return []
    if len(texts) <= k:
        return [gram_hash(texts)]
    return [gram_hash(texts[i : i + k]) for i in range(len(texts) - k + 1)]


def winnow(hashes: Sequence[int], window: int) -> list[int]:
    """The positions of the kept hashes, in order: each window's rightmost minimum."""
    if not hashes:
        return []
    if len(hashes) <= window:
        window = len(hashes)
    kept: list[int] = []
    best = -1
    for end in range(window - 1, len(hashes)):
        start = end - window + 1
        if best < start:
            # The previous minimum left the window: scan it, rightmost minimum wins.
            best = start
            for i in range(start + 1, end + 1):
                if hashes[i] <= hashes[best]:
                    best = i
        elif hashes[end] <= hashes[best]:
            best = end
        else:
            continue
        if not kept or kept[-1] != best:
            kept.append(best)
    return kept
