"""The stages of ``slmforge run``, each a function ``(ctx, stage_dir, resume) -> Manifest`` (its record).

They only wire the stage packages together (``synth``, ``train``, ``evaluate`` …): paths in, paths
out. Which stages exist and in which order is :data:`slmforge.pipeline.project.STAGES`; what each
reads is :data:`UPSTREAM`.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from slmforge.data.io import read_jsonl, read_records, write_json, write_jsonl
from slmforge.data.records import Message, PreferencePair, Provenance, SFTExample, instruction_of
from slmforge.errors import ConfigError, DataError
from slmforge.kit import LoadedKit, render_student_prompt
from slmforge.llm.config import ModelConfig
from slmforge.pipeline.project import ProjectConfig
from slmforge.pipeline.state import stage_result as result
from slmforge.runs import Manifest, read_manifest

log = logging.getLogger(__name__)

UPSTREAM: dict[str, list[str]] = {
    "model": [], "synth": [], "clean": ["synth"], "split": ["clean"], "prefs": ["clean", "split", "model"],
    "sft": ["model", "split"], "merge": ["sft"], "dpo": ["merge", "prefs"], "rm": ["model", "prefs"],
    "grpo": ["merge", "split", "rm"], "eval": ["model", "split", "merge", "dpo", "rm", "grpo"],
}
"""Stage → the stages whose outputs it reads (a change upstream re-runs it)."""


@dataclass
class Context:
    """Everything the stages share: config, kit, run dir, reachable API roles, the ledger path."""

    cfg: ProjectConfig
    lk: LoadedKit
    run_dir: Path
    roles: dict[str, ModelConfig]
    enabled: set[str]

    def dir(self, stage: str) -> Path:
        """The stage's directory under the run dir."""
        return self.run_dir / stage

    @property
    def ledger(self) -> Path:
        """The run's one SQLite ledger (every model call of every stage)."""
        return self.run_dir / "ledger.sqlite"

    def student(self) -> list[str]:
        """The student base model chain: the tiny model built by the ``model`` stage, or ``student.base``."""
        if self.cfg.student.tiny is not None:
            return [str(self.dir("model") / "model")]
        return list(self.cfg.student.base or [])

    def local(self, model: str, adapter: str | None = None, **kw: Any) -> ModelConfig:
        """A local-backend role for ``model`` (+ LoRA ``adapter``) on the student's device; 32 prompts per
        ``generate`` call (a small model on a CPU is bound by reading its weights, so wide batches are cheap)."""
        return ModelConfig(backend="local", model=model, adapter=adapter, device=self.cfg.student.device,
                           dtype=self.cfg.student.dtype, **({"batch_size": 32} | kw))

    def client(self, roles: dict[str, ModelConfig]):
        """An LLMClient over the run's ledger with ``roles`` (run id = project name).

        Its budget is what is left of the project's ``budget_usd`` (USD) after the spend the ledger already
        holds for this run (earlier stages and earlier invocations), so the budget covers the whole run.
        """
        from slmforge.llm.client import LLMClient
        from slmforge.llm.ledger import Ledger

        ledger = Ledger(self.ledger)
        budget = self.cfg.budget_usd
        if budget is not None:
            spent = sum(row["cost_usd"] or 0.0 for row in ledger.summary(by="run", run_id=self.cfg.name))
            budget = max(0.0, budget - spent)
        return LLMClient(roles, ledger=ledger, run_id=self.cfg.name, budget_usd=budget)


def _spent(client) -> float:
    spent = round(client.spent_usd, 6)
    client.close()
    return spent


# ---- data stages ---------------------------------------------------------------------------------
def stage_model(ctx: Context, d: Path, resume: bool) -> Manifest:
    """Build the tiny student from the kit's own text, or resolve the configured base chain.

    A GGUF source (a ``.gguf`` file, a package that ships one, an Ollama model) is dequantized into the
    model cache here, once, and its provenance (file sha256, license, quantization) recorded.
    """
    if ctx.cfg.student.tiny is None:
        from slmforge.models import model_path

        resolved, notes = [], []
        for spec in ctx.cfg.student.base or []:
            try:
                path, source = model_path(spec)
            except ConfigError as e:
                notes.append(f"student {spec!r} not resolved: {e.message}")
                continue
            prov = Path(path) / "provenance.json"
            resolved.append({"source": spec, "kind": source.kind, "path": path,
                             "provenance": json.loads(prov.read_text(encoding="utf-8")) if prov.is_file() else None})
        write_json(d / "student.json", {"base": ctx.cfg.student.base, "resolved": resolved})
        first = resolved[0] if resolved else None
        lic = (first.get("provenance") or {}).get("license") if first else None
        notes.insert(0, f"student: {ctx.cfg.student.base}" + (f" ({first['kind']}, license {lic})" if first else ""))
        return result(d, ["student.json"], notes=notes)
    from slmforge.train.tiny import build_tiny_model

    t = ctx.cfg.student.tiny
    corpus = [ctx.lk.root / ctx.lk.kit.catalog.path] + ([ctx.lk.root / ctx.lk.kit.golden] if ctx.lk.kit.golden else [])
    if ctx.cfg.import_ and ctx.cfg.import_.sft:
        corpus.append(Path(ctx.cfg.import_.sft))
    build_tiny_model(d / "model", corpus, vocab_size=t.vocab_size, hidden_size=t.hidden_size,
                     num_layers=t.num_layers, seed=t.seed)
    return result(d, ["model"], notes=["student: tiny random-weight model built from the kit's text "
                                         "(shows the machinery, not the quality of a pretrained base)"])


