"""Records, formats and data files: validation, stats, cost estimates, splits and conversions."""
