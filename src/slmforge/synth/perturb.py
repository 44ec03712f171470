"""Rule-based rejected sides for runs without a teacher (the offline demo): no LLM call is made.

* :func:`exaggerate` turns a chosen text into a brand-violating one the way seed 003's "villain"
  prompt did, but deterministically: hype opener with the kit's avoid-terms, exclamation runs,
  fake scarcity and a miracle claim.
* :func:`fake` changes one or two facts of the chosen text so that it contradicts the subject record
  while staying almost identical: a stated number attached to the record (``10%`` → ``15%``), or an
  ingredient of the record swapped for a glossary ingredient the product does not contain.

Both are verified by the same checks as the LLM strategies (:func:`slmforge.synth.prefs._verify` —
exaggerated must fail lexicon/style; fake must show 1..N fact edits and stay similar), so a
perturbation that does not produce a real negative is reported, not kept.
"""

from __future__ import annotations

import random
import re
import time
from collections import Counter
from pathlib import Path

from slmforge.data.io import read_records, write_jsonl
from slmforge.data.records import PreferencePair, Provenance, SFTExample
from slmforge.kit import LoadedKit
from slmforge.kit.schema import Kit
from slmforge.runs import Manifest, file_hash, write_stage
from slmforge.synth.config import PrefsConfig
from slmforge.synth.prefs import FAILURES_FILE, PAIRS_FILE, REPORT_FILE, Job, allocate, _verify
from slmforge.synth.report import write_report

_HYPE = {
    "zh": ("{a}！这个真的是{b}！！！", "最后100份，手慢无！！！一夜见效，100%有效！！！"),
    "ja": ("{a}！これは{b}！！！", "残りわずか！！！一晩で効果、100%保証！！！"),
    "ko": ("{a}! 이건 진짜 {b}!!!", "마지막 100개!!! 하룻밤에 효과, 100% 보장!!!"),
    "en": ("{a}! This is a total {b}!!!", "LAST 100 LEFT!!! Works overnight, 100% GUARANTEED!!!"),
}
_NUMBER = re.compile(r"(\d+(?:\.\d+)?)\s*(%|％|mg|毫克|ml|毫升)")


def exaggerate(text: str, kit: Kit, rng: random.Random) -> str:
    """A hype version of ``text``: avoid-terms, exclamation runs, fake scarcity (deterministic given ``rng``).

    Args:
        text: the chosen text.
        kit: gives the language and the avoid-terms.
        rng: seeded RNG choosing which avoid-terms to use.

    Returns:
        the exaggerated text (longer than ``text``; characters).
    """
    lang = kit.language.split("-")[0]
    opener, closer = _HYPE.get(lang, _HYPE["en"])
    avoid = list(kit.lexicon.avoid) or ["miracle", "insane"]
    a, b = rng.sample(avoid, 2) if len(avoid) >= 2 else (avoid[0], avoid[0])
    body = text.replace("。", "！").replace(". ", "! ")
    return f"{opener.format(a=a, b=b)}\n{body}\n{closer}"


def _record_numbers(subject: dict) -> list[str]:
    values = " ".join(" ".join(v) if isinstance(v, list) else str(v) for v in subject.values() if v is not None)
    return [m.group(1) for m in _NUMBER.finditer(values)]


def fake(text: str, subject: dict, kit: Kit, rng: random.Random, n_edits: int = 1) -> str | None:
    """Change ``n_edits`` facts of ``text`` against ``subject``; None when the text has no fact to change.

    Method: first a number the record states (the concentration next to an ingredient) is scaled
    (×1.5, rounded; e.g. 10% → 15%); then an ingredient of the record named in the text is replaced by
    a glossary ingredient absent from the record. Mirrors seed 003's fake strategy (1–2 false facts).
    """
    out, edits = text, 0
    numbers = [n for n in _record_numbers(subject) if n in out]
    rng.shuffle(numbers)
    for n in numbers[:n_edits]:
        new = f"{float(n) * 1.5:g}" if float(n) * 1.5 != float(n) else f"{float(n) + 1:g}"
        m = re.search(rf"(?<![\d.]){re.escape(n)}(?=\s*(%|％|mg|毫克|ml|毫升))", out)
        if m:
            out = out[: m.start()] + new + out[m.end():]
            edits += 1
    if edits < n_edits:
        own = [str(v) for vals in subject.values() if isinstance(vals, list) for v in vals]
        own_names = [re.sub(_NUMBER, "", o).strip() for o in own]
        glossary = set(kit.glossary.ingredients)
        present = [o for o in own_names if o in glossary and o in out]
        foreign = [g for g in kit.glossary.ingredients if g not in " ".join(own)]
        if present and foreign:
            out = out.replace(rng.choice(present), rng.choice(foreign), 1)
            edits += 1
    return out if edits else None


