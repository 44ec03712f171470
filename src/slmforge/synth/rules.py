"""Named cleaning rules over teacher output, on top of :func:`slmforge.checks.run_checks`.

Most rules are views of the checks' findings (``avoid_terms`` = lexicon avoid-terms, ``length`` and
``markdown_headings`` = constraints findings, ``cta_missing`` = the CTA check where the task requires
one, ``style`` / ``facts`` / ``constraints`` = those checks). Three rules are about artefacts of
generation that the checks do not look for, and are detected here:

* ``structure_labels`` — labels of the writing formula leaking into the copy (seed 003 found
  【之前】【之后】【桥梁】, (特点)(优势)(好处) and English "Hook:" / "Problem:" in teacher output);
* ``stray_markup`` — JSON left around the text, code fences, HTML/XML tags;
* ``language_mismatch`` — the text is not in the kit's language (share of CJK letters, per
  Unicode script property).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import regex

from slmforge.kit import LoadedKit, Task

FORMULA_LABELS = [
    "之前", "之后", "桥梁", "痛点", "放大", "解决", "特点", "优势", "好处", "钩子", "利益点", "行动号召",
    "hook", "problem", "agitate", "agitation", "solution", "before", "after", "bridge", "feature", "features",
    "advantage", "advantages", "benefit", "benefits", "cta", "call to action",
]
"""Labels of copywriting formulas (AIDA, PAS, BAB, FAB, hook–benefit–CTA) that must not appear in the copy."""

_LABELS = "|".join(regex.escape(x) for x in sorted(FORMULA_LABELS, key=len, reverse=True))
LABEL_RE = regex.compile(
    rf"[【\[(（]\s*(?:{_LABELS})\s*[】\])）]|(?:^|(?<=\n))\s*(?:{_LABELS})\s*[:：]", regex.IGNORECASE
)
STRAY_RE = regex.compile(r'```|^\s*\{|\}\s*$|"text"\s*:|</?[A-Za-z][A-Za-z0-9]*(?:\s[^<>]*)?/?>')
CJK_RE = regex.compile(r"[\p{Han}\p{Hiragana}\p{Katakana}\p{Hangul}]")
LATIN_RE = regex.compile(r"\p{Latin}")
CJK_LANGS = ("zh", "ja", "ko")

LENGTH_CODES = {"too_many_chars", "too_few_chars", "too_many_lines", "too_few_lines"}
"""Constraints-check finding codes that the ``length`` rule covers (slmforge.checks.constraints)."""
HEADING_CODES = {"markdown_heading"}


def structure_labels(text: str) -> list[str]:
    """Leaked formula labels in ``text`` (the matched strings, in order)."""
    return [m.group().strip() for m in LABEL_RE.finditer(text)]


def stray_markup(text: str) -> list[str]:
    """JSON wrappers, code fences and tags left in ``text`` (the matched strings)."""
    return [m.group().strip() or m.group() for m in STRAY_RE.finditer(text.strip())]


def language_mismatch(text: str, language: str) -> str | None:
    """A message when ``text`` is not in ``language``, judged by script: CJK kits need ≥ 50 % CJK among
    CJK + Latin letters, other kits need ≤ 20 % (brand names and units in Latin letters are fine).
    """
    cjk, latin = len(CJK_RE.findall(text)), len(LATIN_RE.findall(text))
    if cjk + latin == 0:
        return None
    share = cjk / (cjk + latin)
    if language.split("-")[0] in CJK_LANGS and share < 0.5:
        return f"only {share:.0%} of letters are CJK for a {language} kit"
    if language.split("-")[0] not in CJK_LANGS and share > 0.2:
        return f"{share:.0%} of letters are CJK for a {language} kit"
    return None


@dataclass
class RuleOutcome:
    """The rules one text fails, with the check score used to rank near-duplicates.

    Attributes:
        failed: rule name → human-readable reasons (empty dict = the text passes every rule).
        score: the checks' overall score in [0, 1].
        findings: the checks' findings as dicts (for ``removed.jsonl``).
    """

    failed: dict[str, list[str]] = field(default_factory=dict)
    score: float = 1.0
    findings: list[dict] = field(default_factory=list)


def evaluate(texts: list[str], lk: LoadedKit, task: Task, subject: dict | None, instruction: str | None,
             rules: list[str]) -> list[RuleOutcome]:
    """Evaluate the named rules on texts of one task and subject.

    Args:
        texts: ``[N]`` texts.
        lk: the kit (lexicon, language, thresholds).
        task: the task (constraints, CTA requirement).
        subject: the subject record (facts check), or None.
        instruction: the student prompt the texts answer.
        rules: rule names (:data:`slmforge.synth.config.RuleName`).

    Returns:
        ``[N]`` :class:`RuleOutcome`, restricted to ``rules``.
    """
    from dataclasses import asdict

    from slmforge.checks import run_checks

    checks = ["lexicon", "style", "constraints", "cta"] + (["facts"] if "facts" in rules else [])
    reports = run_checks(texts, task=task, subject=subject, kit=lk.kit, instruction=instruction, checks=checks)
    out = []
    for text, rep in zip(texts, reports, strict=True):
        failed: dict[str, list[str]] = {}

        def add(rule: str, msg: str) -> None:
            if rule in rules:
                failed.setdefault(rule, []).append(msg)

        for name, res in rep.results.items():
            for f in res.findings:
                if f.severity != "error":
                    continue
                if name == "lexicon" and f.code == "avoid_term":
                    add("avoid_terms", f.message)
                elif name == "constraints" and f.code in LENGTH_CODES:
                    add("length", f.message)
                elif name == "constraints" and f.code in HEADING_CODES:
                    add("markdown_headings", f.message)
                elif name == "constraints":
                    add("constraints", f.message)
                elif name in ("style", "facts"):
                    add(name, f.message)
            if name == "cta" and task.constraints.cta_required and not res.passed:
                add("cta_missing", "; ".join(f.message for f in res.findings) or "no call to action")
        for label in structure_labels(text):
            add("structure_labels", f"leaked label {label!r}")
        for bit in stray_markup(text):
            add("stray_markup", f"stray markup {bit!r}")
        lang = language_mismatch(text, lk.kit.language)
        if lang:
            add("language_mismatch", lang)
        out.append(RuleOutcome(failed=failed, score=rep.score, findings=[asdict(f) for f in rep.findings()]))
    return out
