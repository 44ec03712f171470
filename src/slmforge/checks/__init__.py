"""The kit's rules as plain functions over texts: lexicon, style, constraints (+ extraction from an
instruction's text), CTA, facts (record- and reference-grounded) and similarity.

The same functions serve as cleaning filters (``report.passed``), GRPO rewards
(:func:`reward_functions`), evaluation metrics (``report.score``) and serving guards (findings with
offsets into the text). Command line: ``slmforge check FILE --kit DIR``.
"""

from slmforge.checks.constraints import check_constraints, check_cta, find_cta, merge_constraints
from slmforge.checks.extract import extract_constraints
from slmforge.checks.facts import check_facts, reference_fact_edits
from slmforge.checks.lexicon import check_lexicon
from slmforge.checks.rewards import reward_functions
from slmforge.checks.run import CHECK_NAMES, effective_constraints, run_checks
from slmforge.checks.similarity import NearDuplicateIndex, distinct_n
from slmforge.checks.style import check_style
from slmforge.checks.types import CheckReport, CheckResult, FactDiff, FactEdit, Finding
from slmforge.checks.vocab import Vocabulary, build_vocabulary

__all__ = [
    "CHECK_NAMES", "CheckReport", "CheckResult", "FactDiff", "FactEdit", "Finding", "NearDuplicateIndex",
    "Vocabulary", "build_vocabulary", "check_constraints", "check_cta", "check_facts", "check_lexicon",
    "check_style", "distinct_n", "effective_constraints", "extract_constraints", "find_cta",
    "merge_constraints", "reference_fact_edits", "reward_functions", "run_checks",
]
