"""Checks that saying nothing cannot pass: subject coverage and informative content (degenerate text is
:mod:`slmforge.checks.degenerate`), and the tokens they share.

A text can meet every rule of a kit (no avoid-term, calm, within length, with a CTA, no contradicted
fact) by saying nothing: ``"zzzz qqqq shop now"``, the mojibake a tiny random model writes, one
phrase repeated, the instruction pasted back. These checks fail such texts, and so act as cleaning
filters, GRPO rewards (a policy cannot hack the other rewards with empty copy), evaluation metrics
and serving guards:

* :func:`check_degenerate` — U+FFFD, control / private-use characters, mojibake (UTF-8 bytes read as
  Latin-1 / cp1252, the pattern ``ftfy`` repairs), and repetition: *seq-rep-n* (Welleck et al. 2020,
  "Neural Text Generation with Unlikelihood Training": ``1 − |unique n-grams| / |n-grams|`` over the
  text's tokens) and the share of the single most frequent token;
* :func:`check_coverage` — the copy names its subject (the catalog's id field; a long name may be
  shortened) and states at least one fact of the record (an ingredient, feature, audience or other
  field value);
* :func:`check_informative` — a per-task minimum of distinct content words outside the subject's name
  (function words, CTA cues, the brand and gibberish tokens do not count either) and no echo of the
  instruction.

Tokens (:func:`tokens`): every Han / kana character is a token (no word segmentation needed); other
letters, marks and digits form words (``post-blemish``, ``0.1``, ``don't`` stay whole). Everything
runs on the NFKC + case-folded text (:func:`slmforge.checks.text.prepare`); offsets index the original.
"""

from __future__ import annotations

import math
from functools import lru_cache

import regex

from slmforge.checks.constraints import cta_cues
from slmforge.checks.text import is_cjk_term, normalize_term, prepare, term_matcher
from slmforge.checks.types import CheckResult, Finding
from slmforge.checks.vocab import Vocabulary, field_role, split_amount, subject_facts
from slmforge.kit.schema import Constraints, Kit

COVERAGE = "coverage"
INFORMATIVE = "informative"

_CJK_CHAR = r"\p{Han}\p{Hiragana}\p{Katakana}ー"
_WORD_CHAR = rf"(?:(?![{_CJK_CHAR}])[\p{{L}}\p{{M}}\p{{N}}])"
TOKEN_RE = regex.compile(rf"[{_CJK_CHAR}]|{_WORD_CHAR}+(?:['’.\-]{_WORD_CHAR}+)*")
"""One token: a Han / kana character (or the prolonged sound mark ー), or a word of other letters and digits
(inner ' ’ . - kept). Without word segmentation, distinct CJK characters stand in for distinct words."""

STOPWORDS_EN = frozenset("""
a an the and or but nor so yet of to in on at by for with from into onto over under about as than then
is are was were be been being am do does did done have has had having will would shall should can could
may might must it its it's this that these those there here what which who whom whose when where why how
i me my mine we us our ours you your yours he him his she her hers they them their theirs one ones
not no nor only just also too very more most much many some any each every all both either neither
if else up down out off again once own same such other another s t don't isn't doesn't
""".split())
"""English function words (articles, pronouns, prepositions, auxiliaries, quantifiers): not content."""
STOP_CHARS_ZH = frozenset("的了是在和与及也都就而且或把被让给对从向这那个些一不很更还又再着过吗呢吧啊呀我你他她它们您之其以于为所得地会能要可有没每各")
"""Chinese function characters (particles, pronouns, copulas, common prepositions): not content."""
UNITS_PER_CHAR = {"cjk": 1 / 8, "words": 1 / 36}
"""Required distinct content tokens per character of the task's expected length: one per 8 characters in
Chinese / Japanese (a character is a token), one per 36 characters otherwise (a word is ~6 characters)."""
MIN_CONTENT = 3
"""Every text needs at least this many distinct content tokens, whatever the task."""
ECHO_N = {"cjk": 4, "words": 3}
"""n-gram size (in tokens) for the echo test: character 4-grams in CJK text, word 3-grams otherwise."""
MAX_ECHO = 0.5
"""A text at least this share of whose n-grams come from the instruction's own wording is an echo."""
LONG_WORD = 7
"""A content word of a record phrase this long (in letters) is specific enough to stand for the phrase."""
_VOWELS = set("aeiouyàáâãäåæèéêëìíîïòóôõöøùúûüýÿœ")
_REPEAT_RE = regex.compile(r"(\p{L})\1\1")
_CATEGORY_FIELDS = ("category", "type", "kind")


