"""A scripted teacher for the synth tests: reads the request's prompt and answers plausible JSON.

* generation: finds the subject (longest catalog id in the prompt, golden examples removed) and the
  task (the longest literal fragment of its teacher template that no other task has), and writes a
  text from the subject's fields that fits the task's constraints;
* ``[task: propose values]``: values from the subject's list fields (with a near-duplicate);
* ``[task: villain copy]``: hype with the kit's avoid-terms; ``[task: red-team fact edit]``: the chosen
  text with a concentration (or another number) changed; ``[task: targeted rewrite]``: the text with
  labels / avoid-terms removed and a CTA added;
* the weak model (any request whose model id starts with ``weak``): a short generic text.

``defects`` injects known faults by (task, subject index) so the clean tests can count exactly.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from slmforge.kit import LoadedKit
from slmforge.synth.rules import LABEL_RE

_JINJA = re.compile(r"{{.*?}}|{%.*?%}", re.S)
_BLOCK = re.compile(r"<<<\n(.*?)\n>>>", re.S)


def task_signatures(lk: LoadedKit) -> dict[str, str]:
    """Task id → the longest literal fragment of its teacher template that no other task's template has."""
    out = {}
    for t in lk.kit.tasks:
        others = [o.teacher_template for o in lk.kit.tasks if o.id != t.id]
        frags = [f.strip() for f in _JINJA.split(t.teacher_template) for f in f.splitlines()]
        unique = [f for f in frags if len(f) >= 4 and all(f not in o for o in others)]
        out[t.id] = max(unique, key=len)
    return out


ZH_LEADS = ["油光和痘印反复出现，往往和屏障有关。", "换季时泛红反复，问题常在屏障。", "暗沉不是一天形成的，改善也需要方法。",
            "成分说清楚，功效才说得清楚。", "肤感之外，更要看配方逻辑。", "护肤不必复杂，关键在于对症。",
            "先理解皮肤，再选择产品。", "每一种成分都应有它的位置。", "稳定的配方比堆砌的配方更可靠。"]
ZH_FILLERS = ["先讲肌肤问题从何而来，再讲成分如何作用。", "精简的配方意味着每一种成分都有明确的作用。",
              "建议先在耳后做局部测试，再逐步建立耐受。", "温和、稳定，是我们对日常护肤的理解。",
              "使用频率以肌肤的实际反馈为准，不必追求叠加。", "白天使用时请配合防晒，晚间注意保湿修护。",
              "我观察到，坚持规律使用比频繁更换产品更重要。", "质地清爽，上脸后很快吸收，不会搓泥。",
              "很多人以为浓度越高越好，其实耐受和配比同样关键。", "屏障稳定之后，肌肤对外界刺激的反应会更平和。",
              "记录自己的肌肤变化，比对照别人的经验更有参考价值。", "如果正在使用酸类产品，建议与之错开早晚使用。",
              "科学护肤不是做加法，而是找到源头。", "第一周只在晚间使用，观察肌肤状态后再调整。",
              "对我来说，最明显的是上妆更服帖了。", "把注意力放回成分本身，选择会变得简单。"]


def compose(lk: LoadedKit, task_id: str, subject: dict, variant: int = 0) -> str:
    """A text about ``subject`` for ``task_id`` that satisfies the task's constraints and the lexicon."""
    task = lk.kit.task(task_id)
    k = [t.id for t in lk.kit.tasks].index(task_id)
    c = task.constraints
    zh = lk.kit.language.startswith("zh")
    name = str(subject[lk.kit.catalog.id_field])
    lists = [v for v in subject.values() if isinstance(v, list) and v]
    sep = "、" if zh else ", "
    first = sep.join(lists[0]) if lists else ""
    second = sep.join(lists[1]) if len(lists) > 1 else ""
    if zh:
        cores = [f"{name}的配方围绕{first}展开" + (f"，对应{second}" if second else "") + "。",
                 f"{name}的配方围绕{first}展开。", f"{name}的核心是{lists[0][0] if lists else name}。"]
        lead, cta = ZH_LEADS[k % len(ZH_LEADS)], "点击了解更多。"
        steps = [m.group(1).strip() for m in re.finditer(r"(?m)^\s*\d\.\s*(.+)$", _JINJA.sub("", task.teacher_template))]
        items = [x for v in lists for x in v] or [name]
        fillers = [f"关于{items[j % len(items)]}，{line}" for j, line in enumerate(steps)]
        fillers += [f"{name}：{ZH_FILLERS[(k * 5 + j) % len(ZH_FILLERS)]}" for j in range(len(ZH_FILLERS))]
    else:
        cores = [f"{name}: {first}" + (f" ({second})" if second else "") + ".", f"{name}: {first}.", f"{name}."]
        lead, cta = ["Calm origin notes.", "Precise brewing notes."][k % 2], " Order a tin today."
        fillers = [f"A note for {task.description or task.id}.", "Brew it gently and taste the origin.",
                   "Balanced, calm and precise.", "Each harvest is brewed and tasted before it ships."]
    if c.max_chars is not None and c.max_chars <= 200:  # an ad: one line, lead + core + CTA
        for core in cores:
            for text in (lead + core, core):
                text += cta if c.cta_required else ""
                if len(text) <= c.max_chars:
                    return text
        return cores[-1][: c.max_chars]
    parts = [lead + cores[0]]
    i = 0
    while sum(len(p) for p in parts) < (c.min_chars or 0) + 30 or i < 3:
        parts.append(fillers[i % len(fillers)] + ("" if i < len(fillers) else f"（{i}）" if zh else f" ({i})"))
        i += 1
    text = ("\n\n" if c.newlines_allowed else "").join(parts)
    if c.cta_required:
        text += cta
    return text


