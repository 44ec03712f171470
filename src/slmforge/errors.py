"""The one exception hierarchy of slmforge.

::

    SlmforgeError                 base of everything we raise on purpose
    ├── UserError                 bad input a user can fix: the CLI prints it and exits 2
    │   ├── KitError              kit.yaml / catalog / golden problems
    │   ├── DataError             a data file that cannot be read or has the wrong shape
    │   └── ConfigError           a project / training config that cannot work
    ├── BudgetExceeded            a stage would spend more than ``--budget`` USD
    └── LLMError                  a model call failed after all retries and fallbacks

A ``UserError`` carries where the problem is (file, line, key path) and the fix, so that
``str(err)`` is one line a person can act on, e.g.::

    kit.yaml: tasks[2].constraints.max_chars: must be >= min_chars (got 50 < 80); fix: raise max_chars
"""

from __future__ import annotations

from pathlib import Path


class SlmforgeError(Exception):
    """Base class of the errors slmforge raises on purpose."""


class UserError(SlmforgeError):
    """An input problem the user can fix; the CLI shows it as one line and exits with code 2.

    Args:
        message: what is wrong.
        file: the file the problem is in, if any.
        line: 1-based line number in ``file``, if known.
        field: key path inside the record or YAML document (``tasks[2].constraints.max_chars``).
        fix: what to do about it.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        line: int | None = None,
        field: str | None = None,
        fix: str | None = None,
    ) -> None:
        self.message = message
        self.file = str(file) if file is not None else None
        self.line = line
        self.field = field
        self.fix = fix
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = ""
        if self.file:
            where = self.file + (f":{self.line}" if self.line else "") + ": "
        field = f"{self.field}: " if self.field else ""
        fix = f"; fix: {self.fix}" if self.fix else ""
        return f"{where}{field}{self.message}{fix}"


class KitError(UserError):
    """A kit (kit.yaml, its catalog or golden file) that cannot be used."""


class DataError(UserError):
    """A data file that cannot be read or does not have the expected shape."""


class ConfigError(UserError):
    """A project, stage or training config that cannot work."""


class BudgetExceeded(SlmforgeError):
    """Raised before a call that would take the spend of a stage over its ``--budget`` (USD)."""

    def __init__(self, spent_usd: float, budget_usd: float) -> None:
        self.spent_usd = spent_usd
        self.budget_usd = budget_usd
        super().__init__(
            f"budget of ${budget_usd:.4f} reached (spent ${spent_usd:.4f}); "
            "what was produced is kept; rerun with a higher --budget to continue"
        )


class LLMError(SlmforgeError):
    """A model call that failed after its retries and fallback chain."""