@lru_cache(maxsize=8192)
def tokens(norm: str) -> tuple[tuple[str, int, int], ...]:
    """``(token, start, end)`` of the normalised text, in order (see :data:`TOKEN_RE`; cached by value)."""
    return tuple((m.group(), m.start(), m.end()) for m in TOKEN_RE.finditer(norm))


def _cjk_language(kit: Kit) -> bool:
    return kit.language.split("-")[0] in ("zh", "ja")


_FUNCTION_TOKENS = STOPWORDS_EN | STOP_CHARS_ZH | {chr(c) for c in range(0x3041, 0x30A0)} | {"ー"}
"""English stopwords, Chinese function characters, every hiragana character (Japanese particles and
inflections; block U+3041–U+309F) and the prolonged sound mark ー."""


def _is_function(tok: str) -> bool:
    """A function word (:data:`_FUNCTION_TOKENS`)."""
    return tok in _FUNCTION_TOKENS


def _is_gibberish(tok: str, original: str) -> bool:
    """A Latin-script token no language writes: a letter three times in a row (``zzzz``), or four or more
    letters without a vowel that are not an upper-case acronym in the original (``qqqq``, not ``SPF``)."""
    if len(tok) < 3 or not tok.isalpha() or is_cjk_term(tok):
        return False
    if _REPEAT_RE.search(tok):
        return True
    return len(tok) >= 4 and not (set(tok) & _VOWELS) and not original.isupper()


def _phrase_spans(norm: str, phrase: str) -> list[tuple[int, int]]:
    """Occurrences of a normalised phrase: a substring for CJK, between word boundaries otherwise."""
    return [(s, e) for _, s, e in term_matcher((phrase,)).find(norm)]


def _stem(word: str) -> str:
    """An English plural / third-person ``-s`` removed (``smooths`` → ``smooth``, ``minutes`` → ``minute``,
    ``berries`` → ``berry``); other words unchanged."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def _words(norm: str) -> list[tuple[str, int, int]]:
    """Latin-script words of ``norm`` split at hyphens and stemmed: ``(stem, start, end)``."""
    return [(_stem(m.group()), m.start(), m.end()) for m in regex.finditer(r"[\p{L}\p{N}]+", norm)
            if not is_cjk_term(m.group())]


def _loose_spans(words: list[tuple[str, int, int]], phrase: str) -> list[tuple[int, int]]:
    """Where a Latin-script phrase of the record is paraphrased: at least two thirds of its content words
    (stemmed, hyphens split; at least 2) in order within ``len(phrase words) + 3`` words ("line care
    without the retinoid sting" for "line care without retinoid sting", "ten minutes" for "a ten-minute
    ritual"), or one of its content words of :data:`LONG_WORD`+ letters ("support elasticity" for
    "improves elasticity", "no retinoid" for "a retinoid-free option")."""
    pw = [w for w, _, _ in _words(phrase)]
    content = [w for w in pw if w not in STOPWORDS_EN]
    need = max(2, math.ceil(2 * len(content) / 3))
    long_words = {w for w in content if len(w) >= LONG_WORD}
    out = [(s, e) for w, s, e in words if w in long_words]
    if len(content) < 2:
        return out
    window = len(pw) + 3
    for i, (w, s, _) in enumerate(words):
        if w not in content:
            continue
        got, j, k, end = 1, content.index(w) + 1, i + 1, words[i][2]
        while k < min(len(words), i + window) and j < len(content):
            if words[k][0] in content[j:]:
                j = content.index(words[k][0], j) + 1
                got, end = got + 1, words[k][2]
            k += 1
        if got >= need:
            out.append((s, end))
    return out


def _lcs_len(a: str, b: str) -> int:
    """Length of the longest common subsequence of two short strings (dynamic programming, O(|a|·|b|))."""
    row = [0] * (len(b) + 1)
    for ca in a:
        prev = 0
        for j, cb in enumerate(b):
            prev, row[j + 1] = row[j + 1], prev + 1 if ca == cb else max(row[j + 1], row[j])
    return row[-1]


def _cjk_partial(norm: str, full: str, ingredients: frozenset[str]) -> list[tuple[int, int]]:
    """Spans of ``norm`` that shorten a CJK name of 4+ characters: a window of at most ``len(full)``
    characters, starting and ending on characters of the name, that holds at least half of the name's
    characters (at least 3) in order with at most one other character in between, and is not just an
    ingredient's name: 「神经酰胺精华乳」 for 「神经酰胺屏障修护精华乳」, 「烟酰胺精华」 for 「澄净烟酰胺精华液」."""
    if len(full) < 4:
        return []
    need = max(3, math.ceil(len(full) / 2))
    bigrams = {full[i:i + 2] for i in range(len(full) - 1)}
    out: list[tuple[int, int]] = []
    i = 0
    while i < len(norm) - 1:
        if norm[i:i + 2] not in bigrams:
            i += 1
            continue
        best = 0
        for end in range(min(len(norm), i + len(full) + 1), i + need - 1, -1):
            window = norm[i:end]
            if window[-1] not in full:
                continue
            lcs = _lcs_len(window, full)
            if lcs >= need and len(window) - lcs <= 1 and window not in ingredients:
                best = end
                break
        if best:
            out.append((i, best))
            i = best
        else:
            i += 1
    return out


