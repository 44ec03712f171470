"""Training and evaluation stages of ``slmforge run``: SFT → merge → DPO / reward model → GRPO → eval.

Each builds a :class:`slmforge.train.config.TrainConfig` from the project's section (LoRA, ``trl``
fields) and the paths of the upstream stages, and calls the library function; the run dir of the
method is the stage dir. DPO and GRPO start from the merged SFT model (so their LoRA reference is
the SFT policy); the reward model starts from the student base.
"""

from __future__ import annotations

from pathlib import Path

from slmforge.evaluate.config import CandidateSpec, EvalConfig
from slmforge.llm.config import ModelConfig
from slmforge.pipeline.project import TrainStage
from slmforge.pipeline.stages import Context, _spent
from slmforge.pipeline.state import stage_result as result
from slmforge.runs import Manifest, read_manifest


def _train_config(ctx: Context, method: str, d: Path, base: list[str], train: Path, eval_: Path | None,
                  section: TrainStage, rewards: dict | None = None):
    from slmforge.train.config import TrainConfig, check_trl_keys

    cfg = TrainConfig.model_validate({
        "method": method, "output_dir": str(d), "model": {"base": base, "load_in_4bit": ctx.cfg.student.load_in_4bit,
                  "gradient_checkpointing": ctx.cfg.student.gradient_checkpointing, "dtype": ctx.cfg.student.dtype},
        "data": {"train": str(train), "eval": str(eval_) if eval_ else None, "max_rows": section.max_rows,
                 "max_eval_rows": section.max_eval_rows},
        "lora": section.lora, "rewards": rewards or {}, "trl": section.trl,
    })
    check_trl_keys(cfg)
    return cfg


def _result(d: Path) -> str:
    return "adapter" if (d / "adapter").is_dir() else "model"


def _nonempty(path: Path) -> bool:
    return path.is_file() and path.stat().st_size > 0


def _fit(ctx: Context, method: str, d: Path, resume: bool, base: list[str], split_dir: Path,
         section: TrainStage, train) -> Manifest:
    """Train ``method`` on ``split_dir``'s train side (held-out side when non-empty); report its manifest."""
    test = split_dir / "test.jsonl"
    train(_train_config(ctx, method, d, base, split_dir / "train.jsonl", test if _nonempty(test) else None, section),
          resume=resume)
    return result(d, [_result(d)], inner=read_manifest(d))


def stage_sft(ctx: Context, d: Path, resume: bool) -> Manifest:
    """SFT with LoRA on the split's train side, eval loss on its test side."""
    from slmforge.train.sft import train_sft

    return _fit(ctx, "sft", d, resume, ctx.student(), ctx.dir("split"), ctx.cfg.train.sft, train_sft)


def stage_merge(ctx: Context, d: Path, resume: bool) -> Manifest:
    """Merge the SFT adapter into a standalone model (the start of DPO / GRPO, and a servable model)."""
    from slmforge.train.merge import merge_adapter

    sft = ctx.dir("sft")
    if _result(sft) == "model":  # full fine-tune: nothing to merge
        import shutil

        shutil.copytree(sft / "model", d / "model", dirs_exist_ok=True)
    else:
        merge_adapter(sft / "adapter", d / "model")
    return result(d, ["model"])


def stage_dpo(ctx: Context, d: Path, resume: bool) -> Manifest:
    """DPO with LoRA on top of the merged SFT model (reference = adapter disabled)."""
    from slmforge.train.dpo import train_dpo

    return _fit(ctx, "dpo", d, resume, [str(ctx.dir("merge") / "model")], ctx.dir("prefs"), ctx.cfg.train.dpo,
                train_dpo)


def stage_rm(ctx: Context, d: Path, resume: bool) -> Manifest:
    """Reward model (sequence classifier, one label) on the preference pairs; held-out accuracy per strategy."""
    from slmforge.train.rm import train_rm

    return _fit(ctx, "rm", d, resume, ctx.student(), ctx.dir("prefs"), ctx.cfg.train.rm, train_rm)


def stage_grpo(ctx: Context, d: Path, resume: bool) -> Manifest:
    """GRPO from the merged SFT model with the kit's checks (+ the reward model when trained) as rewards."""
    from slmforge.train.grpo import train_grpo

    section = ctx.cfg.train.grpo
    rewards = {"kit": str(ctx.lk.root)} | section.rewards
    if "rm" in ctx.enabled and "reward_model" not in section.rewards:
        rewards["reward_model"] = str(ctx.dir("rm"))
    cfg = _train_config(ctx, "grpo", d, [str(ctx.dir("merge") / "model")], ctx.dir("split") / "train.jsonl",
                        None, section, rewards)
    train_grpo(cfg, resume=resume)
    return result(d, [_result(d)], inner=read_manifest(d))


def _adapter_role(ctx: Context, stage: str):
    d = ctx.dir(stage)
    merged = str(ctx.dir("merge") / "model")
    if _result(d) == "adapter":
        return ctx.local(merged, adapter=str(d / "adapter"))
    return ctx.local(str(d / "model"))


def eval_setup(ctx: Context) -> tuple[EvalConfig, dict[str, ModelConfig], list[str]]:
    """What the eval stage evaluates: base / SFT / DPO / GRPO (those ``ctx.enabled`` has), the prompting
    baseline and golden on the held-out split, with the judge when ``ctx.roles`` has one.

    Shared by :func:`stage_eval` and ``slmforge eval --run RUN_DIR``, so both evaluate the same candidates.

    Returns:
        ``(eval config, client roles, notes)``; roles are local models under ``ctx.run_dir`` (and the judge).
    """
    e = ctx.cfg.eval
    roles = {"base": ctx.local(ctx.student()[0])}
    candidates = [CandidateSpec(name="base")]
    if "merge" in ctx.enabled:
        roles["sft"] = ctx.local(str(ctx.dir("merge") / "model"))
        candidates.append(CandidateSpec(name="sft"))
    for stage in ("dpo", "grpo"):
        if stage in ctx.enabled:
            roles[stage] = _adapter_role(ctx, stage)
            candidates.append(CandidateSpec(name=stage))
    candidates += [CandidateSpec(name="prompting", kind="prompting", role="base", few_shot=e.few_shot),
                   CandidateSpec(name="golden", kind="golden")]
    notes = []
    judge = None
    if "judge" in ctx.roles:
        roles["judge"] = ctx.roles["judge"]
        teacher = ctx.roles.get("teacher")
        judge = e.judge.model_copy(update={"role": "judge", "teacher_model": teacher.model if teacher else None})
    else:
        notes.append("no judge endpoint: evaluation uses the rule metrics and the reward model only")
    cfg = EvalConfig(candidates=candidates, heldout=str(ctx.dir("split") / "test.jsonl"), max_items=e.max_items,
                     sampling=e.sampling, judge=judge, n_boot=e.n_boot,
                     rm_dir=str(ctx.dir("rm")) if "rm" in ctx.enabled else None, rm_dtype=ctx.cfg.student.dtype)
    return cfg, roles, notes


def stage_eval(ctx: Context, d: Path, resume: bool) -> Manifest:
    """Evaluate base / SFT / DPO / GRPO / prompting baseline / golden on the held-out subjects; write the report."""
    from slmforge.evaluate.run import evaluate

    cfg, roles, notes = eval_setup(ctx)
    client = ctx.client(roles)
    evaluate(ctx.lk, cfg, client, d, run_dir=ctx.run_dir)
    return result(d, ["report.html", "report.md"], inner=read_manifest(d), notes=notes, cost_usd=_spent(client))
