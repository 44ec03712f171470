"""Render the prompts each role sees for one task of each family, as Markdown (``docs/prompts.md``).

Run it: ``python -m slmforge.synth.showcase examples/elemental-equation > docs/prompts.md``.
"""

from __future__ import annotations

import random
import sys

from slmforge.kit import LoadedKit, load_kit
from slmforge.synth.templates import (
    fake_messages, rewrite_messages, sample_golden, student_messages, teacher_messages, values_messages,
    villain_messages,
)


def _block(messages: list[dict]) -> str:
    return "\n\n".join(f"**{m['role']}**\n\n```text\n{m['content']}\n```" for m in messages)


def prompts_markdown(lk: LoadedKit, *, seed: int = 0, k: int = 2) -> str:
    """Markdown showing, for the first task of each family and the first subject of the catalog: the
    teacher's generation prompt (with ``k`` sampled golden examples), the student prompt, the villain and
    weak prompts; plus one fake, one rewrite and one value-proposal prompt.
    """
    sid, subject = next(iter(lk.subjects.items()))
    out = [f"# Prompts the models see ({lk.kit.name})", "",
           f"Rendered by `python -m slmforge.synth.showcase examples/{lk.root.name}` from the kit's templates and the "
           f"stage templates in `src/slmforge/synth/prompts/`, for subject `{sid}`. The system prompt is the "
           "same for every teacher request and goes first, so providers' prefix caching applies.", ""]
    families: dict[str, object] = {}
    for t in lk.kit.tasks:
        families.setdefault(t.family, t)
    for family, task in families.items():
        ids = sample_golden(lk, task, sid, k, random.Random(f"{seed}:{task.id}:{sid}:None:0"))
        student = student_messages(lk, task, subject)
        out += [f"## Family `{family}` — task `{task.id}`", "", "### Teacher (synth)", "",
                _block(teacher_messages(lk, task, subject, ids)), "",
                "### Student (what the fine-tuned model is trained and served with)", "", _block(student), "",
                "### Weak model (prefs, strategy `weak`)", "", _block(student), "",
                "### Red team (prefs, strategy `exaggerated`)", "", _block(villain_messages(lk, task, student[-1]["content"])), ""]
    task = lk.kit.tasks[0]
    chosen = lk.golden_for(task.id)[0].text if lk.golden_for(task.id) else "(the chosen text)"
    out += ["## Red team (prefs, strategy `fake`)", "", _block(fake_messages(lk, subject, chosen, 1)), "",
            "## Targeted rewrite (clean, pass 1)", "",
            _block(rewrite_messages(lk, ["structure_labels"], ["leaked label '【之前】'"],
                                    student_messages(lk, task, subject)[-1]["content"], "【之前】" + chosen, minimal=True)),
            "", "## Product–value mode (synth --value-mode)", "", _block(values_messages(lk, subject, 6)), ""]
    return "\n".join(out)


if __name__ == "__main__":
    sys.stdout.write(prompts_markdown(load_kit(sys.argv[1] if len(sys.argv) > 1 else "examples/elemental-equation")))
