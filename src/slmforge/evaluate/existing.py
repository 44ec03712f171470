"""Evaluate outputs that already exist: another system's generations, a hosted ``ft:`` model's, last
month's model — with the same metrics, scorecard and report as ``slmforge eval``.

Input: JSONL or CSV, one row per (item, candidate) with ``candidate`` and ``text`` and either

* ``item_id``: the id of one of the kit's golden examples (its prompt and reference are used), or
* ``prompt`` (the instruction), with ``task`` and ``subject_id`` columns or a prompt the kit's
  student templates produced (then both are read from the kit, never guessed from other text).

Every other numeric column is an **external score** (a human rating, another tool's metric): the
report adds the per-item Spearman rank correlation between it and each of our metrics (Spearman 1904;
Pearson correlation of average ranks, ties share their mean rank).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np

from slmforge.data.io import read_csv
from slmforge.data.records import Generation, Message
from slmforge.errors import DataError
from slmforge.evaluate.candidates import HeldoutItem, _from_golden
from slmforge.kit import LoadedKit

RESERVED = {"item_id", "prompt", "candidate", "text", "task", "subject_id"}
OUR_METRICS = ("check.score", "pass.all", "rm", "rougeL", "chrF", "judge.overall")


def _read_rows(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """``(line, row)`` pairs from a CSV (header line 1) or JSONL file.

    Raises:
        DataError: unreadable file, bad JSON, a row that is not an object.
    """
    try:
        if path.suffix.lower() == ".csv":
            return list(read_csv(path))
        rows = []
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                obj = json.loads(line)
                if not isinstance(obj, dict):
                    raise DataError("a row must be a JSON object", file=path, line=i, fix="write one object per line")
                rows.append((i, obj))
        return rows
    except UnicodeDecodeError as e:
        raise DataError("not UTF-8", file=path, fix="re-save the file as UTF-8") from e
    except json.JSONDecodeError as e:
        raise DataError(f"invalid JSON: {e.msg}", file=path, line=e.lineno, fix="fix the JSON line") from e
    except OSError as e:
        raise DataError(f"cannot read ({e.strerror})", file=path, fix="check the path") from e


def _item_for(lk: LoadedKit, golden: dict[str, HeldoutItem], row: dict[str, Any], path: Path, line: int) -> HeldoutItem:
    if row.get("item_id"):
        item = golden.get(str(row["item_id"]))
        if item is None:
            raise DataError(f"unknown item_id {row['item_id']!r}", file=path, line=line, field="item_id",
                            fix="use a golden example id of the kit, or give prompt, task and subject_id instead")
        return item
    prompt = str(row.get("prompt") or "")
    if not prompt:
        raise DataError("a row needs item_id or prompt", file=path, line=line, field="prompt",
                        fix="add an item_id column (golden ids) or a prompt column")
    task, subject = row.get("task") or None, row.get("subject_id") or None
    if task is None:
        from slmforge.kit.match import task_for_prompt

        task, found = task_for_prompt(lk, prompt)
        subject = subject or found
        if task is None:
            raise DataError("cannot tell the task of this prompt", file=path, line=line, field="task",
                            fix="add task and subject_id columns")
    if task not in {t.id for t in lk.kit.tasks}:
        raise DataError(f"unknown task {task!r}", file=path, line=line, field="task",
                        fix=f"use one of {sorted(t.id for t in lk.kit.tasks)}")
    ref = next((g.text for g in lk.golden if g.task == task and g.subject_id == subject), None)
    item_id = "p" + hashlib.sha256(f"{task}\0{subject}\0{prompt}".encode()).hexdigest()[:12]
    return HeldoutItem(item_id, task, subject, [{"role": "user", "content": prompt}], ref, source=f"{path}:{line}")


def read_generations(lk: LoadedKit, path: str | Path) -> tuple[list[HeldoutItem], list[Generation], dict[tuple[str, str], dict[str, float]]]:
    """Held-out items, generations and external scores from a file of existing outputs.

    Returns:
        ``(items, generations, external)``: items in first-seen order; one generation per row (id
        ``<item_id>:<candidate>``); external scores keyed by ``(item_id, candidate)`` → column → value.

    Raises:
        DataError: a row without candidate or text, an unknown item or task, a repeated (item, candidate),
            an external score that is not a number (names file:line and column).
    """
    path = Path(path)
    golden = {it.id: it for it in _from_golden(lk)}
    items: dict[str, HeldoutItem] = {}
    gens: list[Generation] = []
    external: dict[tuple[str, str], dict[str, float]] = {}
    for line, row in _read_rows(path):
        for key in ("candidate", "text"):
            if not isinstance(row.get(key), str) or (key == "candidate" and not row[key].strip()):
                raise DataError("missing", file=path, line=line, field=key, fix=f"give every row a `{key}` string")
        item = _item_for(lk, golden, row, path, line)
        items.setdefault(item.id, item)
        key = (item.id, row["candidate"])
        if key in external:
            raise DataError(f"a second text for item {item.id!r} and candidate {row['candidate']!r}", file=path,
                            line=line, field="candidate", fix="keep one row per item and candidate")
        scores = {}
        for col, v in row.items():
            if col in RESERVED or v in (None, ""):
                continue
            try:
                scores[f"ext.{col}"] = float(v)
            except (TypeError, ValueError) as e:
                raise DataError(f"external score {v!r} is not a number", file=path, line=line, field=col,
                                fix="write numbers, or leave the cell empty") from e
        external[key] = scores
        gens.append(Generation(id=f"{item.id}:{row['candidate']}", candidate=row["candidate"], task=item.task,
                               subject_id=item.subject_id, prompt=[Message(**m) for m in item.prompt], text=row["text"]))
    if not gens:
        raise DataError("no rows", file=path, fix="write one row per item and candidate")
    return list(items.values()), gens, external


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman's rank correlation (average ranks for ties); ``nan`` for fewer than 3 pairs or a constant side."""
    if len(x) < 3:
        return float("nan")

    def ranks(a: np.ndarray) -> np.ndarray:
        order = a.argsort(kind="mergesort")
        r = np.empty(len(a))
        r[order] = np.arange(len(a), dtype=float)
        for v in np.unique(a):  # ties share their mean rank
            r[a == v] = r[a == v].mean()
        return r

    rx, ry = ranks(np.asarray(x, float)), ranks(np.asarray(y, float))
    if rx.std() == 0 or ry.std() == 0:
        return float("nan")
    return float(np.corrcoef(rx, ry)[0, 1])


