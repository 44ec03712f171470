"""Chat messages the teacher, the weak model and the red team see, rendered from Jinja2 templates.

Kit templates (``task.teacher_template`` / ``task.student_template``) are rendered by
:mod:`slmforge.kit.render`; the stage's own templates live in ``slmforge/synth/prompts/*.j2``
(villain per task family, fake, rewrite, values). The static system prompt (voice, lexicon,
output format) always goes first, so that providers' prefix caching applies to it
(OpenAI prompt caching docs: "place static content at the beginning of your prompt").
``docs/prompts.md`` shows every one of them rendered for the example kit.
"""

from __future__ import annotations

import random
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2

from slmforge.checks.registry import rewrite_instructions
from slmforge.kit import LoadedKit, Task, render_student_prompt, render_teacher_prompt, system_prompt, template_hash
from slmforge.kit.render import subject_json

PROMPTS_DIR = Path(__file__).parent / "prompts"
_ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(PROMPTS_DIR), undefined=jinja2.StrictUndefined,
    keep_trailing_newline=False, autoescape=False,
)

LANGUAGE_NAMES = {"zh": "Simplified Chinese (简体中文)", "en": "English", "ja": "Japanese", "ko": "Korean",
                  "de": "German", "fr": "French", "es": "Spanish"}


def language_name(tag: str) -> str:
    """A readable language name for a BCP-47 tag (the tag itself when unknown)."""
    return LANGUAGE_NAMES.get(tag.split("-")[0], tag)


@lru_cache(maxsize=64)
def _template(name: str) -> jinja2.Template:
    return _ENV.get_template(name)


def render(name: str, **variables: Any) -> str:
    """Render one of the stage's templates (``prompts/<name>``), stripped."""
    return _template(name).render(**variables).strip()


def source_hash(name: str) -> str:
    """:func:`~slmforge.kit.render.template_hash` of one of the stage's templates."""
    return template_hash((PROMPTS_DIR / name).read_text(encoding="utf-8"))


def teacher_system(lk: LoadedKit) -> str:
    """The teacher's static system prompt: the kit's voice and lexicon plus the JSON output format."""
    return system_prompt(lk.kit) + "\n\n" + render("json_output.j2")


def sample_golden(lk: LoadedKit, task: Task, subject_id: str, k: int, rng: random.Random) -> list[str]:
    """Sample ``k`` golden example ids of ``task`` (others' subjects first, so the teacher cannot copy).

    Returns:
        up to ``k`` golden ids, in sampled order (fewer when the kit has fewer for this task).
    """
    pool = lk.golden_for(task.id)
    others = [g.id for g in pool if g.subject_id != subject_id]
    same = [g.id for g in pool if g.subject_id == subject_id]
    picked = rng.sample(others, min(k, len(others)))
    if len(picked) < k:
        picked += rng.sample(same, min(k - len(picked), len(same)))
    return picked


def teacher_messages(lk: LoadedKit, task: Task, subject: dict, golden_ids: list[str],
                     value: str | None = None) -> list[dict]:
    """System (static) + user (the task's teacher template with golden examples) messages."""
    texts = {g.id: g.text for g in lk.golden}
    user = render_teacher_prompt(lk.kit, task, subject, [texts[i] for i in golden_ids], value=value)
    return [{"role": "system", "content": teacher_system(lk)}, {"role": "user", "content": user}]


def student_messages(lk: LoadedKit, task: Task, subject: dict, value: str | None = None, *,
                     system: bool = False) -> list[dict]:
    """The student-side prompt: the task's student template as a user message, optionally after the voice."""
    user = {"role": "user", "content": render_student_prompt(lk.kit, task, subject, value=value)}
    return ([{"role": "system", "content": system_prompt(lk.kit)}] if system else []) + [user]


def villain_template(family: str) -> str:
    """Template name of the villain prompt for a task family (``villain/default.j2`` when it has none)."""
    name = f"villain/{family}.j2"
    return name if (PROMPTS_DIR / name).is_file() else "villain/default.j2"


def villain_messages(lk: LoadedKit, task: Task, instruction: str) -> list[dict]:
    """The exaggerated strategy's prompt: deliberately hype, avoid-terms, fake scarcity, pseudo-science."""
    user = render(villain_template(task.family), kit=lk.kit, language=language_name(lk.kit.language),
                  instruction=instruction)
    return [{"role": "user", "content": user}]


def fake_messages(lk: LoadedKit, subject: dict, chosen: str, n_edits: int) -> list[dict]:
    """The fake strategy's red-team prompt: change ``n_edits`` facts of ``chosen`` against the record."""
    user = render("fake.j2", kit=lk.kit, subject_json=subject_json(subject), chosen=chosen, n_edits=n_edits)
    return [{"role": "user", "content": user}]


def rewrite_messages(lk: LoadedKit, rules: list[str], findings: list[str], instruction: str, text: str, *,
                     minimal: bool) -> list[dict]:
    """A targeted rewrite prompt for the named defects (system prompt first, as for generation); what each
    defect's instruction says comes from its rule in the check registry
    (:func:`slmforge.checks.registry.rewrite_instructions`, seed 003's two rewrite passes)."""
    user = render("rewrite.j2", kit=lk.kit, rules=rules, instructions=rewrite_instructions(), findings=findings,
                  instruction=instruction, text=text, minimal=minimal, language=language_name(lk.kit.language))
    return [{"role": "system", "content": teacher_system(lk)}, {"role": "user", "content": user}]


def values_messages(lk: LoadedKit, subject: dict, n: int) -> list[dict]:
    """Product–value mode: ask the teacher for ``n`` distinct customer values of one product."""
    user = render("values.j2", kit=lk.kit, subject_json=subject_json(subject), n=n,
                  language=language_name(lk.kit.language))
    return [{"role": "system", "content": system_prompt(lk.kit)}, {"role": "user", "content": user}]
