"""Seed 004's hosted loop for the ja-legal kit, one command: two fine-tuning jobs and three evaluations' worth of
comparison on any provider that speaks OpenAI's files + fine_tuning.jobs API.

    export OPENAI_API_KEY=...
    python examples/ja-legal/hosted_loop.py --out runs/legal-hosted              # asks before each job's cost
    python examples/ja-legal/hosted_loop.py --out runs/legal-hosted --dry-run    # records, split, estimate only

Steps (functions of slmforge.train.hosted_loop): the kit's golden Q&A pairs as system + user + assistant records →
split by topic (80/20) → estimate → upload → job 1 → monitor → evaluate ft against base and the hybrid prompting
baselines (system + few-shot + plan-then-write) → the weakest task → add that task's pairs from extra.jsonl →
job 2 → evaluate → OUT/before_after.md. A job already finished in OUT (its config.json says succeeded) is reused,
so a rerun after an interruption continues where it stopped; `slmforge train hosted --follow JOB -o OUT/jobN`
resumes following a job that is still running. Other endpoints: --base-url (and --api-key-env).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

KIT = Path(__file__).resolve().parent


def _job(cfg, *, yes: bool):
    """Run one job, or reuse it when ``cfg.output_dir`` already holds a succeeded one."""
    from slmforge.train.hosted_loop import HostedJob, run_job

    done = Path(cfg.output_dir) / "config.json"
    if done.is_file() and json.loads(done.read_text(encoding="utf-8")).get("status") == "succeeded":
        c = json.loads(done.read_text(encoding="utf-8"))
        print(f"{cfg.output_dir}: job {c['job_id']} already succeeded: {c['fine_tuned_model']}")
        return HostedJob(c["job_id"], c["fine_tuned_model"], c["status"], None, [], Path(cfg.output_dir))

    def confirm(est) -> bool:
        print(f"{cfg.output_dir}: {est.examples} examples, {est.billed_tokens} billed tokens over {est.epochs} "
              f"epochs, estimated cost ${est.cost_usd:.2f}")
        return yes or input("start the job? [y/N] ").strip().lower() == "y"

    job = run_job(cfg, confirm=confirm, on_event=lambda e: print(f"  {e.message}"))
    if job is None:
        sys.exit("stopped before upload")
    print(f"{cfg.output_dir}: {job.status}: {job.model}")
    return job


def _evaluate(lk, cfg, ft_model: str, heldout: str, out: Path, *, judge: str | None):
    from slmforge.evaluate import evaluate, read_scores_csv
    from slmforge.llm.client import LLMClient
    from slmforge.train.hosted_loop import hosted_model, loop_eval_config

    models = {"base": hosted_model(cfg, cfg.model), "ft": hosted_model(cfg, ft_model)}
    if judge:
        models["judge"] = hosted_model(cfg, judge, temperature=0.0)
    client = LLMClient(models, ledger=out.parent / "ledger.sqlite", run_id=f"legal:{out.name}")
    try:
        evaluate(lk, loop_eval_config(heldout=heldout, judge=bool(judge)), client, out)
    finally:
        client.close()
    print(f"{out}/report.html")
    return read_scores_csv(out / "scores.csv")


def main(argv: list[str] | None = None) -> Path:
    """Run the loop; returns ``OUT/before_after.md`` (or OUT after ``--dry-run``)."""
    from slmforge.data.io import write_jsonl
    from slmforge.data.split import split_file
    from slmforge.kit import load_kit
    from slmforge.kit.load import load_golden
    from slmforge.train.hosted import HostedConfig, prepare
    from slmforge.train.hosted_loop import before_after, extend_records, kit_records, markdown_table, weakest_task

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=Path("runs/legal-hosted"), help="run directory")
    ap.add_argument("--provider", default="openai", choices=["openai", "together", "fireworks"])
    ap.add_argument("--model", default="gpt-4.1-mini-2025-04-14", help="the provider's base model id")
    ap.add_argument("--judge-model", default="gpt-4o-mini", help="judge model at the same provider; '' for none")
    ap.add_argument("--base-url", default=None, help="another OpenAI-compatible endpoint (ends with /v1)")
    ap.add_argument("--api-key-env", default=None, help="env var of the API key (default: the provider's)")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--poll-s", type=float, default=10.0, help="seconds between job status polls")
    ap.add_argument("--yes", action="store_true", help="start jobs without asking about the cost")
    ap.add_argument("--dry-run", action="store_true", help="records, split and cost estimate only")
    args = ap.parse_args(argv)

    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    lk = load_kit(KIT)
    write_jsonl(out / "sft.jsonl", kit_records(lk))
    split = split_file(out / "sft.jsonl", by="subject", eval_fraction=0.2, seed=0, out_dir=out)
    print(f"split: {split.train_rows} train / {split.test_rows} held-out rows; "
          f"held-out per task {dict(split.test_tasks)}")
    cfg1 = HostedConfig(provider=args.provider, model=args.model, train=split.train_path, validation=split.test_path,
                        epochs=args.epochs, suffix="legal-v1", seed=0, base_url=args.base_url,
                        api_key_env=args.api_key_env, output_dir=str(out / "job1"), poll_s=args.poll_s)
    if args.dry_run:
        _, est = prepare(cfg1)
        print(f"estimate: {est.examples} examples, {est.billed_tokens} billed tokens, ${est.cost_usd:.2f}")
        return out
    job1 = _job(cfg1, yes=args.yes)
    rows1 = _evaluate(lk, cfg1, job1.model, split.test_path, out / "eval1", judge=args.judge_model or None)
    task, means = weakest_task(rows1, "ft")
    print("ft check.score per task: " + ", ".join(f"{t} {v:.3f}" for t, v in means.items()) + f"; weakest: {task}")
    extra = kit_records(lk, load_golden(KIT / "extra.jsonl", lk.kit, lk.subjects))
    train2 = extend_records(split.train_path, extra, task, out / "train2.jsonl")
    cfg2 = cfg1.model_copy(update={"train": str(train2), "suffix": "legal-v2", "output_dir": str(out / "job2")})
    job2 = _job(cfg2, yes=args.yes)
    rows2 = _evaluate(lk, cfg2, job2.model, split.test_path, out / "eval2", judge=args.judge_model or None)
    table = markdown_table(before_after(rows1, rows2, candidate="ft"))
    path = out / "before_after.md"
    path.write_text(f"# ja-legal: {job1.model} → {job2.model} (added {task} pairs)\n\n" + table, encoding="utf-8")
    print(table)
    return path


if __name__ == "__main__":
    main()