def make_teacher(lk: LoadedKit, *, defects: Callable[[str, int], str | None] | None = None,
                 unfixable: Callable[[int], bool] | None = None) -> Callable[[dict], str]:
    """Build the script for :class:`~slmforge.testing.server.ScriptedServer`.

    Args:
        lk: the kit the prompts are rendered from.
        defects: ``(task_id, subject_index) -> kind or None``; kinds: ``label`` (leaked 【之前】/"Hook:"),
            ``no_cta`` (CTA dropped), ``avoid`` (an avoid-term added), ``markup`` (JSON around the text).
        unfixable: ``subject_index -> bool``; rewrites of these subjects keep the avoid-term.
    """
    sigs = task_signatures(lk)
    ids = sorted(lk.subjects, key=len, reverse=True)
    index = {sid: i for i, sid in enumerate(lk.subjects)}
    golden = [g.text for g in lk.golden]
    zh = lk.kit.language.startswith("zh")
    avoid = lk.kit.lexicon.avoid

    def subject_of(prompt: str) -> str:
        for g in golden:
            prompt = prompt.replace(g, "")
        return next(s for s in ids if s in prompt)

    def script(req: dict) -> str:
        prompt = next(m["content"] for m in req["messages"] if m["role"] == "user")  # repair turns come after
        if req["model"].startswith("weak"):
            sid = subject_of(prompt)
            return f"{sid}很好用，推荐。" if zh else f"{sid} is a nice tea."
        if "[task: propose values]" in prompt:
            s = lk.subjects[subject_of(prompt)]
            vals = [v for vs in s.values() if isinstance(vs, list) for v in vs]
            return json.dumps({"values": vals[:1] + [vals[0] + ("！" if zh else "!")] + vals[1:]}, ensure_ascii=False)
        if "[task: villain copy]" in prompt:
            sid = subject_of(prompt)
            text = (f"{avoid[-1]}！！！{sid}简直是{avoid[0]}，{avoid[1]}效果，一夜回春，最后3份，手慢无！！！" if zh
                    else f"OMG!!! {sid} is a {avoid[0]}, {avoid[1]} GAME-CHANGER!!! Only 3 left, ACT NOW!!!")
            return json.dumps({"text": text}, ensure_ascii=False)
        if "[task: red-team fact edit]" in prompt:
            chosen = _BLOCK.search(prompt).group(1)
            m = re.search(r"(\d+(?:\.\d+)?)(%| mg)", chosen)
            if m:
                new = str(int(float(m.group(1))) + 7)
                text = chosen[: m.start(1)] + new + chosen[m.end(1):]
                return json.dumps({"text": text, "changes": [f"{m.group(0)} -> {new}{m.group(2)}"]}, ensure_ascii=False)
            s = lk.subjects[subject_of(prompt)]
            own = [v for vs in s.values() if isinstance(vs, list) for v in vs]
            swap = next(g for g in lk.kit.glossary.ingredients if g not in chosen)
            text = chosen.replace(own[0], swap, 1)
            return json.dumps({"text": text, "changes": [f"{own[0]} -> {swap}"]}, ensure_ascii=False)
        if "[task: targeted rewrite]" in prompt:
            blocks = _BLOCK.findall(prompt)
            text = blocks[-1]
            sid = subject_of(blocks[0])
            text = LABEL_RE.sub("", text)
            if text.startswith("{"):  # stray JSON around the copy
                text = json.loads(text)["text"]
            if not (unfixable and unfixable(index[sid])):
                for term in avoid:
                    text = text.replace(term, "")
            if "call to action" in prompt.split("Task instruction the text answers")[0] and ("点击" not in text):
                text = text.rstrip() + ("点击了解更多。" if zh else " Order a tin today.")
            return json.dumps({"text": text.strip()}, ensure_ascii=False)
        sid = subject_of(prompt)
        task_id = next(t for t, sig in sigs.items() if sig in prompt)
        text = compose(lk, task_id, lk.subjects[sid])
        kind = defects(task_id, index[sid]) if defects else None
        if kind == "label":
            text = ("【之前】" if zh else "Hook: ") + text
        elif kind == "no_cta":
            text = text.replace("点击了解更多。", "").replace(" Order a tin today.", "")
        elif kind == "avoid":
            text = text.replace("。", f"，{avoid[0]}。", 1) if zh else text.replace(".", f", a {avoid[0]}.", 1)
        elif kind == "markup":
            return json.dumps({"text": json.dumps({"text": text}, ensure_ascii=False)}, ensure_ascii=False)
        return json.dumps({"text": text}, ensure_ascii=False)

    return script
