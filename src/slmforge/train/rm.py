"""Reward model: a one-label sequence classifier trained on preference pairs (TRL ``RewardTrainer``,
Bradley–Terry loss −log σ(r_chosen − r_rejected), Ouyang et al. 2022), plus a scoring helper.

Run it::

    slmforge train rm --config src/slmforge/train/configs/rm.yaml

With LoRA the adapter (and the classification head PEFT keeps trainable) is merged at the end, so
``OUT/model`` is a standalone ``AutoModelForSequenceClassification`` that :func:`score_texts` loads.
Held-out pairwise accuracy is reported overall and per rejection strategy (weak / exaggerated / fake).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from functools import lru_cache
from pathlib import Path

from slmforge.train.config import TrainConfig
from slmforge.train.data import load_splits, read_preference_rows
from slmforge.train.models import load_base, lora_config
from slmforge.train.runner import MetricsCallback, check_kept, finish, fit, quiet_progress, start_run, trl_args

log = logging.getLogger(__name__)
RM_DEFAULTS = {"learning_rate": 1e-4, "num_train_epochs": 1, "max_length": 1024,
               "per_device_train_batch_size": 8, "per_device_eval_batch_size": 8}
COLUMNS = ["prompt", "chosen", "rejected"]


def train_rm(cfg: TrainConfig, *, resume: bool = False) -> Path:
    """Train a reward model and report held-out pairwise accuracy, overall and per strategy.

    Args:
        cfg: config with ``method == "rm"``; ``cfg.trl`` goes into ``trl.RewardConfig``.
        resume: continue from the last checkpoint.

    Returns:
        the run dir; ``OUT/model`` is the scorer; manifest metrics ``pairwise_accuracy`` and
        ``pairwise_accuracy/<strategy>``.

    Raises:
        ConfigError / DataError: bad config or records; every training (or held-out) pair longer than
            ``trl.max_length`` (TRL drops such pairs).
        KeyboardInterrupt: Ctrl-C, after saving a checkpoint.
    """
    from datasets import Dataset
    from trl import RewardTrainer

    out, manifest = start_run(cfg, resume=resume)
    base = load_base(cfg.model, kind="seqcls", seed=int(cfg.trl.get("seed", 0)))
    manifest.notes += base.notes
    train_rows, eval_rows = load_splits(cfg.data, read_preference_rows)
    args = trl_args(cfg, out, has_eval=bool(eval_rows), defaults=RM_DEFAULTS)
    to_ds = lambda rows: Dataset.from_list([{c: r[c] for c in COLUMNS} for r in rows])  # noqa: E731
    trainer = RewardTrainer(model=base.model, args=args, train_dataset=to_ds(train_rows),
                            eval_dataset=to_ds(eval_rows) if eval_rows else None, processing_class=base.tokenizer,
                            peft_config=lora_config(cfg.lora, task_type="SEQ_CLS"), callbacks=[MetricsCallback(out)])
    quiet_progress(trainer, "rm")
    too_long = "are longer than trl.max_length (chosen or rejected side, prompt included)"
    check_kept(manifest, trainer.train_dataset, len(train_rows), split="training", too_long=too_long,
               max_length=args.max_length)
    check_kept(manifest, trainer.eval_dataset, len(eval_rows), split="held-out", too_long=too_long,
               max_length=args.max_length)
    fit(trainer, out, resume=resume)
    model = trainer.model.merge_and_unload() if cfg.lora.enabled else trainer.model
    model.save_pretrained(out / "model")
    _load.cache_clear()
    base.tokenizer.save_pretrained(out / "model")
    if eval_rows:
        manifest.metrics |= pairwise_accuracy(out / "model", eval_rows, max_length=args.max_length)
    manifest.counts.update(train_pairs=len(train_rows), eval_pairs=len(eval_rows), steps=trainer.state.global_step)
    manifest.notes.append(f"base model: {base.name}")
    return finish(cfg, out, manifest, outputs=["model"], plot_keys=["loss", "eval_loss", "eval_accuracy"])


def score_texts(rm_dir: str | Path, prompts: list[str | list[dict]], texts: list[str], *,
                batch_size: int = 8, max_length: int = 1024, dtype: str = "auto") -> list[float]:
    """Score answers with a trained reward model (higher = preferred).

    Args:
        rm_dir: ``OUT/model`` of :func:`train_rm` (or the run dir ``OUT``).
        prompts: per text, the user prompt (string) or the prompt messages.
        texts: the answers to score, same length as ``prompts``.
        batch_size: texts per forward pass.
        max_length: truncation length in tokens.
        dtype: weights dtype name (:data:`slmforge.models.load.DTYPES`); ``fast`` scores in bf16 on a CPU
            with AMX / AVX512-BF16 (scores then differ from float32 ones in their low digits).

    Returns:
        one unbounded real score (logit) per text.
    """
    import torch

    tok, model = _load(str(rm_dir), dtype)
    chats = [(p if isinstance(p, list) else [{"role": "user", "content": p}]) + [{"role": "assistant", "content": t}]
             for p, t in zip(prompts, texts, strict=True)]
    strings = [tok.apply_chat_template(c, tokenize=False) for c in chats]
    order = sorted(range(len(strings)), key=lambda i: len(strings[i]))  # similar lengths per batch: less padding
    scores = [0.0] * len(strings)
    with torch.no_grad():
        for i in range(0, len(order), batch_size):
            idx = order[i:i + batch_size]
            batch = tok([strings[j] for j in idx], return_tensors="pt", padding=True, truncation=True,
                        max_length=max_length, add_special_tokens=False)
            for j, v in zip(idx, model(**batch).logits[:, 0].float().tolist(), strict=True):
                scores[j] = v
    return scores


@lru_cache(maxsize=2)
def _load(rm_dir: str, dtype: str = "auto"):
    from slmforge.models import load_model

    path = Path(rm_dir) / "model" if (Path(rm_dir) / "model").is_dir() else Path(rm_dir)
    loaded = load_model(str(path), kind="seqcls", dtype=dtype)
    return loaded.tokenizer, loaded.model.eval()


def pairwise_accuracy(rm_dir: str | Path, rows: list[dict], *, max_length: int = 1024) -> dict[str, float]:
    """Share of pairs whose chosen text scores above the rejected one, overall and per ``strategy``.

    Args:
        rows: rows of :func:`~slmforge.train.data.read_preference_rows`.

    Returns:
        ``{"pairwise_accuracy": a, "pairwise_accuracy/<strategy>": a_s, "pairs/<strategy>": n_s}``.
    """
    prompts = [r["prompt"] for r in rows]
    chosen = score_texts(rm_dir, prompts, [r["chosen"][0]["content"] for r in rows], max_length=max_length)
    rejected = score_texts(rm_dir, prompts, [r["rejected"][0]["content"] for r in rows], max_length=max_length)
    wins: dict[str, list[bool]] = defaultdict(list)
    for r, c, j in zip(rows, chosen, rejected, strict=True):
        wins[r["strategy"] or "unknown"].append(c > j)
    every = [w for ws in wins.values() for w in ws]
    out = {"pairwise_accuracy": sum(every) / len(every)}
    for strategy, ws in sorted(wins.items()):
        out[f"pairwise_accuracy/{strategy}"] = sum(ws) / len(ws)
        out[f"pairs/{strategy}"] = float(len(ws))
    return out
