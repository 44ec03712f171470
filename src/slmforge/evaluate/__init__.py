"""Evaluation: candidates (models, golden, prompting baseline) on held-out prompts, rule metrics
(checks, length, distinct-n, CJK ROUGE-L / chrF), reward-model scores, G-Eval pointwise and
position-swapped pairwise LLM judges, and the report (HTML / Markdown / CSV / plots).

    slmforge eval --kit DIR --config eval.yaml --models models.yaml --out runs/eval
    slmforge report --from-scores scores.csv --out runs/report
"""

from slmforge.evaluate.config import CandidateSpec, EvalConfig, JudgeConfig, Sampling, load_eval_config
from slmforge.evaluate.metrics import chrf, distinct_n, rouge_l, tokenize
from slmforge.evaluate.report import ReportMeta, read_scores_csv, write_report
from slmforge.evaluate.run import evaluate

__all__ = [
    "CandidateSpec", "EvalConfig", "JudgeConfig", "ReportMeta", "Sampling", "chrf", "distinct_n", "evaluate",
    "load_eval_config", "read_scores_csv", "rouge_l", "tokenize", "write_report",
]
