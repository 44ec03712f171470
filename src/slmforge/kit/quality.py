"""What ``kit validate`` checks beyond loading: every golden text against the kit's own checks, and
enough golden examples per task.

A golden text that fails its own kit's checks teaches the student the wrong thing and makes the
checks look unreliable; a task with fewer than :data:`MIN_GOLDEN_PER_TASK` golden texts gives the
teacher too few examples and the evaluation too few references (the kit READMEs ask for 5).
"""

from __future__ import annotations

from dataclasses import dataclass

from slmforge.kit.load import LoadedKit
from slmforge.kit.render import render_student_prompt

MIN_GOLDEN_PER_TASK = 5


@dataclass(frozen=True)
class KitProblem:
    """One problem found in a kit: ``where`` (``golden.jsonl:12`` or ``tasks[ad]``), ``what``, ``fix``."""

    where: str
    what: str
    fix: str

    def __str__(self) -> str:
        return f"{self.where}: {self.what}; fix: {self.fix}"


def golden_problems(lk: LoadedKit) -> list[KitProblem]:
    """Golden texts with an error-severity finding of the kit's checks, one problem per text.

    Returns:
        problems in golden-file order (``where`` is ``golden:<id>``).
    """
    from slmforge.checks import kit_vocabulary, run_checks

    problems = []
    for g in lk.golden:
        task, subject = lk.kit.task(g.task), lk.subjects[g.subject_id]
        rep = run_checks([g.text], task=task, subject=subject, kit=lk.kit,
                         instruction=render_student_prompt(lk.kit, task, subject, g.value), vocab=kit_vocabulary(lk))[0]
        errors = [f"{name}: {f.message}" for name, res in rep.results.items() for f in res.findings
                  if f.severity == "error"]
        if errors:
            problems.append(KitProblem(f"golden:{g.id}", "fails the kit's checks (" + "; ".join(errors[:3]) + ")",
                                       "rewrite the text, or correct the check settings in kit.yaml"))
    return problems


def coverage_problems(lk: LoadedKit, minimum: int = MIN_GOLDEN_PER_TASK) -> list[KitProblem]:
    """Tasks with fewer than ``minimum`` golden examples."""
    return [KitProblem(f"tasks[{t.id}]", f"{len(lk.golden_for(t.id))} golden example(s), fewer than {minimum}",
                       f"write at least {minimum} golden texts for this task")
            for t in lk.kit.tasks if len(lk.golden_for(t.id)) < minimum]