def _name_spans(norm: str, name: str, vocab: Vocabulary | None) -> tuple[list[tuple[int, int]], bool]:
    """Where the subject's name occurs: ``(spans, partial)``.

    A long name may be shortened. A space-delimited name of 3+ words: by a run of at least half its words
    (at least 2) that is not just an ingredient's name, or by one word of 5+ letters that no other name of
    the catalog has (``Azelaic`` for "Azelaic Calm Gel"; needs the catalog's vocabulary). A CJK name of 4+
    characters: see :func:`_cjk_partial`.
    """
    full = normalize_term(name).strip()
    if len(full) < 2:
        return [], False
    spans = _phrase_spans(norm, full)
    if spans:
        return spans, False
    ingredients = vocab.frozen["ingredients"] if vocab is not None else frozenset()
    if is_cjk_term(full) and " " not in full:
        return _cjk_partial(norm, full, ingredients), True
    words = full.split()
    if len(words) < 3:
        return [], False
    for size in range(len(words) - 1, max(2, math.ceil(len(words) / 2)) - 1, -1):
        for i in range(len(words) - size + 1):
            part = " ".join(words[i:i + size])
            if part not in ingredients and (found := _phrase_spans(norm, part)):
                return found, True
    counts = vocab.name_words if vocab is not None else {}
    for w in words:
        if len(w) >= 5 and counts.get(w, 0) == 1 and w not in STOPWORDS_EN and (found := _phrase_spans(norm, w)):
            return found, True
    return [], False


def record_facts(subject: dict, kit: Kit) -> list[str]:
    """The normalised phrases of a record that count as stating one of its facts, longest first.

    Every field except the id field and a category field (named ``category`` / ``type`` / ``kind``):
    ingredient values without their amount and with their short forms (``5% niacinamide`` →
    ``niacinamide``, ``积雪草提取物`` → ``积雪草``), the terms of audience / effect fields, every list item and
    scalar value (numbers as written). Phrases shorter than 2 characters are left out.
    """
    facts = subject_facts(subject, kit)
    out: set[str] = set()
    for role in facts.terms:
        out |= facts.terms[role]
    for name, value in subject.items():
        if name == kit.catalog.id_field or name.lower() in _CATEGORY_FIELDS:
            continue
        for raw in value if isinstance(value, list) else [value]:
            if raw is None or raw == "":
                continue
            raw = str(raw)
            out.add(normalize_term(raw).strip())
            if field_role(name, kit) == "ingredients":
                out.add(normalize_term(split_amount(raw)[0]))
    return sorted((f for f in out if len(f) >= 2), key=len, reverse=True)


