"""``slmforge data validate``: every problem of a dataset file as ``file:line: field: code: detail``.

Problem codes. The first seven are the categories of the OpenAI cookbook's "Data preparation and
analysis for chat model fine-tuning" format check; the rest are ours:

* ``data_type`` — a row (or message, or field) has the wrong JSON type.
* ``missing_messages_list`` — no ``messages`` list (or an empty one).
* ``message_missing_key`` — a message without ``role`` or ``content``.
* ``message_unrecognized_key`` — a message key other than role, content, name, weight, function_call,
  tool_calls, tool_call_id.
* ``unrecognized_role`` — a role other than system, user, assistant, tool, function.
* ``missing_content`` — ``content`` absent, null or not a string.
* ``example_missing_assistant_message`` — no assistant message to learn from.
* ``invalid_json``, ``non_utf8``, ``bom``, ``crlf``, ``cr``, ``blank_line`` — line-level problems; lines end
  at LF, CRLF or a lone CR, numbered as every data command numbers them (:func:`~slmforge.data.io.iter_lines`).
* ``duplicate_key`` — one JSON object repeats a key (readers would silently keep the last value).
* ``too_deep`` — lists / objects nested deeper than :data:`~slmforge.data.io.MAX_DEPTH` levels.
* ``lone_surrogate`` — a ``\\ud800``-style escape without its pair: readable, but no UTF-8 file can hold it.
* ``unknown_format`` / ``format_mismatch`` — keys match no format / another format than the file's.
* ``missing_field`` — a key the format needs is absent (``chosen``, ``reward_model``, ...).
* ``empty_text`` — a text that is empty or only whitespace.
* ``control_character`` — C0/C1 control characters other than tab and newline, U+FFFD, BOM, zero-width
  space, bidirectional overrides, line/paragraph separators inside a text.
* ``invalid_weight`` — ``weight`` not 0/1, or on a non-assistant message (OpenAI chat FT).
* ``duplicate`` — a row byte-identical to an earlier one.
* ``chosen_equals_rejected`` — a preference pair whose two sides are the same text.

The validator is one pass of :func:`~slmforge.data.io.scan_jsonl` plus plain-Python checks (no pydantic per
row), so that 100,000 rows take a few seconds (``benchmarks/validate_speed.py``).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from slmforge.data.formats import MESSAGE_KEYS, OPENAI_CHAT_TOP_KEYS, SHAREGPT_ROLES, detect_format, resolve_format
from slmforge.data.io import is_parquet, read_rows, scan_jsonl
from slmforge.errors import DataError

ROLES = frozenset({"system", "user", "assistant", "tool", "function"})
CONTROL_RE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ufffd\ufeff\u200b\u200e\u200f\u2028\u2029\u202a-\u202e\u2060\ud800-\udfff]")
DETECT_ROWS = 50


@dataclass(frozen=True)
class Problem:
    """One problem at one place: ``str()`` gives ``file:line: field: code: detail``.

    Attributes:
        file: the file as given.
        line: 1-based line (JSONL) or row (Parquet) number.
        field: key path inside the row (``messages[1].role``), or ``(line)`` / ``(row)`` / ``(file)``.
        code: problem code (see the module docstring).
        detail: what exactly is wrong.
    """

    file: str
    line: int
    field: str
    code: str
    detail: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.field}: {self.code}: {self.detail}"


@dataclass
class ValidationReport:
    """What :func:`validate_file` found in one file.

    Attributes:
        file: the file as given.
        format: detected (or forced) format name, ``None`` when nothing matched.
        rows: number of rows parsed as JSON objects.
        problems: every problem, in file order.
    """

    file: str
    format: str | None
    rows: int
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when there is no problem."""
        return not self.problems

    def counts(self) -> dict[str, int]:
        """Number of problems per code."""
        out: dict[str, int] = {}
        for p in self.problems:
            out[p.code] = out.get(p.code, 0) + 1
        return out


Found = list[tuple[str, str, str]]  # (field, code, detail)


def _text(value: str, path: str, out: Found) -> None:
    if not value.strip():
        out.append((path, "empty_text", "text is empty or only whitespace"))
        return
    m = CONTROL_RE.search(value)
    if m:
        out.append((path, "control_character", f"U+{ord(m.group()):04X} at character {m.start()}"))


