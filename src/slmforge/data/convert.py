"""``slmforge data convert IN OUT --to FORMAT``: rewrite a dataset in another format, reporting losses.

Every row is parsed into a format-neutral :class:`~slmforge.data.formats.Row` and rendered in the
target format. Nothing is dropped silently: whatever the target cannot hold (a ``rejected`` side in an
SFT format, extra columns in OpenAI's strict formats, ``weight`` in ShareGPT, ...) is counted per field
in :class:`ConvertReport`. Round trips between formats that hold the same information are lossless
(TRL conversational SFT ⇄ OpenAI chat FT, TRL preference ⇄ OpenAI DPO for conversational rows).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from slmforge.data.formats import (
    MESSAGE_KEYS,
    OPENAI_CHAT_TOP_KEYS,
    PREFERENCE_FORMATS,
    SHAREGPT_FROM,
    Row,
    read_parsed,
    resolve_format,
    text_of,
)
from slmforge.data.io import check_output_path, is_parquet, write_jsonl, write_parquet
from slmforge.data.validate import check_row
from slmforge.errors import DataError

OPENAI_MESSAGE_KEYS = MESSAGE_KEYS
DPO_INPUT_KEYS = ("tools", "parallel_tool_calls")


@dataclass
class ConvertReport:
    """The outcome of :func:`convert_file`.

    Attributes:
        source: input file; source_format / target_format: format names.
        output: the file written.
        rows: rows written.
        dropped: field → number of rows in which the target format could not hold that field.
        system_injected: rows that received the ``--system`` message (added or replaced).
    """

    source: str
    output: str
    source_format: str
    target_format: str
    rows: int = 0
    dropped: Counter[str] = field(default_factory=Counter)
    system_injected: int = 0


def _with_system(row: Row, system: str) -> None:
    if row.prompt and row.prompt[0].get("role") == "system":
        row.prompt[0] = {**row.prompt[0], "content": system}
    else:
        row.prompt.insert(0, {"role": "system", "content": system})
    row.text_prompt = False


def _keep_keys(msgs: list[dict[str, Any]], allowed: frozenset[str], where: str, drops: Counter[str]) -> list[dict[str, Any]]:
    out = []
    for m in msgs:
        extra = m.keys() - allowed
        for k in extra:
            drops[f"{where}[].{k}"] += 1
        out.append({k: v for k, v in m.items() if k in allowed} if extra else m)
    return out


def _answer_text(msgs: list[dict[str, Any]] | None, name: str, drops: Counter[str]) -> str:
    if msgs and len(msgs) > 1:
        drops[f"{name} (turns after the first)"] += 1
    return msgs[0].get("content") or "" if msgs else ""


def _plain(msgs: list[dict[str, Any]], role: str) -> bool:
    """True when ``msgs`` is one message of ``role`` with nothing but role and content."""
    return len(msgs) == 1 and msgs[0].get("role") == role and msgs[0].keys() <= {"role", "content"}


def render_row(row: Row, fmt: str, drops: Counter[str], *, index: int = 0, data_source: str = "slmforge") -> dict[str, Any]:
    """Render ``row`` in format ``fmt``; fields the format cannot hold are counted in ``drops``.

    Args:
        row: the parsed row.
        fmt: target format name (see :data:`~slmforge.data.formats.FORMATS`).
        drops: counter updated with ``field → rows`` that lost it.
        index: 0-based row index (VeRL ``extra_info.index``).
        data_source: VeRL ``data_source`` when the row has none.

    Raises:
        DataError: the row lacks what the format needs (a preference target from a row without ``rejected``).
    """
    meta = dict(row.meta)
    answer = row.answer
    if fmt in PREFERENCE_FORMATS:
        if row.chosen is None or row.rejected is None:
            raise DataError(f"row has no chosen/rejected pair; {fmt} needs both", field="rejected",
                            fix="convert a preference file, or build pairs first (`slmforge synth prefs`)")
    elif row.rejected is not None:
        drops["rejected"] += 1
    if fmt in ("messages", "openai-chat"):
        msgs = row.prompt + (answer or [])
        if fmt == "openai-chat":
            msgs = _keep_keys(msgs, OPENAI_MESSAGE_KEYS, "messages", drops)
            for k in meta.keys() - OPENAI_CHAT_TOP_KEYS:
                drops[k] += 1
            meta = {k: v for k, v in meta.items() if k in OPENAI_CHAT_TOP_KEYS}
        return {"messages": msgs, **meta}
    if fmt in ("prompt-completion", "prompt-only"):
        prompt: Any = row.prompt[0]["content"] if row.text_prompt and _plain(row.prompt, "user") else row.prompt
        out = {"prompt": prompt}
        if fmt == "prompt-completion":
            if answer is None:
                raise DataError("row has no completion", field="completion", fix="use --to prompt-only")
            out["completion"] = answer[0]["content"] if row.text_answers and _plain(answer, "assistant") else answer
        elif answer is not None:
            drops["completion"] += 1
        return {**out, **meta}
    if fmt == "preference":
        assert row.chosen is not None and row.rejected is not None
        prompt = row.prompt[0]["content"] if row.text_prompt and _plain(row.prompt, "user") else row.prompt
        text = row.text_answers and _plain(row.chosen, "assistant") and _plain(row.rejected, "assistant")
        return {"prompt": prompt, "chosen": row.chosen[0]["content"] if text else row.chosen,
                "rejected": row.rejected[0]["content"] if text else row.rejected, **meta}
    if fmt == "preference-implicit":
        assert row.chosen is not None and row.rejected is not None
        return {"chosen": row.prompt + row.chosen, "rejected": row.prompt + row.rejected, **meta}
    if fmt == "openai-dpo":
        assert row.chosen is not None and row.rejected is not None
        inp: dict[str, Any] = {"messages": _keep_keys(row.prompt, OPENAI_MESSAGE_KEYS, "input.messages", drops)}
        inp.update({k: meta.pop(k) for k in DPO_INPUT_KEYS if k in meta})
        for k in meta:
            drops[k] += 1
        return {"input": inp,
                "preferred_output": _keep_keys(row.chosen, OPENAI_MESSAGE_KEYS, "preferred_output", drops),
                "non_preferred_output": _keep_keys(row.rejected, OPENAI_MESSAGE_KEYS, "non_preferred_output", drops)}
    if fmt == "verl":
        extra: dict[str, Any] = {"index": index}
        for k, v in meta.items():
            if k in ("data_source", "ability"):
                continue
            if isinstance(v, str):
                extra[k] = v
            else:
                drops[k] += 1
        gt: Any = text_of(answer) if answer is not None else meta.get("ground_truth")
        return {"data_source": meta.get("data_source") or data_source,
                "prompt": _keep_keys(row.prompt, frozenset({"role", "content"}), "prompt", drops),
                "ability": meta.get("ability") or meta.get("task") or "writing",
                "reward_model": {"style": "rule", "ground_truth": "" if gt is None else str(gt)},
                "extra_info": extra}
    if fmt == "alpaca":
        system = ""
        turns = list(row.prompt)
        if turns and turns[0].get("role") == "system":
            system = turns.pop(0).get("content") or ""
        if not turns or turns[-1].get("role") != "user":
            raise DataError("alpaca needs a prompt that ends with a user message", field="prompt",
                            fix="convert to messages or sharegpt instead")
        history = [[turns[i].get("content") or "", turns[i + 1].get("content") or ""]
                   for i in range(0, len(turns) - 1, 2)]
        out = {"instruction": turns[-1].get("content") or "", "input": "",
               "output": _answer_text(answer, "completion", drops)}
        if system:
            out["system"] = system
        if history:
            out["history"] = history
        return {**out, **meta}
    if fmt == "sharegpt":
        conv = []
        for m in row.prompt + (answer or []):
            for k in m.keys() - {"role", "content"}:
                drops[f"messages[].{k}"] += 1
            conv.append({"from": SHAREGPT_FROM.get(m.get("role"), "human"), "value": m.get("content") or ""})
        return {"conversations": conv, **meta}
    raise DataError(f"unknown format {fmt!r}", field="--to")


def convert_file(src: str | Path, dst: str | Path, *, to: str, source_format: str | None = None,
                 system: str | None = None, data_source: str | None = None) -> ConvertReport:
    """Convert ``src`` into format ``to`` at ``dst`` (Parquet when ``to == "verl"`` or ``dst`` ends in .parquet).

    Args:
        src: input JSONL / Parquet file.
        dst: output file, written atomically (never the same path as ``src``).
        to: target format name or alias.
        source_format: force the input format; detected from the first row when ``None``.
        system: inject this system message into every prompt (replacing an existing one).
        data_source: VeRL ``data_source`` (default: the input file's stem).

    Returns:
        What was written and what the target could not hold.

    Raises:
        DataError: unreadable input, a row the source format cannot parse (file:line), a target that
            needs data the source lacks (e.g. ``rejected``), a row whose converted form ``data validate``
            would reject for the target format (names the input file:line and the field), or a ``dst``
            that is a folder or cannot be written. Rows are all checked before anything is written, so
            on any error ``dst`` is left as it was.
    """
    src, dst = Path(src), check_output_path(dst, field="DST")
    target = resolve_format(to)
    if src.resolve() == dst.resolve():
        raise DataError("output would overwrite the input", file=dst, fix="write to another path")
    out: list[dict[str, Any]] = []
    report: ConvertReport | None = None
    bad: list[tuple[int, str, str, str]] = []  # (input line, field, code, detail) of rows the target refuses
    for line, fmt, row in read_parsed(src, source_format):
        if report is None:
            report = ConvertReport(str(src), str(dst), fmt, target)
        if system:
            _with_system(row, system)
            report.system_injected += 1
        try:
            rendered = render_row(row, target, report.dropped, index=len(out), data_source=data_source or src.stem)
        except DataError as e:
            raise DataError(e.message, file=src, line=line, field=e.field, fix=e.fix) from e
        # what `data validate` (and the trainer) would refuse is refused here, before anything is written
        problems = check_row(rendered, target)
        if problems:
            bad.append((line, *problems[0]))
        out.append(rendered)
    if report is None:
        raise DataError("the file holds no rows", file=src, fix="check the path")
    if bad:
        line, fld, code, detail = bad[0]
        more = f"; {len(bad)} rows like this, nothing written" if len(bad) > 1 else "; nothing written"
        raise DataError(f"as {target} this row is invalid: {code}: {detail}{more}", file=src, line=line,
                        field=fld, fix=f"fix the input row (`slmforge data validate {src}` lists every problem), "
                                       "or convert to another format")
    try:
        report.rows = write_parquet(dst, out) if target == "verl" or is_parquet(dst) else write_jsonl(dst, out)
    except OSError as e:
        raise DataError(f"cannot write: {e.strerror}", file=dst, field="DST",
                        fix="give a path in a folder you can write to") from e
    return report