def _match(lk: LoadedKit, prompt: str, path: Path, line: int) -> tuple[str, str]:
    from slmforge.kit.match import task_for_prompt

    task, subject = task_for_prompt(lk, prompt)
    if task is None or subject is None:
        raise DataError("cannot tell the task and subject of this row from its prompt", file=path, line=line,
                        field="messages", fix="use a kit whose student templates render these prompts")
    return task, subject


def _subject_filter(ctx: Context) -> set[str] | None:
    n = ctx.cfg.import_.limit_subjects if ctx.cfg.import_ else None
    return set(list(ctx.lk.subjects)[:n]) if n else None


def import_sft(ctx: Context, path: Path) -> list[SFTExample]:
    """Read an existing SFT file (SFTExample or TRL ``messages`` rows) and tag each row with task + subject."""
    keep, out = _subject_filter(ctx), []
    for line, obj in read_jsonl(path):
        msgs = [Message(role=m["role"], content=m["content"]) for m in obj["messages"]]
        task, subject = (obj["task"], obj["subject_id"]) if obj.get("task") else _match(ctx.lk, instruction_of(msgs), path, line)
        if keep is None or subject in keep:
            out.append(SFTExample(id=f"{task}:{subject}:{line}", task=task, subject_id=subject, messages=msgs,
                                  provenance=Provenance(producer="import", kit_hash=ctx.lk.hash, source=f"{path}:{line}")))
    return out


def golden_sft(ctx: Context) -> list[SFTExample]:
    """SFT records from the kit's golden examples (student prompt rendered from each task's template)."""
    kit = ctx.lk.kit
    return [SFTExample(id=g.id, task=g.task, subject_id=g.subject_id,
                       messages=[Message(role="user", content=render_student_prompt(kit, kit.task(g.task), ctx.lk.subjects[g.subject_id], g.value)),
                                 Message(role="assistant", content=g.text)],
                       provenance=Provenance(producer="golden", kit_hash=ctx.lk.hash, golden_ids=[g.id]))
            for g in ctx.lk.golden]


def stage_synth(ctx: Context, d: Path, resume: bool) -> Manifest:
    """Teacher synthesis; or the imported SFT file; or, with no teacher, the kit's golden examples."""
    if ctx.cfg.import_ and ctx.cfg.import_.sft:
        recs = import_sft(ctx, Path(ctx.cfg.import_.sft))
        write_jsonl(d / "sft.jsonl", recs)
        return result(d, ["sft.jsonl"], counts={"records": len(recs)}, notes=[f"imported {ctx.cfg.import_.sft}"])
    if "teacher" in ctx.roles:
        from slmforge.synth.generate import synthesize

        client = ctx.client({"teacher": ctx.roles["teacher"]})
        path = synthesize(ctx.lk, ctx.cfg.synth, client, d)
        return result(d, [path.name], inner=read_manifest(d), cost_usd=_spent(client))
    recs = golden_sft(ctx)
    write_jsonl(d / "sft.jsonl", recs)
    return result(d, ["sft.jsonl"], counts={"records": len(recs)},
                       notes=["no teacher endpoint: synthesis used the kit's golden examples only"])