def _messages(msgs: Any, path: str, out: Found, *, need_assistant: bool) -> None:
    if not isinstance(msgs, list) or not msgs:
        out.append((path, "missing_messages_list", "expected a non-empty list of messages"))
        return
    has_assistant = False
    for i, m in enumerate(msgs):
        # fast path: {"role": known, "content": str}, the shape of nearly every message
        if type(m) is dict and len(m) == 2 and type(role := m.get("role")) is str and role in ROLES \
                and type(content := m.get("content")) is str:
            if not content or content.isspace() or CONTROL_RE.search(content):
                _text(content, f"{path}[{i}].content", out)
            has_assistant = has_assistant or role == "assistant"
            continue
        p = f"{path}[{i}]"
        if not isinstance(m, dict):
            out.append((p, "data_type", f"message is a {type(m).__name__}, not an object"))
            continue
        role, content = m.get("role"), m.get("content")
        calls = "tool_calls" in m or "function_call" in m
        if "role" not in m or ("content" not in m and not calls):
            missing = [k for k in ("role", "content") if k not in m]
            out.append((p, "message_missing_key", "missing " + ", ".join(missing)))
        extra = m.keys() - MESSAGE_KEYS
        if extra:
            out.append((p, "message_unrecognized_key", "unrecognized " + ", ".join(sorted(map(str, extra)))))
        if "role" in m and (not isinstance(role, str) or role not in ROLES):
            out.append((f"{p}.role", "unrecognized_role", f"{role!r} is not one of " + ", ".join(sorted(ROLES))))
        if isinstance(content, str):
            _text(content, f"{p}.content", out)
        elif "content" in m and not (content is None and calls):
            out.append((f"{p}.content", "missing_content", f"content is {type(content).__name__}, not a string"))
        if "weight" in m and (m["weight"] not in (0, 1) or isinstance(m["weight"], bool) or role != "assistant"):
            out.append((f"{p}.weight", "invalid_weight", "weight must be 0 or 1, on assistant messages only"))
        has_assistant = has_assistant or role == "assistant"
    if need_assistant and not has_assistant:
        out.append((path, "example_missing_assistant_message", "no assistant message"))


def _side(obj: dict[str, Any], key: str, out: Found, *, role_text: bool) -> Any:
    """Check a prompt / chosen / rejected / completion value: a non-empty string or a message list."""
    if key not in obj:
        out.append((key, "missing_field", f"missing {key!r}"))
        return None
    v = obj[key]
    if isinstance(v, str):
        _text(v, key, out)
    elif isinstance(v, list):
        _messages(v, key, out, need_assistant=role_text)
    else:
        out.append((key, "data_type", f"expected a string or a list of messages, got {type(v).__name__}"))
    return v


def check_row(obj: Any, fmt: str) -> Found:
    """Every problem of one parsed row against format ``fmt``, as ``(field, code, detail)`` tuples."""
    out: Found = []
    if not isinstance(obj, dict):
        return [("(row)", "data_type", f"row is a {type(obj).__name__}, not a JSON object")]
    seen = "messages" if fmt in ("messages", "openai-chat") and "messages" in obj else detect_format(obj)
    if seen is not None and seen != fmt and not {seen, fmt} <= {"messages", "openai-chat"}:
        return [("(row)", "format_mismatch", f"row looks like {seen}, the file is {fmt}")]
    if fmt in ("messages", "openai-chat"):
        _messages(obj.get("messages"), "messages", out, need_assistant=True)
        if fmt == "openai-chat" and obj.keys() - OPENAI_CHAT_TOP_KEYS:
            out.append(("(row)", "unrecognized_key", "OpenAI accepts only " + ", ".join(sorted(OPENAI_CHAT_TOP_KEYS))))
    elif fmt in ("prompt-completion", "prompt-only"):
        _side(obj, "prompt", out, role_text=False)
        if fmt == "prompt-completion":
            _side(obj, "completion", out, role_text=True)
    elif fmt in ("preference", "preference-implicit"):
        if fmt == "preference":
            _side(obj, "prompt", out, role_text=False)
        chosen = _side(obj, "chosen", out, role_text=True)
        rejected = _side(obj, "rejected", out, role_text=True)
        if chosen is not None and chosen == rejected:
            out.append(("rejected", "chosen_equals_rejected", "rejected is identical to chosen"))
    elif fmt == "openai-dpo":
        inp = obj.get("input")
        if not isinstance(inp, dict):
            out.append(("input", "missing_field", "expected an object with 'messages'"))
        else:
            _messages(inp.get("messages"), "input.messages", out, need_assistant=False)
        for key in ("preferred_output", "non_preferred_output"):
            if key not in obj:
                out.append((key, "missing_field", f"missing {key!r}"))
            else:
                _messages(obj[key], key, out, need_assistant=True)
        if obj.get("preferred_output") is not None and obj.get("preferred_output") == obj.get("non_preferred_output"):
            out.append(("non_preferred_output", "chosen_equals_rejected", "identical to preferred_output"))
    elif fmt == "verl":
        for key in ("data_source", "ability"):
            if not isinstance(obj.get(key), str) or not obj[key]:
                out.append((key, "missing_field", f"{key!r} must be a non-empty string"))
        _messages(obj.get("prompt"), "prompt", out, need_assistant=False)
        rm = obj.get("reward_model")
        if not isinstance(rm, dict) or "ground_truth" not in rm:
            out.append(("reward_model", "missing_field", "expected an object with 'style' and 'ground_truth'"))
        elif isinstance(rm["ground_truth"], str):
            _text(rm["ground_truth"], "reward_model.ground_truth", out)
        if "extra_info" in obj and obj["extra_info"] is not None and not isinstance(obj["extra_info"], dict):
            out.append(("extra_info", "data_type", "expected an object"))
    elif fmt == "alpaca":
        for key in ("instruction", "output"):
            v = obj.get(key)
            if not isinstance(v, str):
                out.append((key, "missing_field" if key not in obj else "data_type", f"{key!r} must be a string"))
            else:
                _text(v, key, out)
        if not isinstance(obj.get("input", ""), str):
            out.append(("input", "data_type", "'input' must be a string"))
    elif fmt == "sharegpt":
        conv = obj.get("conversations")
        if not isinstance(conv, list) or not conv:
            out.append(("conversations", "missing_messages_list", "expected a non-empty list of turns"))
            return out
        for i, turn in enumerate(conv):
            p = f"conversations[{i}]"
            if not isinstance(turn, dict):
                out.append((p, "data_type", "turn is not an object"))
            elif not isinstance(turn.get("from"), str) or turn["from"] not in SHAREGPT_ROLES:
                out.append((f"{p}.from", "unrecognized_role", f"{turn.get('from')!r} is not one of human, gpt, system"))
            elif not isinstance(turn.get("value"), str):
                out.append((f"{p}.value", "missing_content", "value must be a string"))
            else:
                _text(turn["value"], f"{p}.value", out)
        if not any(isinstance(t, dict) and isinstance(t.get("from"), str) and SHAREGPT_ROLES.get(t["from"]) == "assistant"
                   for t in conv):
            out.append(("conversations", "example_missing_assistant_message", "no gpt turn"))
    return out


