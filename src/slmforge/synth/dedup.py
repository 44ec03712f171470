"""Near-duplicate removal with MinHash LSH (datasketch), character n-grams for CJK text.

Method: Broder (1997) MinHash estimates the Jaccard similarity of shingle sets; locality-sensitive
hashing (datasketch ``MinHashLSH``) finds candidate pairs above a threshold without comparing all
pairs. Texts are visited best-scored first, so of a near-duplicate pair the better-scored is kept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from datasketch import MinHash, MinHashLSH

CJK_LANGUAGES = ("zh", "ja", "ko")
_SPACE = re.compile(r"\s+")
_WORD = re.compile(r"\w+", re.UNICODE)


def shingles(text: str, *, n: int = 3, language: str = "zh") -> set[str]:
    """The shingle set of a text.

    Args:
        text: any text.
        n: shingle size — characters for CJK languages (whitespace removed), words otherwise.
        language: BCP-47 tag of the kit; ``zh``/``ja``/``ko`` (and subtags) use character n-grams.

    Returns:
        set of shingles (a text shorter than ``n`` units gives one shingle, itself).
    """
    if language.split("-")[0] in CJK_LANGUAGES:
        units: list[str] = list(_SPACE.sub("", text))
        join = ""
    else:
        units = _WORD.findall(text.lower())
        join = " "
    if len(units) <= n:
        return {join.join(units)}
    return {join.join(units[i:i + n]) for i in range(len(units) - n + 1)}


def minhash(text: str, *, n: int, language: str, num_perm: int) -> MinHash:
    """MinHash signature of a text's shingles (datasketch, seed 1)."""
    m = MinHash(num_perm=num_perm, seed=1)
    m.update_batch([s.encode("utf-8") for s in shingles(text, n=n, language=language)])
    return m


@dataclass(frozen=True)
class Duplicate:
    """A removed near-duplicate: ``index`` dropped in favour of ``kept`` (indices into the input list)."""

    index: int
    kept: int
    jaccard: float


def near_duplicates(
    texts: list[str],
    scores: list[float],
    *,
    threshold: float = 0.8,
    n: int = 3,
    language: str = "zh",
    num_perm: int = 128,
) -> list[Duplicate]:
    """Find the texts to drop so that no two kept texts are near-duplicates.

    Args:
        texts: ``[N]`` texts.
        scores: ``[N]`` quality scores (higher is better); ties keep the earlier text.
        threshold: estimated Jaccard similarity (0..1) at or above which two texts are duplicates.
        n: shingle size (see :func:`shingles`).
        language: kit language (CJK → character shingles).
        num_perm: number of MinHash permutations.

    Returns:
        one :class:`Duplicate` per dropped text, sorted by index.

    Raises:
        ValueError: ``texts`` and ``scores`` differ in length.
    """
    if len(texts) != len(scores):
        raise ValueError(f"{len(texts)} texts but {len(scores)} scores")
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    sigs: dict[int, MinHash] = {}
    dups: list[Duplicate] = []
    for i in sorted(range(len(texts)), key=lambda j: (-scores[j], j)):
        m = minhash(texts[i], n=n, language=language, num_perm=num_perm)
        best = max(((m.jaccard(sigs[int(k)]), int(k)) for k in lsh.query(m)), default=None)
        if best is not None and best[0] >= threshold:
            dups.append(Duplicate(index=i, kept=best[1], jaccard=round(best[0], 4)))
            continue
        sigs[i] = m
        lsh.insert(str(i), m)
    return sorted(dups, key=lambda d: d.index)
