"""Read training records into TRL-shaped ``datasets.Dataset`` objects and split them by subject.

Accepted rows (JSONL):

* SFT / GRPO: our :class:`~slmforge.data.records.SFTExample`, or plain TRL ``{"messages": [...]}``.
* DPO / RM: our :class:`~slmforge.data.records.PreferencePair` (``prompt`` messages, ``strategy``), or the
  seed's ``{"prompt": str, "chosen": str, "rejected": str, "method": str}``.

The held-out split groups rows by subject (the ``subject_id`` field, else the ``product_name`` found in
the user message, else the prompt itself) so that no product appears on both sides.
"""

from __future__ import annotations

import random
from pathlib import Path

from slmforge.data.fields import subject_from
from slmforge.data.io import read_jsonl
from slmforge.data.split import assign_groups
from slmforge.data.records import instruction_of
from slmforge.errors import DataError



def _subject(row: dict, prompt_text: str) -> str:
    """The held-out grouping key: :func:`slmforge.data.fields.subject_from` (as ``data split``), else the
    prompt itself (a row of no known subject is its own group)."""
    return subject_from(row.get("subject_id"), prompt_text) or prompt_text


def _messages(obj, path: Path, line: int, field: str) -> list[dict]:
    if isinstance(obj, str):
        return [{"role": "user", "content": obj}]
    if not isinstance(obj, list) or not all(isinstance(m, dict) and {"role", "content"} <= m.keys() for m in obj):
        raise DataError("expected a list of {role, content} messages or a string", file=path, line=line,
                        field=field, fix="write chat messages as [{\"role\": \"user\", \"content\": \"…\"}]")
    return [{"role": m["role"], "content": m["content"]} for m in obj]


def read_sft_rows(path: str | Path) -> list[dict]:
    """Rows ``{"messages", "prompt", "completion", "task", "subject_id", "instruction", "subject"}`` from an
    SFT JSONL file.

    ``prompt`` is the messages before the last assistant message, ``completion`` that message as a list;
    ``task`` / ``subject_id`` are the record's own identity (``subject_id`` None for plain TRL rows),
    ``instruction`` its last user message; ``subject`` is only the grouping key of the held-out split.

    Raises:
        DataError: a row without messages or whose last message is not from the assistant (file:line).
    """
    path = Path(path)
    rows = []
    for line, obj in read_jsonl(path):
        if not isinstance(obj, dict) or "messages" not in obj:
            raise DataError("row has no 'messages'", file=path, line=line, field="messages",
                            fix="use SFTExample rows or TRL conversational rows {\"messages\": [...]}")
        msgs = _messages(obj["messages"], path, line, "messages")
        if not msgs or msgs[-1]["role"] != "assistant":
            raise DataError("the last message must be the assistant's answer", file=path, line=line,
                            field="messages", fix="end each conversation with an assistant message")
        prompt = msgs[:-1]
        rows.append({"messages": msgs, "prompt": prompt, "completion": msgs[-1:], "task": obj.get("task") or "",
                     "subject_id": obj.get("subject_id"), "instruction": instruction_of(prompt),
                     "subject": _subject(obj, " ".join(m["content"] for m in prompt))})
    return rows


def read_preference_rows(path: str | Path) -> list[dict]:
    """Rows ``{"prompt": messages, "chosen": [assistant msg], "rejected": [assistant msg], "strategy", "subject"}``.

    Raises:
        DataError: a row without prompt / chosen / rejected strings (file:line and field).
    """
    path = Path(path)
    rows = []
    for line, obj in read_jsonl(path):
        for key in ("prompt", "chosen", "rejected"):
            if not isinstance(obj, dict) or key not in obj:
                raise DataError(f"row has no '{key}'", file=path, line=line, field=key,
                                fix="use PreferencePair rows or {prompt, chosen, rejected} rows")
        prompt = _messages(obj["prompt"], path, line, "prompt")
        sides = {}
        for key in ("chosen", "rejected"):
            value = obj[key]
            if isinstance(value, list):  # TRL conversational: the assistant message(s)
                value = _messages(value, path, line, key)[-1]["content"]
            if not isinstance(value, str) or not value.strip():
                raise DataError("must be a non-empty text", file=path, line=line, field=key,
                                fix="give the chosen and rejected answers as text")
            sides[key] = [{"role": "assistant", "content": value}]
        strategy = obj.get("strategy") or obj.get("method") or ""
        rows.append({"prompt": prompt, **sides, "strategy": strategy, "task": obj.get("task") or "",
                     "subject": _subject(obj, " ".join(m["content"] for m in prompt))})
    return rows


def split_by_subject(rows: list[dict], *, eval_fraction: float, seed: int = 0) -> tuple[list[dict], list[dict]]:
    """Hold out about ``eval_fraction`` of the rows, whole subjects at a time and stratified by task — the
    split of ``slmforge data split`` and of the pipeline (:func:`slmforge.data.split.assign_groups`).

    Returns:
        ``(train_rows, eval_rows)``; eval is empty when ``eval_fraction`` is 0 or there is one subject.
    """
    groups: dict[str, list[int]] = {}
    for i, r in enumerate(rows):
        groups.setdefault(r["subject"], []).append(i)
    if eval_fraction <= 0 or len(groups) < 2:
        return rows, []
    train_keys = set(assign_groups(groups, {i: r.get("task") or "" for i, r in enumerate(rows)},
                                   eval_fraction=eval_fraction, seed=seed))
    return [r for r in rows if r["subject"] in train_keys], [r for r in rows if r["subject"] not in train_keys]


def load_splits(section, reader) -> tuple[list[dict], list[dict]]:
    """Train and held-out rows for a :class:`~slmforge.train.config.DataSection` using ``reader``.

    Raises:
        DataError: from the reader, or an empty training set.
    """
    rows = reader(section.train)
    if section.eval:
        train, held = rows, reader(section.eval)
    else:
        train, held = split_by_subject(rows, eval_fraction=section.eval_fraction, seed=section.seed)
    rng = random.Random(section.seed)
    if section.max_rows and len(train) > section.max_rows:
        train = rng.sample(train, section.max_rows)
    if section.max_eval_rows and len(held) > section.max_eval_rows:
        held = rng.sample(held, section.max_eval_rows)
    if not train:
        raise DataError("no training rows", file=section.train, fix="check the file and data.max_rows")
    return train, held