def correlations(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per external score column × our metric: Spearman over the rows that have both, and n."""
    ext = sorted({k for r in rows for k in r if k.startswith("ext.")})
    out = []
    for e in ext:
        for m in OUR_METRICS:
            pairs = [(r[e], r[m]) for r in rows if isinstance(r.get(e), float) and isinstance(r.get(m), (int, float))]
            if len(pairs) >= 3:
                x, y = map(np.array, zip(*pairs, strict=True))
                out.append({"external": e[4:], "metric": m, "spearman": round(spearman(x, y), 4), "n": len(pairs)})
    return out


def evaluate_existing(lk: LoadedKit, path: str | Path, out_dir: str | Path, *, rm_dir: str | None = None,
                      n_boot: int = 1000, seed: int = 0) -> Path:
    """Score existing outputs and write the same report directory as ``slmforge eval`` (no generation).

    Candidates named ``base`` and ``prompting`` are the scorecard's references; ``golden`` is the
    reference texts; every other candidate is compared with them.

    Args:
        lk: the kit whose checks, tasks and golden references apply.
        path: JSONL or CSV of existing outputs (module doc).
        out_dir: report directory (created).
        rm_dir: a trained reward model to add the ``rm`` column.
        n_boot / seed: bootstrap replicates and seed.

    Returns:
        ``out_dir`` with ``report.html``, ``report.md``, ``scores.csv``, ``scorecard.json``,
        ``correlations.csv`` (with external scores) and ``manifest.json``.

    Raises:
        DataError: see :func:`read_generations`; a candidate name outside ``[A-Za-z0-9_.-]``.
    """
    from slmforge.data.io import write_json, write_jsonl
    from slmforge.evaluate.config import CandidateSpec, EvalConfig
    from slmforge.evaluate.report import ReportMeta, write_csv, write_report
    from slmforge.evaluate.run import add_rm_scores, candidate_scorecard, rule_rows
    from slmforge.evaluate.scorecard import small_n_warning
    from slmforge.runs import Manifest, file_hash, write_stage

    out = Path(out_dir)
    items, gens, external = read_generations(lk, path)
    names = list(dict.fromkeys(g.candidate for g in gens))
    try:
        specs = [CandidateSpec(name=n, kind="golden" if n == "golden" else "prompting" if n == "prompting" else "model")
                 for n in names]
    except ValueError as e:
        raise DataError(f"candidate names must match [A-Za-z0-9_.-]+ ({e.errors()[0]['input']!r})", file=path,
                        field="candidate", fix="rename the candidate, e.g. ft-model-1") from e
    cfg = EvalConfig(candidates=specs, judge=None, rm_dir=rm_dir, n_boot=n_boot, seed=seed)
    rows = rule_rows(lk, cfg, items, gens)
    for r in rows:
        r.update(external.get((r["item_id"], r["candidate"]), {}))
    if rm_dir:
        add_rm_scores(rows, items, rm_dir)
    card = candidate_scorecard(cfg, rows)
    corr = correlations(rows)
    out.mkdir(parents=True, exist_ok=True)
    write_jsonl(out / "generations.jsonl", gens)
    write_json(out / "scorecard.json", card)
    if corr:
        write_csv(out / "correlations.csv", corr)
    warnings = [w for w in [small_n_warning(card)] if w]
    meta = ReportMeta(title=f"Evaluation of existing outputs — {lk.kit.brand}", language=lk.kit.language,
                      subtitle=f"kit {lk.kit.name} · {len(items)} items · candidates: {', '.join(names)} · from {path}",
                      warnings=warnings, notes=["No generation and no judge ran: the texts come from the file."],
                      settings={"generations": str(path), "rm_dir": rm_dir, "n_boot": n_boot, "seed": seed})
    extra = [{"id": "external-correlations", "title": "External scores against ours (Spearman)", "rows": corr,
              "intro": "Per-item Spearman rank correlation between each external score column and our metrics."}] if corr else []
    write_report(rows, [], out, meta, n_boot=n_boot, seed=seed, scorecard=card, extra_sections=extra)
    manifest = Manifest(stage="eval", inputs={"kit": lk.hash, "generations": file_hash(path)},
                        counts={"items": len(items), "generations": len(gens)}, notes=meta.warnings + meta.notes)
    write_stage(out, manifest, cfg, outputs=["report.html", "report.md", "scorecard.json", "generations.jsonl"])
    return out
