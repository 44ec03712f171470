"""Chinese, Japanese and Korean text: the one definition of "a CJK character" and the rough token
estimate built on it.

:data:`CJK_CLASS` is the body of a character class for the ``regex`` module: Han ideographs, hiragana,
katakana (with the prolonged sound mark ー, which Unicode files under Common script) and hangul, by
Unicode script property (UAX #24). :func:`estimate_tokens` is used wherever a count is needed before a
tokenizer is at hand (rate limits, budgets, dataset estimates, the Python client's history trimming).
"""

from __future__ import annotations

import regex

CJK_CLASS = r"\p{Han}\p{Hiragana}\p{Katakana}\p{Hangul}\u30fc"
"""Character-class body (no brackets) of CJK characters, for ``regex`` patterns."""

CJK_RE = regex.compile(f"[{CJK_CLASS}]")
"""One CJK character."""

_KANA_RE = regex.compile(r"[\p{Hiragana}\p{Katakana}]")
_HANGUL_RE = regex.compile(r"\p{Hangul}")
_HAN_RE = regex.compile(r"\p{Han}")

_WIDE_RE = regex.compile(f"[{CJK_CLASS}\u3000-\u303f\uff00-\uffef]")
"""A character that costs about one token: CJK, CJK punctuation (U+3000–303F) or a full-width form (U+FF00–FFEF)."""


def estimate_tokens(text: str) -> int:
    """Rough token count of ``text`` (tokens): one per CJK character, CJK punctuation mark or full-width
    form, plus one per 4 other characters (rounded up).

    Source: OpenAI's rule of thumb "1 token ≈ 4 characters of English text" (help.openai.com, "What are
    tokens and how to count them"); byte-level BPE vocabularies (cl100k / o200k, Qwen2) spend about one
    token per common CJK character, so this errs on the high side for CJK — safe for a budget. Expect
    ±30 %; use a real tokenizer (:mod:`slmforge.data.tokens`) where it matters.
    """
    wide = len(_WIDE_RE.findall(text))
    return wide + (len(text) - wide + 3) // 4


def estimate_prompt_tokens(messages: list[dict]) -> int:
    """Rough prompt tokens of chat ``messages``: :func:`estimate_tokens` of each content plus 4 tokens of
    chat-template overhead per message (OpenAI cookbook, "How to count tokens with tiktoken")."""
    return sum(estimate_tokens(str(m.get("content") or "")) + 4 for m in messages)


def guess_language(text: str) -> str:
    """The language of a text judged by script (Unicode Script property, UAX #24): any kana → ``ja``, else
    any Hangul → ``ko``, else any Han → ``zh``, else ``en``. A rough guess, for choosing which full stop
    and which call-to-action cues a rule stated in a prompt means."""
    if _KANA_RE.search(text):
        return "ja"
    if _HANGUL_RE.search(text):
        return "ko"
    return "zh" if _HAN_RE.search(text) else "en"
