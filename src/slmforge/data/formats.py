"""Dataset formats: names, per-row detection, and parsing any supported row into one :class:`Row`.

Supported formats (``--to`` / ``--format`` names), with their sources:

=====================  ================================================================================
``messages``           TRL conversational SFT: ``{"messages": [{"role", "content"}, ...]}`` (TRL docs,
                       "Dataset formats and types"); extra columns ride along.
``openai-chat``        OpenAI chat fine-tuning JSONL: ``messages`` only, assistant messages may carry
                       ``weight`` 0/1 (OpenAI fine-tuning guide).
``prompt-completion``  TRL prompt-completion, standard (strings) or conversational (message lists).
``prompt-only``        TRL prompt-only (GRPO / online DPO prompts).
``preference``         TRL preference with explicit prompt: ``prompt``, ``chosen``, ``rejected``.
``preference-implicit`` TRL preference with implicit prompt: ``chosen`` / ``rejected`` whole conversations.
``openai-dpo``         OpenAI / Together / Fireworks DPO JSONL: ``input.messages``, ``preferred_output``,
                       ``non_preferred_output`` (OpenAI "Direct preference optimization" guide).
``verl``               VeRL RL parquet: ``data_source``, ``prompt``, ``ability``, ``reward_model``
                       ``{style, ground_truth}``, ``extra_info`` (VeRL docs, "Prepare data").
``alpaca``             ``instruction``, ``input``, ``output`` (+ ``system``, ``history``) (Stanford Alpaca,
                       LLaMA-Factory data README).
``sharegpt``           ``conversations: [{"from": human|gpt|system, "value"}]`` (+ ``system``).
=====================  ================================================================================

A preference row may carry the strategy that produced its rejected side as ``strategy`` or, as in the
AdGenius seed files, ``method``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from slmforge.errors import DataError

FORMATS = ("messages", "openai-chat", "prompt-completion", "prompt-only", "preference", "preference-implicit",
           "openai-dpo", "verl", "alpaca", "sharegpt")
ALIASES = {"trl-sft": "messages", "conversational": "messages", "sft": "messages", "openai": "openai-chat",
           "together-dpo": "openai-dpo", "fireworks-dpo": "openai-dpo", "trl-preference": "preference",
           "dpo": "preference", "grpo": "verl", "verl-grpo": "verl"}
PREFERENCE_FORMATS = ("preference", "preference-implicit", "openai-dpo")

#: Top-level keys OpenAI chat fine-tuning accepts besides ``messages``.
OPENAI_CHAT_TOP_KEYS = frozenset({"messages", "tools", "functions", "parallel_tool_calls"})
#: Message keys the OpenAI cookbook's format check accepts (plus the tool-call keys of the current API).
MESSAGE_KEYS = frozenset({"role", "content", "name", "function_call", "weight", "tool_calls", "tool_call_id"})
SHAREGPT_ROLES = {"human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant",
                  "system": "system", "observation": "tool", "tool": "tool", "function_call": "assistant"}
SHAREGPT_FROM = {"user": "human", "assistant": "gpt", "system": "system", "tool": "observation"}


def resolve_format(name: str) -> str:
    """Canonical format name for ``name`` (accepts the aliases in :data:`ALIASES`).

    Raises:
        DataError: unknown name (the message lists the known ones).
    """
    key = name.strip().lower().replace("_", "-")
    key = ALIASES.get(key, key)
    if key not in FORMATS:
        raise DataError(f"unknown format {name!r}", field="--to/--format",
                        fix="use one of " + ", ".join(FORMATS + tuple(ALIASES)))
    return key


def detect_format(obj: Any) -> str | None:
    """The format of one parsed row, or ``None`` when its keys match no supported format.

    ``{"messages": ...}`` is ``openai-chat`` when a message carries ``weight`` or the row has
    OpenAI's ``tools`` / ``parallel_tool_calls``; otherwise ``messages`` (both validate the same way).
    """
    if not isinstance(obj, dict):
        return None
    if "messages" in obj:
        if obj.keys() - OPENAI_CHAT_TOP_KEYS or not isinstance(obj["messages"], list):
            return "messages"
        if obj.keys() & {"tools", "parallel_tool_calls", "functions"} or any(
                isinstance(m, dict) and "weight" in m for m in obj["messages"]):
            return "openai-chat"
        return "messages"
    if "input" in obj and ("preferred_output" in obj or "non_preferred_output" in obj):
        return "openai-dpo"
    if "data_source" in obj and "reward_model" in obj:
        return "verl"
    if "chosen" in obj or "rejected" in obj:
        return "preference" if "prompt" in obj else "preference-implicit"
    if "conversations" in obj:
        return "sharegpt"
    if "instruction" in obj and "output" in obj:
        return "alpaca"
    if "prompt" in obj:
        return "prompt-completion" if "completion" in obj else "prompt-only"
    return None


@dataclass
class Row:
    """One example in format-neutral form: the prompt messages and the answer(s).

    Attributes:
        prompt: messages before the answer (system / user / earlier turns), as dicts.
        completion: the SFT answer messages (usually one assistant message), or ``None``.
        chosen: the preferred answer messages of a preference pair, or ``None``.
        rejected: the dispreferred answer messages, or ``None``.
        meta: every other column (``id``, ``task``, ``subject_id``, ``strategy`` / ``method``, ...).
        text_prompt: the prompt was a plain string in the source (TRL "standard" format).
        text_answers: the answers were plain strings in the source.
    """

    prompt: list[dict[str, Any]]
    completion: list[dict[str, Any]] | None = None
    chosen: list[dict[str, Any]] | None = None
    rejected: list[dict[str, Any]] | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    text_prompt: bool = False
    text_answers: bool = False

    @property
    def answer(self) -> list[dict[str, Any]] | None:
        """The SFT target: the completion, else the chosen side."""
        return self.completion if self.completion is not None else self.chosen


def text_of(messages: list[dict[str, Any]] | None) -> str:
    """Concatenated ``content`` strings of ``messages`` ('' for ``None``), joined with newlines."""
    if not messages:
        return ""
    return "\n".join(m["content"] for m in messages if isinstance(m.get("content"), str))


def _bad(msg: str, file: Any, line: int | None, fld: str) -> DataError:
    return DataError(msg, file=file, line=line, field=fld, fix="run `slmforge data validate` on the file and fix the row")


def _msgs(value: Any, role: str, fld: str, file: Any, line: int | None) -> tuple[list[dict[str, Any]], bool]:
    """A string becomes one message with ``role``; a list of message dicts is kept as is."""
    if isinstance(value, str):
        return [{"role": role, "content": value}], True
    if isinstance(value, list) and all(isinstance(m, dict) and isinstance(m.get("role"), str)
                                       and isinstance(m.get("content"), str | None) for m in value):
        return list(value), False
    raise _bad("expected a string or a list of {role: str, content: str} messages", file, line, fld)


def _split_last_assistant(messages: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]] | None]:
    for i in range(len(messages) - 1, -1, -1):
        if messages[i].get("role") == "assistant":
            return messages[:i], messages[i:]
    return messages, None


def _common_prefix(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> int:
    n = 0
    while n < min(len(a), len(b)) - 1 and a[n] == b[n]:
        n += 1
    return n


def parse_row(obj: Any, fmt: str, *, file: Any = None, line: int | None = None) -> Row:
    """Parse one row of format ``fmt`` into a :class:`Row`; keys the format does not use go to ``meta``.

    Args:
        obj: the parsed JSON object (or parquet row as a dict).
        fmt: a name from :data:`FORMATS`.
        file: file name for error messages.
        line: 1-based line (or parquet row) number for error messages.

    Raises:
        DataError: the row lacks a key the format needs or has the wrong type (names file:line and field).
    """
    if not isinstance(obj, dict):
        raise _bad(f"row is a {type(obj).__name__}, not a JSON object", file, line, "(row)")

    def need(key: str) -> Any:
        if key not in obj:
            raise _bad(f"missing key {key!r} for format {fmt}", file, line, key)
        return obj[key]

    if fmt in ("messages", "openai-chat"):
        msgs, _ = _msgs(need("messages"), "user", "messages", file, line)
        prompt, completion = _split_last_assistant(msgs)
        return Row(prompt, completion=completion, meta={k: v for k, v in obj.items() if k != "messages"})
    if fmt in ("prompt-completion", "prompt-only"):
        prompt, tp = _msgs(need("prompt"), "user", "prompt", file, line)
        row = Row(prompt, text_prompt=tp, meta={k: v for k, v in obj.items() if k not in ("prompt", "completion")})
        if fmt == "prompt-completion":
            row.completion, row.text_answers = _msgs(need("completion"), "assistant", "completion", file, line)
        return row
    if fmt == "preference":
        prompt, tp = _msgs(need("prompt"), "user", "prompt", file, line)
        chosen, ta = _msgs(need("chosen"), "assistant", "chosen", file, line)
        rejected, _ = _msgs(need("rejected"), "assistant", "rejected", file, line)
        meta = {k: v for k, v in obj.items() if k not in ("prompt", "chosen", "rejected")}
        return Row(prompt, chosen=chosen, rejected=rejected, meta=meta, text_prompt=tp, text_answers=ta)
    if fmt == "preference-implicit":
        chosen, _ = _msgs(need("chosen"), "assistant", "chosen", file, line)
        rejected, _ = _msgs(need("rejected"), "assistant", "rejected", file, line)
        n = _common_prefix(chosen, rejected)
        meta = {k: v for k, v in obj.items() if k not in ("chosen", "rejected")}
        return Row(chosen[:n], chosen=chosen[n:], rejected=rejected[n:], meta=meta)
    if fmt == "openai-dpo":
        inp = need("input")
        if not isinstance(inp, dict):
            raise _bad("expected an object with 'messages'", file, line, "input")
        prompt, _ = _msgs(inp.get("messages"), "user", "input.messages", file, line)
        chosen, _ = _msgs(need("preferred_output"), "assistant", "preferred_output", file, line)
        rejected, _ = _msgs(need("non_preferred_output"), "assistant", "non_preferred_output", file, line)
        meta = {k: v for k, v in inp.items() if k != "messages"}
        meta.update({k: v for k, v in obj.items() if k not in ("input", "preferred_output", "non_preferred_output")})
        return Row(prompt, chosen=chosen, rejected=rejected, meta=meta)
    if fmt == "verl":
        prompt, tp = _msgs(need("prompt"), "user", "prompt", file, line)
        rm = need("reward_model")
        if not isinstance(rm, dict):
            raise _bad("expected an object with 'style' and 'ground_truth'", file, line, "reward_model")
        extra = obj.get("extra_info") or {}
        if not isinstance(extra, dict):
            raise _bad("expected an object", file, line, "extra_info")
        meta = {k: v for k, v in extra.items() if k not in ("index", "split") and v is not None}
        meta.update({"data_source": obj.get("data_source"), "ability": obj.get("ability")})
        row = Row(prompt, text_prompt=tp, meta=meta)
        gt = rm.get("ground_truth")
        if isinstance(gt, str):
            row.completion, row.text_answers = [{"role": "assistant", "content": gt}], True
        elif gt is not None:
            meta["ground_truth"] = gt
        return row
    if fmt == "alpaca":
        instruction, inp, output = need("instruction"), obj.get("input") or "", need("output")
        if not isinstance(instruction, str) or not isinstance(inp, str) or not isinstance(output, str):
            raise _bad("instruction, input and output must be strings", file, line, "instruction")
        prompt: list[dict[str, Any]] = []
        if isinstance(obj.get("system"), str) and obj["system"]:
            prompt.append({"role": "system", "content": obj["system"]})
        for pair in obj.get("history") or []:
            if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(t, str) for t in pair)):
                raise _bad("history must be a list of [user, assistant] string pairs", file, line, "history")
            prompt += [{"role": "user", "content": pair[0]}, {"role": "assistant", "content": pair[1]}]
        prompt.append({"role": "user", "content": instruction + ("\n\n" + inp if inp else "")})
        meta = {k: v for k, v in obj.items() if k not in ("instruction", "input", "output", "system", "history")}
        return Row(prompt, completion=[{"role": "assistant", "content": output}], meta=meta, text_answers=True)
    if fmt == "sharegpt":
        conv = need("conversations")
        if not isinstance(conv, list):
            raise _bad("expected a list of {from, value} turns", file, line, "conversations")
        msgs: list[dict[str, Any]] = []
        if isinstance(obj.get("system"), str) and obj["system"]:
            msgs.append({"role": "system", "content": obj["system"]})
        for i, turn in enumerate(conv):
            if not isinstance(turn, dict) or not isinstance(turn.get("from"), str) \
                    or turn["from"] not in SHAREGPT_ROLES or not isinstance(turn.get("value"), str):
                raise _bad("each turn needs 'from' (human/gpt/system) and a string 'value'", file, line,
                           f"conversations[{i}]")
            msgs.append({"role": SHAREGPT_ROLES[turn["from"]], "content": turn["value"]})
        prompt, completion = _split_last_assistant(msgs)
        return Row(prompt, completion=completion,
                   meta={k: v for k, v in obj.items() if k not in ("conversations", "system")})
    raise DataError(f"unknown format {fmt!r}", file=file, line=line, fix="use one of " + ", ".join(FORMATS))


def read_parsed(path: Any, fmt: str | None = None) -> Iterator[tuple[int, str, Row]]:
    """Stream a JSONL / Parquet file as ``(line, format, Row)``; the format is detected from the first row.

    Raises:
        DataError: unreadable file, a row that matches no format, or one the format cannot parse (file:line).
    """
    from slmforge.data.io import read_rows

    fmt = resolve_format(fmt) if fmt else None
    for line, obj in read_rows(path):
        if fmt is None:
            fmt = detect_format(obj)
            if fmt is None:
                raise DataError("row matches no supported format", file=path, line=line,
                                fix="pass --from/--format, or run `slmforge data validate` on the file")
        yield line, fmt, parse_row(obj, fmt, file=path, line=line)
