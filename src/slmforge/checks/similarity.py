"""Similarity: near-duplicates of a reference set (leakage of golden / training texts), near-duplicates
inside a set (the clean stage's dedup), and distinct-n.

Near-duplicates use MinHash (Broder 1997) with locality-sensitive hashing from ``datasketch``
(``MinHash``, ``MinHashLSH``) over character n-grams of the normalised text — 3-grams when the text
holds CJK (no spaces to split on), 5-grams otherwise — so that the estimate is comparable across
languages. Distinct-n is Li et al. 2016 ("A Diversity-Promoting Objective Function for Neural
Conversation Models"): unique n-grams / all n-grams over a set of texts.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from datasketch import MinHash, MinHashLSH

from slmforge.checks.text import CJK_RE, prepare
from slmforge.checks.types import CheckResult, Finding

NAME = "similarity"
NUM_PERM = 128
DEFAULT_THRESHOLD = 0.8
"""Estimated Jaccard similarity (of n-gram sets) at or above which a text counts as a near-duplicate."""


def shingles(text: str, n: int | None = None) -> set[str]:
    """Character n-gram set of the normalised text, whitespace collapsed.

    Args:
        text: any text.
        n: n-gram size in characters; ``None`` picks 3 when the text holds CJK, 5 otherwise.

    Returns:
        The set of n-grams; a text of at most ``n`` characters is its own single shingle, and an
        empty text has none.
    """
    norm = " ".join(prepare(text).norm.split())
    if n is None:
        n = 3 if CJK_RE.search(norm) else 5
    if len(norm) <= n:
        return {norm} if norm else set()
    return {norm[i:i + n] for i in range(len(norm) - n + 1)}


def minhash(text: str, *, num_perm: int = NUM_PERM, n: int | None = None) -> MinHash:
    """A datasketch ``MinHash`` (``num_perm`` permutations, seed 1) of :func:`shingles` (``n`` as there)."""
    m = MinHash(num_perm=num_perm, seed=1)
    m.update_batch([s.encode("utf-8") for s in shingles(text, n)])
    return m


@dataclass(frozen=True)
class Duplicate:
    """A near-duplicate to drop: ``index`` goes in favour of ``kept`` (indices into the input list)."""

    index: int
    kept: int
    jaccard: float


def near_duplicates(texts: Sequence[str], scores: Sequence[float], *, threshold: float = DEFAULT_THRESHOLD,
                    n: int | None = None, num_perm: int = NUM_PERM) -> list[Duplicate]:
    """The texts to drop so that no two kept texts are near-duplicates, keeping the better-scored one.

    Texts are visited best-scored first (ties: the earlier text) and each is compared, through an
    LSH index, with the texts kept so far; one whose estimated Jaccard to a kept text is at or above
    ``threshold`` is dropped.

    Args:
        texts: ``[N]`` texts.
        scores: ``[N]`` quality scores (higher is better).
        threshold: estimated Jaccard similarity (0..1) at or above which two texts are duplicates.
        n: shingle size in characters (see :func:`shingles`; ``None``: 3 for CJK, 5 otherwise).
        num_perm: MinHash permutations.

    Returns:
        One :class:`Duplicate` per dropped text, sorted by index.

    Raises:
        ValueError: ``texts`` and ``scores`` differ in length.
    """
    if len(texts) != len(scores):
        raise ValueError(f"{len(texts)} texts but {len(scores)} scores")
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    kept: dict[int, MinHash] = {}
    dups: list[Duplicate] = []
    for i in sorted(range(len(texts)), key=lambda j: (-scores[j], j)):
        m = minhash(texts[i], num_perm=num_perm, n=n)
        best = max(((m.jaccard(kept[int(k)]), int(k)) for k in lsh.query(m)), default=None)
        if best is not None and best[0] >= threshold:
            dups.append(Duplicate(index=i, kept=best[1], jaccard=round(best[0], 4)))
            continue
        kept[i] = m
        lsh.insert(str(i), m)
    return sorted(dups, key=lambda d: d.index)


class NearDuplicateIndex:
    """An LSH index over a reference set, answering "which references is this text a near-copy of?".

    Args:
        corpus: reference texts, ``[m]`` (golden examples, training data).
        threshold: Jaccard threshold of the LSH and of a near-duplicate verdict.
        num_perm: MinHash permutations (accuracy ≈ 1/√num_perm of the Jaccard estimate).
    """

    def __init__(self, corpus: Sequence[str], *, threshold: float = DEFAULT_THRESHOLD, num_perm: int = NUM_PERM) -> None:
        self.threshold = threshold
        self.num_perm = num_perm
        self.lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
        self.hashes: dict[str, MinHash] = {}
        for i, text in enumerate(corpus):
            key = str(i)
            self.hashes[key] = minhash(text, num_perm=num_perm)
            self.lsh.insert(key, self.hashes[key])

    def nearest(self, text: str) -> tuple[int | None, float]:
        """Index of the most similar LSH candidate in the corpus and its estimated Jaccard (None, 0.0 when none)."""
        m = minhash(text, num_perm=self.num_perm)
        best, best_j = None, 0.0
        for key in self.lsh.query(m):
            j = m.jaccard(self.hashes[key])
            if j > best_j:
                best, best_j = int(key), j
        return best, best_j

    def check(self, text: str) -> CheckResult:
        """Leakage check of one text.

        Score: 1 while the estimated Jaccard ``j`` to the nearest reference is at most the threshold,
        then falls linearly to 0 at ``j = 1`` (an exact copy). Passed: ``j`` below the threshold.
        """
        idx, j = self.nearest(text)
        score = 1.0 if j <= self.threshold else max(0.0, (1 - j) / (1 - self.threshold))
        findings = []
        if j >= self.threshold:
            findings.append(Finding(NAME, "near_duplicate", f"near-copy of reference #{idx} (Jaccard ≈ {j:.2f})"))
        return CheckResult(NAME, score, not findings, findings, {"nearest": idx, "jaccard": round(j, 3)})


def _tokens(text: str) -> list[str]:
    norm = prepare(text).norm
    if CJK_RE.search(norm):
        return [c for c in norm if not c.isspace()]
    return norm.split()


def distinct_n(texts: Iterable[str], n: int = 2) -> float:
    """Distinct-n (Li et al. 2016): unique n-grams / total n-grams over all texts, in [0, 1].

    Tokens are characters for CJK text and whitespace-separated words otherwise. 0.0 when the texts
    hold no n-gram.
    """
    seen: set[tuple[str, ...]] = set()
    total = 0
    for text in texts:
        toks = _tokens(text)
        grams = [tuple(toks[i:i + n]) for i in range(len(toks) - n + 1)]
        total += len(grams)
        seen.update(grams)
    return len(seen) / total if total else 0.0


def pairwise_max_jaccard(texts: Sequence[str], *, num_perm: int = NUM_PERM) -> np.ndarray:
    """For each text, the highest estimated Jaccard to any *other* text of the set, ``[n]`` floats
    (self-duplication inside a generated set; all pairs, O(n²) comparisons of MinHash signatures)."""
    if len(texts) < 2:
        return np.zeros(len(texts))
    sig = np.stack([minhash(t, num_perm=num_perm).hashvalues for t in texts])
    out = np.zeros(len(texts))
    for s in range(0, len(texts), 64):  # blocks of 64 rows keep memory at 64 × n × num_perm booleans
        eq = (sig[s:s + 64, None, :] == sig[None, :, :]).mean(axis=2)
        eq[np.arange(eq.shape[0]), np.arange(s, s + eq.shape[0])] = 0.0
        out[s:s + 64] = eq.max(axis=1)
    return out
