"""The brand/domain kit: schema (``kit.yaml``), loading (catalog, golden) and template rendering."""

from slmforge.kit.load import GoldenExample, LoadedKit, Subject, load_catalog, load_kit
from slmforge.kit.render import render_student_prompt, render_teacher_prompt, system_prompt, template_hash
from slmforge.kit.schema import Catalog, Constraints, Criterion, FieldSpec, Kit, Lexicon, Rubric, Task, Voice

__all__ = [
    "Catalog", "Constraints", "Criterion", "FieldSpec", "GoldenExample", "Kit", "Lexicon", "LoadedKit",
    "Rubric", "Subject", "Task", "Voice", "load_catalog", "load_kit", "render_student_prompt",
    "render_teacher_prompt", "system_prompt", "template_hash",
]
