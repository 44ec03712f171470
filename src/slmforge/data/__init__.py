"""Records, formats and data files: validation, stats, cost estimates, splits and conversions.

Library entry points (the ``slmforge data`` commands only call these):
:func:`detect_format`, :func:`validate_file`, :func:`stats_file`, :func:`estimate_file`,
:func:`split_file`, :func:`convert_file`.
"""

from slmforge.data.convert import ConvertReport, convert_file
from slmforge.data.estimate import Estimate, estimate_file
from slmforge.data.formats import FORMATS, Row, detect_format, parse_row, read_parsed
from slmforge.data.split import SplitReport, split_file
from slmforge.data.stats import Stats, stats_file
from slmforge.data.validate import Problem, ValidationReport, validate_file

__all__ = [
    "FORMATS", "ConvertReport", "Estimate", "Problem", "Row", "SplitReport", "Stats", "ValidationReport",
    "convert_file", "detect_format", "estimate_file", "parse_row", "read_parsed", "split_file", "stats_file",
    "validate_file",
]