def check_coverage(text: str, *, subject: dict | None, kit: Kit, vocab: Vocabulary | None = None) -> CheckResult:
    """The copy is about its subject: it names it and states at least one fact of its record.

    Score: ``0.5 × named + 0.5 × states a fact``; passed: both. A fact may be part of the name ("Pure
    Squalane Oil" states squalane); that the copy says more than the name is
    :func:`check_informative`'s test.

    Args:
        text: the copy.
        subject: the record; ``None`` passes with score 1 (nothing to cover).
        kit: the catalog's id field (the name) and the field roles.
        vocab: entity vocabulary; an ingredient's name alone does not count as a shortened product name.

    Returns:
        :class:`CheckResult` with findings ``subject_not_named`` and ``no_record_fact`` (errors), and
        ``partial_name`` (info, offsets); details ``named``, ``partial``, ``facts`` (the record phrases found).
    """
    if subject is None:
        return CheckResult(COVERAGE, 1.0, True, [], {"named": None, "partial": False, "facts": []})
    p = prepare(text)
    name = str(subject.get(kit.catalog.id_field) or "")
    names, partial = _name_spans(p.norm, name, vocab)
    findings: list[Finding] = []
    if not names:
        findings.append(Finding(COVERAGE, "subject_not_named", f"the copy does not name {name!r}"))
    elif partial:
        s, e = p.span(*names[0])
        findings.append(Finding(COVERAGE, "partial_name", f"{text[s:e]!r} shortens {name!r}", s, e, "info"))
    phrases = tuple(record_facts(subject, kit))
    found = sorted({t for t, _, _ in term_matcher(phrases).find(p.norm)}, key=len, reverse=True) if phrases else []
    if not found:  # paraphrases of space-delimited phrases
        words = _words(p.norm)
        found = [ph for ph in phrases if not is_cjk_term(ph) and _loose_spans(words, ph)]
    if not found:
        findings.append(Finding(COVERAGE, "no_record_fact", "the copy states no fact of the record "
                                "(ingredient, feature, audience or value)"))
    score = 0.5 * bool(names) + 0.5 * bool(found)
    return CheckResult(COVERAGE, score, bool(names) and bool(found), findings,
                       {"named": bool(names), "partial": partial, "facts": found[:10]})


def min_content(constraints: Constraints, kit: Kit) -> int:
    """The per-task minimum of distinct content tokens: ``max(3, ceil(L × units per character))``.

    ``L`` is the task's expected length in characters: ``min_chars``, else half of ``max_chars``, else
    60; units per character: :data:`UNITS_PER_CHAR` (one content character per 8 in zh / ja, one content
    word per 36 characters otherwise). A 45-character tagline needs 3 content words, a blurb of at least
    120 characters 4, a Chinese long-form text of at least 400 characters 50 distinct content characters.
    """
    length = constraints.min_chars or (constraints.max_chars / 2 if constraints.max_chars else 60)
    per = UNITS_PER_CHAR["cjk" if _cjk_language(kit) else "words"]
    return max(MIN_CONTENT, math.ceil(length * per))


def _ngrams(toks: list[str], n: int) -> list[tuple[str, ...]]:
    return [tuple(toks[i:i + n]) for i in range(len(toks) - n + 1)]


def echo_share(text: str, instruction: str, subject: dict | None, *, cjk: bool) -> float:
    """Share (in [0, 1]) of the text's token n-grams that come from the instruction's own wording.

    The instruction's n-grams minus those inside the subject's values (the record's facts are meant
    to be reused); n from :data:`ECHO_N`. 0.0 when the text has no n-gram.
    """
    n = ECHO_N["cjk" if cjk else "words"]
    values = tuple(str(raw) for v in (subject or {}).values() for raw in (v if isinstance(v, list) else [v]))
    own = _instruction_grams(instruction, values, n)
    grams = _ngrams([t for t, _, _ in tokens(prepare(text).norm)], n)
    return sum(g in own for g in grams) / len(grams) if grams else 0.0


