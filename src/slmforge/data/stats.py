"""``slmforge data stats FILE``: what a dataset holds — tasks, strategies, lengths, duplicates, diversity."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from slmforge.data.fields import TaskMatcher, prompt_text, strategy_of, task_of
from slmforge.data.formats import read_parsed, text_of
from slmforge.data.tokens import TokenCounter, load_token_counter
from slmforge.errors import DataError


@dataclass
class Lengths:
    """Length distribution of one text column.

    Attributes:
        n: number of texts; min / p50 / p90 / max / mean: characters; the ``tok_`` ones: tokens
        (estimated when :attr:`Stats.tokens_exact` is False).
    """

    n: int
    min: int
    p50: int
    p90: int
    max: int
    mean: float
    tok_min: int
    tok_p50: int
    tok_p90: int
    tok_max: int
    tok_mean: float


def _pct(sorted_vals: list[int], q: float) -> int:
    """Nearest-rank percentile ``q`` in [0, 1] of an ascending list."""
    return sorted_vals[min(len(sorted_vals) - 1, max(0, round(q * len(sorted_vals) + 0.5) - 1))]


def lengths(chars: list[int], tokens: list[int]) -> Lengths | None:
    """Summary of parallel character and token counts (``None`` for no texts)."""
    if not chars:
        return None
    c, t = sorted(chars), sorted(tokens)
    return Lengths(len(c), c[0], _pct(c, 0.5), _pct(c, 0.9), c[-1], sum(c) / len(c),
                   t[0], _pct(t, 0.5), _pct(t, 0.9), t[-1], sum(t) / len(t))


@dataclass
class Stats:
    """The result of :func:`stats_file`.

    Attributes:
        file / format / rows: the input, its format and row count.
        tasks: rows per task (``unknown`` when neither a ``task`` column nor a kit matcher says).
        strategies: preference rows per rejected-side strategy (``none`` when absent).
        lengths: column (``prompt``, ``completion`` / ``chosen``, ``rejected``) → distribution.
        tokenizer / tokens_exact: what counted tokens; False means the documented estimate.
        duplicate_rows: rows identical to an earlier row; duplicate_prompts: rows whose prompt repeats.
        rejected_unique_ratio: unique rejected texts / rejected texts (``None`` without a rejected side).
    """

    file: str
    format: str
    rows: int
    tasks: Counter[str] = field(default_factory=Counter)
    strategies: Counter[str] = field(default_factory=Counter)
    lengths: dict[str, Lengths] = field(default_factory=dict)
    tokenizer: str = "estimate"
    tokens_exact: bool = False
    duplicate_rows: int = 0
    duplicate_prompts: int = 0
    rejected_unique_ratio: float | None = None


def stats_file(path: str | Path, *, tokenizer: str | TokenCounter | None = None, fmt: str | None = None,
               match: TaskMatcher | None = None) -> Stats:
    """Count and measure a dataset file in one pass.

    Args:
        path: JSONL or Parquet file in any supported format.
        tokenizer: a :class:`TokenCounter` or a spec for :func:`~slmforge.data.tokens.load_token_counter`.
        fmt: force the input format.
        match: ``prompt text -> task id`` for rows without a ``task`` column (e.g. from a kit).

    Raises:
        DataError: unreadable file or a row the format cannot parse (file:line), or an empty file.
    """
    counter = tokenizer if isinstance(tokenizer, TokenCounter) else load_token_counter(tokenizer)
    cols: dict[str, tuple[list[int], list[int]]] = {}
    rows_seen: set[bytes] = set()
    prompts_seen: set[str] = set()
    rejected: list[str] = []
    st: Stats | None = None
    for line, fmt_seen, row in read_parsed(path, fmt):
        if st is None:
            st = Stats(str(path), fmt_seen, 0, tokenizer=counter.name, tokens_exact=counter.exact)
        st.rows += 1
        try:
            st.tasks[task_of(row, match)] += 1
        except DataError as e:
            raise DataError(e.message, file=path, line=line, field=e.field, fix=e.fix) from e
        if row.rejected is not None:
            st.strategies[strategy_of(row) or "none"] += 1
            rejected.append(text_of(row.rejected))
        key = hashlib.blake2b(json.dumps([row.prompt, row.completion, row.chosen, row.rejected, row.meta],
                                         sort_keys=True, default=str).encode(), digest_size=16).digest()
        st.duplicate_rows += key in rows_seen
        rows_seen.add(key)
        p = prompt_text(row)
        st.duplicate_prompts += p in prompts_seen
        prompts_seen.add(p)
        name = "completion" if row.completion is not None else "chosen"
        for col, msgs in (("prompt", row.prompt), (name, row.answer), ("rejected", row.rejected)):
            if msgs is None:
                continue
            text = text_of(msgs)
            c, t = cols.setdefault(col, ([], []))
            c.append(len(text))
            t.append(counter.count(text))
    if st is None:
        raise DataError("the file holds no rows", file=path, fix="check the path")
    st.lengths = {col: ls for col, (c, t) in cols.items() if (ls := lengths(c, t)) is not None}
    if rejected:
        st.rejected_unique_ratio = len(set(rejected)) / len(rejected)
    return st