def _detect_file(objs: list[tuple[int, Any]]) -> str | None:
    for _, obj in objs:
        fmt = detect_format(obj)
        if fmt is not None:
            return fmt
    return None


def validate_file(path: str | Path, *, fmt: str | None = None) -> ValidationReport:
    """Validate a JSONL or Parquet dataset file in one pass.

    Args:
        path: the file (``.jsonl`` / ``.json`` lines, or ``.parquet``).
        fmt: force a format (a name or alias of :data:`~slmforge.data.formats.FORMATS`); detected from
            the first rows when ``None``.

    Returns:
        The report; ``report.ok`` is True when no problem was found.

    Raises:
        DataError: the file cannot be read at all (missing, a directory, UTF-16, broken Parquet).
    """
    path = Path(path)
    name = str(path)
    forced = resolve_format(fmt) if fmt else None
    if not path.is_file():
        raise DataError("no such file" if not path.exists() else "not a file", file=path, fix="check the path")
    if is_parquet(path):
        return _validate_objects(name, list(read_rows(path)), forced, [])
    problems: list[Problem] = []
    objs: list[tuple[int, Any]] = []
    keys: list[bytes] = []  # content hash of each parsed line, for exact duplicates
    for ln in scan_jsonl(path):  # the line numbering every other data command uses
        i = ln.number
        if ln.bom:
            problems.append(Problem(name, 1, "(file)", "bom", "starts with a UTF-8 byte-order mark; save without BOM"))
        if ln.ending == b"\r\n":
            problems.append(Problem(name, i, "(line)", "crlf", "line ends with CRLF; use LF line endings"))
        elif ln.ending == b"\r":
            problems.append(Problem(name, i, "(line)", "cr", "line ends with a lone CR (old Mac); use LF line endings"))
        if ln.blank:
            problems.append(Problem(name, i, "(line)", "blank_line", "empty line; remove it"))
        elif ln.problem is not None:
            problems.append(Problem(name, i, "(line)", *ln.problem))
        else:
            objs.append((i, ln.obj))
            keys.append(hashlib.blake2b(ln.raw, digest_size=16).digest())
    return _validate_objects(name, objs, forced, problems, keys)


def _validate_objects(name: str, objs: list[tuple[int, Any]], fmt: str | None, problems: list[Problem],
                      keys: list[bytes] | None = None) -> ValidationReport:
    fmt = fmt or _detect_file(objs[:DETECT_ROWS]) or _detect_file(objs)
    if objs and fmt is None:
        first = objs[0][1]
        shape = ", ".join(sorted(map(str, first))) if isinstance(first, dict) else type(first).__name__
        problems.append(Problem(name, objs[0][0], "(row)", "unknown_format",
                                f"keys [{shape}] match no supported format; see `slmforge data convert --help`"))
    elif not objs and not problems:
        problems.append(Problem(name, 1, "(file)", "empty_text", "the file holds no rows"))
    seen: dict[bytes, int] = {}
    for n, (line, obj) in enumerate(objs):
        if fmt is not None:
            for fld, code, detail in check_row(obj, fmt):
                problems.append(Problem(name, line, fld, code, detail))
        key = keys[n] if keys is not None else \
            hashlib.blake2b(json.dumps(obj, sort_keys=True, default=str).encode(), digest_size=16).digest()
        if key in seen:
            problems.append(Problem(name, line, "(row)", "duplicate", f"same as line {seen[key]}"))
        else:
            seen[key] = line
    problems.sort(key=lambda p: p.line)
    return ValidationReport(name, fmt, len(objs), problems)