def build_offline_prefs(lk: LoadedKit, cfg: PrefsConfig, client, in_path: str | Path, out_dir: str | Path) -> Path:
    """Preference pairs without a teacher: weak from the ``weak`` role (a local model), exaggerated and fake by rule.

    Same inputs, outputs and exact strategy counts as :func:`slmforge.synth.prefs.build_prefs`; the
    provenance producer of the rule-based sides is ``rule:exaggerated`` / ``rule:fake``.

    Args:
        lk: the loaded kit.
        cfg: prefs settings (mix, seed, fake_max_edits, fake_similarity).
        client: an LLMClient with ``cfg.weak_role``, or None when the mix has no weak share.
        in_path: cleaned SFT JSONL.
        out_dir: stage directory (``prefs.jsonl``, ``failures.jsonl``, ``report.json``, manifest).

    Returns:
        path of ``prefs.jsonl``.
    """
    started = time.time()
    in_path, out_dir = Path(in_path), Path(out_dir)
    recs = read_records(in_path, SFTExample)[: cfg.limit]
    mix = {s: w for s, w in cfg.mix.items() if w > 0}
    labels = allocate(len(recs), mix, cfg.seed)
    jobs = [Job(rec=r, strategy=s, n_edits=1 + random.Random(f"{cfg.seed}:{r.id}").randrange(cfg.fake_max_edits))
            for r, s in zip(recs, labels, strict=True)]
    texts = _weak_texts(jobs, cfg, client) | _rule_texts(lk, cfg, jobs)
    pairs, failures = _assemble(lk, cfg, jobs, texts, in_path)
    write_jsonl(out_dir / PAIRS_FILE, pairs)
    write_jsonl(out_dir / FAILURES_FILE, failures)
    realised = Counter(p.strategy for p in pairs)
    report = {"stage": "prefs", "mode": "offline (rule-based exaggerated/fake)", "input": len(recs),
              "pairs": len(pairs), "failed": len(failures), "allocated": dict(Counter(labels)),
              "realised": dict(realised), "failure_reasons": dict(Counter(r for f in failures for r in f["reasons"])),
              "cost_usd": 0.0, "time_s": round(time.time() - started, 3)}
    write_report(out_dir / REPORT_FILE, report)
    manifest = Manifest(stage="prefs", inputs={"kit": lk.hash, "sft": file_hash(in_path)}, started=started,
                        counts={"input": len(recs), "pairs": len(pairs), "failed": len(failures)}
                        | {f"pairs_{s}": n for s, n in realised.items()},
                        notes=["no teacher: exaggerated and fake rejected sides are rule-based perturbations"])
    write_stage(out_dir, manifest, cfg, outputs=[PAIRS_FILE, FAILURES_FILE, REPORT_FILE])
    return out_dir / PAIRS_FILE


def _weak_texts(jobs: list[Job], cfg: PrefsConfig, client) -> dict[int, tuple[str, str]]:
    """Job index → ``(text, model)`` of the weak sides: the weak role answers each record's instruction alone
    (no system prompt, no examples); a failed or empty answer is noted on its job."""
    weak = [i for i, j in enumerate(jobs) if j.strategy == "weak"]
    if not weak:
        return {}
    prompts = [[{"role": "user", "content": jobs[i].rec.instruction}] for i in weak]
    results = client.chat_many(cfg.weak_role, prompts, stage="prefs.weak", temperature=cfg.temperature,
                               max_tokens=cfg.max_tokens, seed=cfg.seed)
    texts = {}
    for i, r in zip(weak, results, strict=True):
        jobs[i].attempts += 1
        if r.ok and (r.text or "").strip():
            texts[i] = (r.text.strip(), r.model)
        else:
            jobs[i].reasons.append(f"call failed: {r.error}" if not r.ok else "empty text")
    return texts


def _rule_texts(lk: LoadedKit, cfg: PrefsConfig, jobs: list[Job]) -> dict[int, tuple[str, str]]:
    """Job index → ``(text, "rule:STRATEGY")`` of the exaggerated and fake sides, perturbed from the chosen text
    with a per-record seed; a record with no fact to perturb is noted on its job."""
    texts = {}
    for i, job in enumerate(jobs):
        if job.strategy == "weak":
            continue
        rng = random.Random(f"{cfg.seed}:{job.rec.id}:{job.strategy}")
        job.attempts += 1
        subject = lk.subjects.get(job.rec.subject_id, {})
        text = (exaggerate(job.rec.completion, lk.kit, rng) if job.strategy == "exaggerated"
                else fake(job.rec.completion, subject, lk.kit, rng, job.n_edits))
        if text is None:
            job.reasons.append("no fact of the record found in the chosen text to perturb")
        else:
            texts[i] = (text, f"rule:{job.strategy}")
    return texts


def _assemble(lk: LoadedKit, cfg: PrefsConfig, jobs: list[Job], texts: dict[int, tuple[str, str]],
              in_path: Path) -> tuple[list[PreferencePair], list[dict]]:
    """Verified pairs (:func:`_verify`: the rejected side must fail the check its strategy targets) and the
    failures, each with its attempts and reasons."""
    pairs, failures = [], []
    for i, job in enumerate(jobs):
        rec = job.rec
        reason, findings = (_verify(lk, cfg, job, texts[i][0]) if i in texts else (None, []))
        if i not in texts or reason:
            failures.append({"id": rec.id, "task": rec.task, "subject_id": rec.subject_id, "strategy": job.strategy,
                             "attempts": job.attempts, "reasons": job.reasons + ([reason] if reason else [])})
            continue
        prov = Provenance(producer=texts[i][1] if job.strategy != "weak" else "weak", model=texts[i][1],
                          strategy=job.strategy, kit_hash=lk.hash, source=f"{in_path.name}#{rec.id}")
        pairs.append(PreferencePair(id=rec.id, task=rec.task, subject_id=rec.subject_id, prompt=rec.prompt,
                                    chosen=rec.completion, rejected=texts[i][0], strategy=job.strategy,
                                    findings=findings, provenance=prov))
    return pairs, failures
