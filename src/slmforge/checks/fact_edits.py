"""Reference-grounded facts: a candidate against a reference for the same subject.

:func:`reference_fact_edits` finds the fact edits between two texts (numbers changed, entities swapped,
audience or effect changed) and their similarity, as needed to verify a fact-perturbed negative ("fake"
rejected text) and to audit pairs. Alignment is difflib's ``SequenceMatcher`` (Ratcliff–Obershelp) over
normalised characters. The record-grounded mode is :mod:`slmforge.checks.facts`.
"""

from __future__ import annotations

import difflib
from collections import Counter

import regex

from slmforge.checks.text import prepare
from slmforge.checks.types import FactDiff, FactEdit
from slmforge.checks.vocab import ROLES, SubjectFacts, Vocabulary, default_vocabulary, mentions, subject_facts
from slmforge.kit.schema import Kit

_NUMBER_RE = regex.compile(r"\d+(?:\.\d+)?\s*(?:%|‰|倍|小时|h|天|日|周|分钟|秒|岁|mg|ml|g|x)?")
_LATIN_RE = regex.compile(r"[a-z0-9αβγ]+(?:-[a-z0-9]+)*")
_LETTER_RE = regex.compile(r"\p{L}")


def _all_mentions(norm: str, facts: SubjectFacts, vocab: Vocabulary) -> dict[str, list[tuple[str, int, int]]]:
    return {role: mentions(norm, role, facts, vocab) for role in ROLES}


def _token_spans(norm: str, mentions: dict[str, list[tuple[str, int, int]]]) -> list[tuple[int, int]]:
    spans = [m.span() for m in _NUMBER_RE.finditer(norm)] + [m.span() for m in _LATIN_RE.finditer(norm)]
    for found in mentions.values():
        spans += [(s, e) for _, s, e in found]
    return spans


def _overlap_bound(a: str, b: str) -> float:
    """Upper bound of ``SequenceMatcher.ratio`` from character multisets (difflib's ``quick_ratio``,
    computed with ``Counter`` in C)."""
    if not a and not b:
        return 1.0
    return 2.0 * sum((Counter(a) & Counter(b)).values()) / (len(a) + len(b))


def _expand(a: int, b: int, spans: list[tuple[int, int]]) -> tuple[int, int]:
    changed = True
    while changed:
        changed = False
        for s, e in spans:
            hit = (s < b and e > a) if b > a else (s < a < e)
            if hit and (s < a or e > b):
                a, b, changed = min(a, s), max(b, e), True
    return a, b


def _terms_in(found: list[tuple[str, int, int]], a: int, b: int) -> list[str]:
    return sorted(t for t, s, e in found if a <= s and e <= b)


def reference_fact_edits(candidate: str, reference: str, *, subject: dict | None, kit: Kit,
                         vocab: Vocabulary | None = None, min_similarity: float = 0.6) -> FactDiff:
    """The fact edits that turn ``reference`` into ``candidate``, and their character similarity.

    Changed regions of the alignment (gaps of ≤ 2 equal characters merged) are widened to whole
    numbers, Latin tokens and vocabulary terms, then classified: ``number`` (the numbers differ),
    ``entity`` / ``audience`` / ``effect`` (vocabulary terms of that role differ), ``claim`` (another
    short content phrase replaced, ≤ 16 characters a side). Pure insertions or deletions of
    sentences without numbers or terms are not fact edits.

    Args:
        candidate: the text under test (e.g. a rejected side).
        reference: the reference (e.g. the chosen side or a golden copy).
        subject: the record (its terms are recognised as entities), optional.
        kit: glossary and field roles.
        vocab: entity vocabulary (default: the kit's glossary).
        min_similarity: below this similarity no edits are computed (unrelated texts have no
            meaningful alignment) and the returned similarity is the character-multiset upper bound
            of the ratio (difflib's ``quick_ratio``), itself below ``min_similarity``.

    Returns:
        :class:`~slmforge.checks.types.FactDiff` with edits whose offsets index ``candidate``.
    """
    vocab = vocab or default_vocabulary(kit)
    pc, pr = prepare(candidate), prepare(reference)
    bound = _overlap_bound(pr.norm, pc.norm)
    if bound < min_similarity:
        return FactDiff([], bound)
    sm = difflib.SequenceMatcher(None, pr.norm, pc.norm, autojunk=False)
    similarity = sm.ratio()
    if similarity < min_similarity:
        return FactDiff([], similarity)
    facts = subject_facts(subject, kit)
    regions: list[list[int]] = []
    for tag, i1, i2, j1, j2 in sm.get_opcodes():
        if tag == "equal":
            continue
        if regions and i1 - regions[-1][1] <= 2 and j1 - regions[-1][3] <= 2:
            regions[-1][1], regions[-1][3] = i2, j2
        else:
            regions.append([i1, i2, j1, j2])
    rm, cm = _all_mentions(pr.norm, facts, vocab), _all_mentions(pc.norm, facts, vocab)
    rs, cs = _token_spans(pr.norm, rm), _token_spans(pc.norm, cm)
    edits: list[FactEdit] = []
    changed = 0
    for i1, i2, j1, j2 in regions:
        i1, i2 = _expand(i1, i2, rs)
        j1, j2 = _expand(j1, j2, cs)
        ref_seg, cand_seg = pr.norm[i1:i2], pc.norm[j1:j2]
        a, b = pc.span(j1, j2)
        changed += b - a
        kinds = []
        if sorted(_NUMBER_RE.findall(ref_seg)) != sorted(_NUMBER_RE.findall(cand_seg)):
            kinds.append("number")
        for role, kind in (("ingredients", "entity"), ("audiences", "audience"), ("effects", "effect")):
            if _terms_in(rm[role], i1, i2) != _terms_in(cm[role], j1, j2):
                kinds.append(kind)
        if (not kinds and ref_seg.strip() and cand_seg.strip() and _LETTER_RE.search(ref_seg)
                and _LETTER_RE.search(cand_seg) and max(len(ref_seg), len(cand_seg)) <= 16):
            kinds.append("claim")
        ra, rb = pr.span(i1, i2)
        edits += [FactEdit(k, reference[ra:rb], candidate[a:b], a, b) for k in kinds]
    return FactDiff(edits, similarity, changed)
