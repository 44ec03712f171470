"""The kit's rules as plain functions over texts, in one registry (:data:`CHECKS`): lexicon, style,
constraints (+ extraction from an instruction's text), CTA, facts (record- and reference-grounded),
generation artefacts (structure labels, stray markup, language), degenerate text, subject coverage,
informative content and similarity.

The same functions serve as cleaning filters (``report.passed`` through the registry's rules), GRPO
rewards (:func:`reward_functions`), evaluation metrics (``report.score``) and serving guards (findings
with offsets into the text). Command line: ``slmforge check FILE --kit DIR``.
"""

from slmforge.checks.artifacts import check_language, check_markup, check_structure
from slmforge.checks.constraints import check_constraints, check_cta, find_cta, merge_constraints
from slmforge.checks.content import check_coverage, check_informative
from slmforge.checks.degenerate import check_degenerate
from slmforge.checks.extract import extract_constraints
from slmforge.checks.fact_edits import reference_fact_edits
from slmforge.checks.facts import check_facts
from slmforge.checks.lexicon import check_lexicon
from slmforge.checks.registry import CHECKS, CheckContext, CheckSpec, Rule
from slmforge.checks.rewards import reward_functions
from slmforge.checks.run import CHECK_NAMES, effective_constraints, run_checks
from slmforge.checks.similarity import NearDuplicateIndex, distinct_n
from slmforge.checks.style import check_style
from slmforge.checks.types import CheckReport, CheckResult, FactDiff, FactEdit, Finding
from slmforge.checks.vocab import Vocabulary, build_vocabulary, kit_vocabulary

__all__ = [
    "CHECKS", "CHECK_NAMES", "CheckContext", "CheckReport", "CheckResult", "CheckSpec", "FactDiff", "FactEdit",
    "Finding", "NearDuplicateIndex", "Rule", "Vocabulary", "build_vocabulary", "check_constraints",
    "check_coverage", "check_cta", "check_degenerate", "check_facts", "check_informative", "check_language",
    "check_lexicon", "check_markup", "check_structure", "check_style", "distinct_n", "effective_constraints",
    "extract_constraints", "find_cta", "kit_vocabulary", "merge_constraints", "reference_fact_edits",
    "reward_functions", "run_checks",
]
