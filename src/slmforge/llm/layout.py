"""Static-first prompt layout, so providers' automatic prefix caching applies.

OpenAI, DeepSeek and vLLM cache the longest prompt prefix they have seen recently and bill those
tokens at the cached-input price (OpenAI "Prompt caching" guide: caching applies to exact prefix
matches of >= 1,024 tokens; DeepSeek "Context caching": cache-hit tokens at about a tenth of
the price; vLLM "Automatic prefix caching"). Hence:

1. everything that is the same for every request of a stage — voice, lexicon, rubric, golden
   examples — goes first, byte-for-byte identical (no per-item values, dates or random order);
2. the per-item part (the subject, the instruction, the text to judge) goes last.

:func:`static_first` builds such a message list and :func:`shared_prefix_chars` measures how much
of a batch's prompts is shared, so a stage can warn when its layout defeats caching. The ledger
records the ``cached_tokens`` the API reports, and ``slmforge ledger`` shows them.
"""

from __future__ import annotations

import os


def static_first(static: str | list[str], dynamic: str, *, examples: list[dict] | None = None) -> list[dict]:
    """Messages with the static part first: ``system`` (static), optional few-shot turns, then ``user`` (dynamic).

    Args:
        static: the system prompt (voice, lexicon, rubric…), or its sections joined by blank lines;
            it must not contain anything that changes per item.
        dynamic: the per-item user message.
        examples: few-shot turns (``{"role", "content"}`` dicts) shared by every item, placed
            between the system prompt and the user message so they are part of the cached prefix.

    Returns:
        OpenAI chat messages.
    """
    system = static if isinstance(static, str) else "\n\n".join(s.strip() for s in static if s.strip())
    return [{"role": "system", "content": system}, *(examples or []), {"role": "user", "content": dynamic}]


def render_prompt_text(messages: list[dict]) -> str:
    """The messages as one string (``role: content`` per message), the unit prefix caching sees."""
    return "\n".join(f"{m['role']}: {m.get('content') or ''}" for m in messages)


def shared_prefix_chars(batch: list[list[dict]]) -> int:
    """Characters shared by the start of every prompt of ``batch`` (0 for an empty batch).

    A stage whose prompts share only a few characters pays full price for every prompt token.
    """
    texts = [render_prompt_text(m) for m in batch]
    return len(os.path.commonprefix(texts)) if texts else 0