@lru_cache(maxsize=1024)
def _instruction_grams(instruction: str, values: tuple[str, ...], n: int) -> frozenset[tuple[str, ...]]:
    """The instruction's token n-grams minus those inside any of the record's ``values`` (cached: a batch
    of texts shares one instruction)."""
    own = set(_ngrams([t for t, _, _ in tokens(prepare(instruction).norm)], n))
    for raw in values:
        own -= set(_ngrams([t for t, _, _ in tokens(normalize_term(raw))], n))
    return frozenset(own)


def check_informative(text: str, *, kit: Kit, constraints: Constraints, instruction: str | None = None,
                      subject: dict | None = None, vocab: Vocabulary | None = None) -> CheckResult:
    """The copy carries information: enough distinct content tokens for its task, and is not the instruction.

    Content tokens are tokens (:func:`tokens`) that are not function words (:data:`STOPWORDS_EN`,
    :data:`STOP_CHARS_ZH`, hiragana), not inside a CTA cue, the brand or the subject's name, and not gibberish
    (``zzzz``). Score: ``min(1, distinct / minimum)``, times ``1 − echo`` when the text echoes the
    instruction; passed: ``distinct ≥ minimum`` (:func:`min_content`) and echo below :data:`MAX_ECHO`.

    Args:
        text: the copy.
        kit: language, brand and CTA cues.
        constraints: the task's effective constraints (its expected length sets the minimum).
        instruction: the prompt the copy answers; ``None`` skips the echo test.
        subject: the record (its name does not count as content; its values may be reused without
            counting as echo).
        vocab: entity vocabulary (to recognise a shortened name, see :func:`check_coverage`).

    Returns:
        :class:`CheckResult` with findings ``too_little_content``, ``echoes_instruction`` (errors) and
        ``gibberish`` (warning, offsets); details ``content``, ``minimum``, ``echo``.
    """
    p = prepare(text)
    skip = list(term_matcher(cta_cues(kit)).find(p.norm))
    skip += [("", s, e) for s, e in _phrase_spans(p.norm, normalize_term(kit.brand))] if len(kit.brand) >= 2 else []
    if subject is not None:
        skip += [("", s, e) for s, e in _name_spans(p.norm, str(subject.get(kit.catalog.id_field) or ""), vocab)[0]]
    blocked = bytearray(len(p.norm) + 1)
    for _, a, b in skip:
        blocked[a:b] = b"\x01" * (b - a)
    findings: list[Finding] = []
    content: set[str] = set()
    for tok, s, e in tokens(p.norm):
        if tok in _FUNCTION_TOKENS or (blocked[s] and blocked[e - 1]):
            continue
        if len(tok) >= 3:  # only a word of 3+ letters can be gibberish
            a, b = p.span(s, e)
            if _is_gibberish(tok, text[a:b]):
                findings.append(Finding(INFORMATIVE, "gibberish", f"{text[a:b]!r} is not a word", a, b, "warning"))
                continue
        content.add(tok)
    minimum = min_content(constraints, kit)
    if len(content) < minimum:
        findings.append(Finding(INFORMATIVE, "too_little_content",
                                f"{len(content)} distinct content words, at least {minimum} needed for this task"))
    echo = echo_share(text, instruction, subject, cjk=_cjk_language(kit)) if instruction else 0.0
    if echo >= MAX_ECHO:
        findings.append(Finding(INFORMATIVE, "echoes_instruction", f"{echo:.0%} of the text repeats the instruction"))
    score = min(1.0, len(content) / minimum) * (1 - echo if echo >= MAX_ECHO else 1.0)
    passed = not any(f.severity == "error" for f in findings)
    return CheckResult(INFORMATIVE, score, passed, findings,
                       {"content": len(content), "minimum": minimum, "echo": round(echo, 3)})