def stage_clean(ctx: Context, d: Path, resume: bool) -> Manifest:
    """Rule filters, near-dup removal and (with a teacher) targeted rewrites."""
    from slmforge.synth.clean import clean

    cfg, notes, roles = ctx.cfg.clean, [], {}
    if cfg is None:
        recs = read_records(ctx.dir("synth") / "sft.jsonl", SFTExample)
        write_jsonl(d / "sft.jsonl", recs)
        return result(d, ["sft.jsonl"], counts={"input": len(recs), "output": len(recs)},
                           notes=["clean: off (records kept as they are)"])
    if "teacher" in ctx.roles:
        roles["teacher"] = ctx.roles["teacher"]
    elif cfg.rewrite_passes:
        cfg = cfg.model_copy(update={"rewrite_passes": []})
        notes.append("no teacher endpoint: records failing a rule are removed, not rewritten")
    client = ctx.client(roles)
    path = clean(ctx.lk, cfg, client, ctx.dir("synth") / "sft.jsonl", d)
    return result(d, [path.name], inner=read_manifest(d), cost_usd=_spent(client), notes=notes)


def stage_split(ctx: Context, d: Path, resume: bool) -> Manifest:
    """Split the cleaned records by subject: no subject on both sides."""
    from slmforge.data.split import split_file

    rep = split_file(ctx.dir("clean") / "sft.jsonl", by="subject", eval_fraction=ctx.cfg.split.eval_fraction,
                     seed=ctx.cfg.split.seed, out_dir=d)
    Path(rep.train_path).replace(d / "train.jsonl")
    Path(rep.test_path).replace(d / "test.jsonl")
    return result(d, ["train.jsonl", "test.jsonl"],
                       counts={"train_rows": rep.train_rows, "test_rows": rep.test_rows,
                               "train_subjects": rep.train_subjects, "test_subjects": rep.test_subjects},
                       notes=[f"held-out split: {w}" for w in rep.warnings])


def _test_subjects(ctx: Context) -> set[str]:
    return {r.subject_id for r in read_records(ctx.dir("split") / "test.jsonl", SFTExample)}


def import_prefs(ctx: Context, path: Path) -> list[PreferencePair]:
    """Read an existing preference file (PreferencePair or prompt/chosen/rejected[/method]) with task + subject."""
    keep, out = _subject_filter(ctx), []
    for line, obj in read_jsonl(path):
        prompt = obj["prompt"]
        msgs = [Message(role="user", content=prompt)] if isinstance(prompt, str) else [Message(**m) for m in prompt]
        task, subject = (obj["task"], obj["subject_id"]) if obj.get("task") else _match(ctx.lk, msgs[-1].content, path, line)
        if keep is None or subject in keep:
            strategy = obj.get("strategy") or obj.get("method")
            out.append(PreferencePair(id=f"{task}:{subject}:{line}", task=task, subject_id=subject, prompt=msgs,
                                      chosen=obj["chosen"], rejected=obj["rejected"], strategy=strategy,
                                      provenance=Provenance(producer="import", strategy=strategy, source=f"{path}:{line}")))
    return out


def stage_prefs(ctx: Context, d: Path, resume: bool) -> Manifest:
    """Preference pairs (imported, teacher strategies, or offline rule-based ones), split like the SFT data."""
    notes, cost = [], 0.0
    if ctx.cfg.import_ and ctx.cfg.import_.prefs:
        pairs = import_prefs(ctx, Path(ctx.cfg.import_.prefs))
        notes.append(f"imported {ctx.cfg.import_.prefs}")
    else:
        weak = ctx.roles.get("weak") or ctx.local(ctx.student()[0], max_tokens=ctx.cfg.prefs.max_tokens)
        if "teacher" in ctx.roles:
            from slmforge.synth.prefs import build_prefs as build

            client = ctx.client({"weak": weak, "teacher": ctx.roles["teacher"]})
        else:
            from slmforge.synth.perturb import build_offline_prefs as build

            client = ctx.client({"weak": weak})
            notes.append("no teacher endpoint: exaggerated and fake rejected sides are rule-based perturbations")
        cfg = ctx.cfg.prefs.model_copy(update={"weak_role": "weak", "red_team_role": "teacher"})
        path = build(ctx.lk, cfg, client, ctx.dir("clean") / "sft.jsonl", d / "all")
        cost = _spent(client)
        pairs = read_records(path, PreferencePair)
    test = _test_subjects(ctx)
    train_pairs = [p for p in pairs if p.subject_id not in test]
    test_pairs = [p for p in pairs if p.subject_id in test]
    write_jsonl(d / "train.jsonl", train_pairs)
    write_jsonl(d / "test.jsonl", test_pairs)
    counts = {"pairs": len(pairs), "train_pairs": len(train_pairs), "test_pairs": len(test_pairs)}
    for p in pairs:
        counts[f"strategy_{p.strategy}"] = counts.get(f"strategy_{p.strategy}", 0) + 1
    return result(d, ["train.jsonl", "test.jsonl"], counts=counts, cost_usd=cost, notes=notes)
