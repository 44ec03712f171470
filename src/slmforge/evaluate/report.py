"""Write the evaluation report: CSV tables, PNG plots, ``report.md`` and a self-contained ``report.html``.

``report.html`` embeds its figures as base64 PNGs and its CSS inline, so it opens offline from any
folder. Inside a pipeline run it also shows each trained stage's training curve
(:mod:`slmforge.evaluate.runinfo`) and, under the scorecard, what each gain cost per quality point
(:func:`slmforge.evaluate.scorecard.add_cost_per_point`). The same :func:`write_report` serves ``slmforge eval`` (rows built from the run) and
``slmforge report --from-scores FILE`` (rows read by :func:`read_scores_csv` from a CSV produced
elsewhere), so past evaluations can be put on the same page.
"""

from __future__ import annotations

import base64
import csv
import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import jinja2

from slmforge.errors import DataError
from slmforge.evaluate import tables
from slmforge.evaluate.metrics import char_length
from slmforge.evaluate.runinfo import TrainingCurve
from slmforge.evaluate.scorecard import METRICS, stage_breakdown

TEXT_COLUMNS = {"text", "candidate", "task", "item_id", "a", "b", "stage", "source"}
CAPTIONS = {
    "scores_by_task": "Mean primary score per task and candidate.",
    "criteria": "Mean judge score per criterion over all tasks.",
    "check_pass_rates": "Share of texts that pass each rule check.",
    "score_vs_length": "Score against length: a rising cloud means the judge rewards length.",
    "lengths": "Length distribution per candidate (characters).",
    "win_rates": "Pairwise win rates (ties = ½) with 95 % bootstrap intervals; raw and length-controlled.",
}


@dataclass
class ReportMeta:
    """Header material of a report.

    Attributes:
        title: page title.
        subtitle: one line under the title (kit, date, item counts).
        language: BCP-47 tag for the HTML ``lang`` attribute.
        warnings: shown highlighted at the top (judge/teacher family, parse failures …).
        notes: plain remarks (scoring mode of the judge, cost).
        settings: anything JSON-serialisable recorded at the bottom (sampling, judge, seeds).
    """

    title: str = "slmforge evaluation report"
    subtitle: str = ""
    language: str = "en"
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)


def fmt(v: Any) -> str:
    """Table cell text: floats with 3 decimals, None/NaN as '–'."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    if isinstance(v, float):
        return f"{v:.3f}"
    return str(v)


def write_csv(path: Path, rows: list[dict[str, Any]]) -> Path:
    """Write dict rows as UTF-8 CSV (header = union of keys in first-seen order)."""
    cols = list(dict.fromkeys(k for r in rows for k in r))
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=cols)
        w.writeheader()
        w.writerows(rows)
    return path


def _md_table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "_no data_\n"
    cols = list(dict.fromkeys(k for r in rows for k in r))
    cell = lambda v: fmt(v).replace("|", "\\|").replace("\n", "<br>")  # noqa: E731
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(cell(r.get(c)) for c in cols) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def _best_cells(rows: list[dict[str, Any]], group_key: str) -> dict[tuple[int, str], bool]:
    """Mark the highest value of each metric column within each group (e.g. per task)."""
    best: dict[tuple[int, str], bool] = {}
    groups: dict[Any, list[int]] = {}
    for i, r in enumerate(rows):
        groups.setdefault(r.get(group_key), []).append(i)
    cols = [c for c in (rows[0] if rows else {}) if c not in TEXT_COLUMNS and c != "n"]
    for idx in groups.values():
        for c in cols:
            vals = [(i, rows[i].get(c)) for i in idx if isinstance(rows[i].get(c), float)]
            if len(vals) > 1:
                top = max(v for _, v in vals)
                best.update({(i, c): True for i, v in vals if v == top})
    return best


def _curves_section(curves: list[TrainingCurve]) -> dict[str, Any]:
    """The training-curves section: one summary row and one figure per trained stage with a history."""
    rows = []
    for c in curves:
        last = max(step for series in c.panels.values() for pts in series.values() for step, _ in pts)
        row: dict[str, Any] = {"stage": c.stage, "last step": last}
        for key in ("loss", "eval_loss", "reward", "eval_accuracy"):
            pts = next((s[key] for s in c.panels.values() if key in s), None)
            if pts:
                row |= {f"first {key}": pts[0][1], f"last {key}": pts[-1][1]}
        rows.append(row | {"minutes": round(c.duration_s / 60, 2), "source": Path(c.source).name})
    return {"id": "training-curves", "title": "Training curves", "rows": rows,
            "figs": [f"curve_{c.stage}" for c in curves],
            "intro": "What each trained stage logged against the optimizer step (the stage's metrics.jsonl, else the "
                     "log_history of its last checkpoint's trainer_state.json); eval_* series are on the held-out "
                     "split; minutes = the stage's wall time."}


def _cost_lines(card: list[dict[str, Any]]) -> list[str]:
    """One line per scorecard row that carries a cost per quality point (pipeline runs only)."""
    out = []
    for r in card:
        if "cost_per_point" in r:
            spent = stage_breakdown(r)
            out.append(f"{r['candidate']} vs {r['against']}, {METRICS[r['metric']][0]}: {r['cost_per_point']}"
                       + (f" — spent: {spent}" if spent else ""))
    return out


def write_report(
    rows: list[dict[str, Any]], verdicts: list[dict[str, Any]], out_dir: str | Path, meta: ReportMeta,
    *, n_boot: int = 1000, seed: int = 0, worst_n: int = 10, scorecard: list[dict[str, Any]] | None = None,
    extra_sections: list[dict[str, Any]] | None = None, curves: list[TrainingCurve] | None = None,
) -> Path:
    """Compute every table, draw the plots and write CSVs, ``report.md`` and ``report.html``.

    Args:
        rows: per-item score rows (see :mod:`slmforge.evaluate.tables`).
        verdicts: pairwise verdict rows (``a, b, outcome, consistent, len_a, len_b`` …); may be empty.
        out_dir: report directory (created).
        meta: title, warnings, notes, settings.
        n_boot / seed: bootstrap replicates and seed for the win-rate intervals.
        worst_n: rows in the worst-items table.
        scorecard: rows of :func:`slmforge.evaluate.scorecard.scorecard`, shown first.
        extra_sections: more ``{"id", "title", "intro", "rows"}`` tables, shown after the scorecard.
        curves: training curves of the run's trained stages (:func:`slmforge.evaluate.runinfo.training_curves`);
            a section with one figure per stage, shown last; none when empty.

    Returns:
        path of ``report.html``.
    """
    from slmforge.evaluate.plots import make_plots, training_curve_plots

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    win = tables.win_rates(verdicts, n_boot=n_boot, seed=seed) if verdicts else []
    consistency = tables.overall_consistency(verdicts)
    sections: list[dict[str, Any]] = [{"figs": [], **x} for x in extra_sections or []] + [
        {"id": "scores-by-task", "title": "Mean scores per task and candidate", "rows": tables.scores_by_task(rows),
         "figs": ["scores_by_task", "criteria"], "best_group": "task",
         "intro": "judge.* are G-Eval scores (1-5); check.* rule-check scores (0-1); rougeL (0-1), chrF and BLEU (0-100, "
                  "sacrebleu) against the golden text (character-level for CJK); rm = reward-model score."},
        {"id": "best-counts", "title": "Best-candidate counts", "rows": tables.best_counts(rows), "figs": [],
         "intro": "Items on which each candidate has the top primary score (ties share the point)."},
        {"id": "win-rates", "title": "Pairwise win rates", "rows": win, "figs": ["win_rates"],
         "intro": "Each pair judged blind in both orders; disagreeing orders count as a tie. Position consistency "
                  f"over all comparisons: {fmt(consistency)}. LC = length-controlled (Dubois et al. 2024)."},
        {"id": "check-pass-rates", "title": "Check pass rates", "rows": tables.check_pass_rates(rows),
         "figs": ["check_pass_rates"], "best_group": None},
        {"id": "lengths", "title": "Length distributions (characters)", "rows": tables.length_stats(rows),
         "figs": ["lengths", "score_vs_length"]},
        {"id": "diversity", "title": "Diversity (distinct-n)", "rows": tables.diversity(rows), "figs": []},
        {"id": "worst-items", "title": "Worst-scoring items", "rows": tables.worst_items(rows, worst_n), "figs": []},
    ] + ([_curves_section(curves)] if curves else [])
    figs = make_plots(rows, win, out / "plots") | training_curve_plots(curves or [], out / "plots")
    captions = CAPTIONS | {f"curve_{c.stage}": f"{c.stage}: logged loss / reward / accuracy against the optimizer step."
                           for c in curves or []}
    card = scorecard or []
    card_rows = [{"candidate": r["candidate"], "against": r["against"], "metric": r["metric"],
                  "against_mean": r["against_mean"], "mean": r["mean"], "delta": r["delta"],
                  "95% CI": f"{r['ci_low']:+.3f} to {r['ci_high']:+.3f}", "n": r["n"]} for r in card]
    md = [f"# {meta.title}\n", f"{meta.subtitle}\n", "\n## Scorecard\n\n"]
    md += [f"- {r['sentence']}\n" for r in card] + ["\n", _md_table(card_rows)]
    costs = _cost_lines(card)
    md += ["\n**Cost per quality point**\n\n", *[f"- {c}\n" for c in costs]] if costs else []
    md += [f"> **warning:** {w}\n" for w in meta.warnings]
    md += [f"> {n}\n" for n in meta.notes]
    for s in sections:
        if s["rows"]:
            write_csv(out / f"{s['id'].replace('-', '_')}.csv", s["rows"])
        md += [f"\n## {s['title']}\n", (s["intro"] + "\n\n") if s.get("intro") else "", _md_table(s["rows"])]
        md += [f"\n![{f}](plots/{figs[f].name})\n" for f in s["figs"] if f in figs]
        s["columns"] = list(dict.fromkeys(k for r in s["rows"] for k in r))
        s["best"] = _best_cells(s["rows"], s["best_group"]) if "best_group" in s and s["rows"] else None
        s["figures"] = [{"name": f, "caption": captions[f], "b64": base64.b64encode(figs[f].read_bytes()).decode()}
                        for f in s["figs"] if f in figs]
    if rows:
        write_csv(out / "scores.csv", rows)
    if verdicts:
        write_csv(out / "pairwise.csv", verdicts)
    (out / "report.md").write_text("".join(md), encoding="utf-8")
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
                             autoescape=jinja2.select_autoescape(["html", "j2"]))
    html = env.get_template("report.html.j2").render(
        meta=asdict(meta) | {"settings": json.dumps(meta.settings, indent=2, ensure_ascii=False, default=str)},
        sections=sections, fmt=fmt, text_columns=TEXT_COLUMNS | {"against", "metric", "95% CI"},
        scorecard={"rows": card_rows, "sentences": [r["sentence"] for r in card], "costs": costs,
                   "columns": list(card_rows[0]) if card_rows else []})
    path = out / "report.html"
    path.write_text(html, encoding="utf-8")
    return path


def read_scores_csv(path: str | Path) -> list[dict[str, Any]]:
    """Read per-item scores produced elsewhere (or an earlier ``scores.csv``) into score rows.

    The CSV needs ``task`` and ``candidate`` columns; ``item_id``, ``text``, ``length_chars`` and
    ``subject_id`` are optional; every other column is a numeric score. Columns without a known
    prefix (``judge.``, ``check.``, ``pass.``, ``rougeL``, ``chrF``, ``rm``) are taken as judge
    criteria and renamed ``judge.<name>``.

    Raises:
        DataError: missing file or required column, or a non-numeric score (names file, line, column).
    """
    path = Path(path)
    try:
        f = path.open(encoding="utf-8-sig", newline="")
    except OSError as e:
        raise DataError(f"cannot open: {e.strerror}", file=path, fix="check the path") from e
    with f:
        reader = csv.DictReader(f)
        header = reader.fieldnames or []
        for need in ("task", "candidate"):
            if need not in header:
                raise DataError(f"column {need!r} missing (header: {header})", file=path, line=1, field=need,
                                fix="add the column: one row per (item, candidate) with task, candidate and scores")
        known = ("judge.", "check.", "pass.")
        rename = {c: c if c in tables.META or c.startswith(known) or c in ("rougeL", "chrF", "rm") else f"judge.{c}"
                  for c in header}
        rows = []
        for line, raw in enumerate(reader, 2):
            row: dict[str, Any] = {"item_id": raw.get("item_id") or f"row{line}"}
            for c, v in raw.items():
                key = rename[c]
                if key in tables.META:
                    row[key] = v
                elif v not in (None, ""):
                    try:
                        row[key] = float(v)
                    except ValueError as e:
                        raise DataError(f"score {v!r} is not a number", file=path, line=line, field=c,
                                        fix="write a number or leave the cell empty") from e
            if not row.get("length_chars") and row.get("text"):
                row["length_chars"] = char_length(row["text"])
            rows.append(row)
    if not rows:
        raise DataError("no score rows", file=path, fix="add one row per (item, candidate)")
    crits = [c for c in tables.metric_columns(rows) if c.startswith("judge.") and c != tables.OVERALL]
    for r in rows:
        if tables.OVERALL not in r and crits:
            vals = [r[c] for c in crits if c in r]
            r[tables.OVERALL] = sum(vals) / len(vals) if vals else None
    return rows
