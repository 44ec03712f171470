"""``slmforge kit init NAME --language xx``: write a starter kit that passes ``kit validate --strict``.

The kit is a small shop of everyday goods in the chosen language: ``kit.yaml`` (voice, lexicon,
glossary, one ``product_blurb`` task with student and teacher templates, a rubric and constraints),
a 5-row ``products.csv`` and 5 golden descriptions (one per product) that pass the kit's own checks.
Everything is a placeholder meant to be replaced by the brand's own voice, catalog and copy; the
shapes (list fields, ``fact_fields``, a glossary naming materials the catalog does not have, so that
invented claims are caught) are the ones real kits use. Run it::

    slmforge kit init "Acme Home" --language en --out kits/acme
    slmforge kit validate --strict kits/acme
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import yaml

from slmforge.errors import KitError
from slmforge.kit.scaffold_packs import PACKS, LanguagePack

TASK_ID = "product_blurb"
FIELDS = ["product_name", "category", "materials", "features", "audience"]


class _Literal(str):
    """A string dumped as a YAML block literal (``|``), so templates read as they render."""


class _Flow(list):
    """A list dumped on one line (``[a, b]``), as the shipped kits write terms."""


class _FlowMap(dict):
    """A mapping dumped on one line (``{name: x, type: list}``)."""


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(_Literal, lambda d, s: d.represent_scalar("tag:yaml.org,2002:str", s, style="|"))
_Dumper.add_representer(_Flow, lambda d, v: d.represent_sequence("tag:yaml.org,2002:seq", v, flow_style=True))
_Dumper.add_representer(_FlowMap, lambda d, v: d.represent_mapping("tag:yaml.org,2002:map", v, flow_style=True))


def kit_document(name: str, language: str, *, brand: str | None = None) -> dict:
    """The ``kit.yaml`` content of a starter kit (see the module docstring).

    Raises:
        KitError: no starter text for ``language`` (names the languages there are).
    """
    pack = pack_for(language)
    products = [dict(zip(FIELDS, row, strict=True)) for row in pack.products]
    materials = sorted({m for p in products for m in p["materials"].split("|")})
    audiences = sorted({a for p in products for a in p["audience"].split("|")})
    lists = {"materials", "features", "audience"}
    return {
        "name": name, "language": language, "brand": brand or name,
        "voice": {"persona": pack.persona, "principles": pack.principles, "guide": _Literal(pack.guide)},
        "lexicon": {"prefer": _Flow(pack.prefer), "avoid": _Flow(pack.avoid)},
        "glossary": {"ingredients": _Flow(materials + pack.foreign), "audiences": _Flow(audiences)},
        "checks": {"max_exclamation_density": 0.01, "max_punct_run": 1,
                   "fact_fields": _FlowMap({"materials": "ingredients", "audience": "audiences"})},
        "catalog": {"path": "products.csv", "id_field": "product_name",
                    "fields": [_FlowMap({"name": f, **({"type": "list", "separator": "|"} if f in lists else {}),
                                         **({"required": False} if f == "audience" else {}),
                                         "description": pack.field_help[f]}) for f in FIELDS]},
        "golden": "golden.jsonl",
        "tasks": [{
            "id": TASK_ID, "family": "ecommerce", "description": pack.task_description,
            "student_template": _Literal(pack.student_template), "teacher_template": _Literal(pack.teacher_template),
            "rubric": {"criteria": [{"name": n, "description": d, "anchors": a} for n, d, a in pack.criteria]},
            "constraints": _FlowMap({"min_chars": pack.min_chars, "max_chars": pack.max_chars, "max_lines": 2,
                                     "emoji_allowed": False, "hashtags_max": 0}),
        }],
    }


def pack_for(language: str) -> LanguagePack:
    """The starter text for a BCP-47 tag, by its primary subtag.

    Raises:
        KitError: no starter text for the language.
    """
    pack = PACKS.get(language.split("-")[0].lower())
    if pack is None:
        raise KitError(f"no starter text for language {language!r}", field="--language",
                       fix=f"use one of {', '.join(PACKS)} and translate the texts, or copy a kit from examples/")
    return pack


def scaffold_kit(name: str, language: str, out_dir: str | Path, *, brand: str | None = None,
                 force: bool = False) -> Path:
    """Write a starter kit (``kit.yaml``, ``products.csv``, ``golden.jsonl``, ``README.md``) into ``out_dir``.

    Args:
        name: the kit's name (also the brand unless ``brand`` is given).
        language: BCP-47 tag of the copy; the starter text exists for en, zh, ja and ko.
        out_dir: the kit directory (created; must not hold a kit.yaml unless ``force``).
        brand: the brand name as it appears in copy.
        force: overwrite the files of an existing kit.

    Returns:
        the path of the written ``kit.yaml``.

    Raises:
        KitError: no starter text for ``language``, or ``out_dir`` already holds a kit.yaml.
    """
    out = Path(out_dir)
    doc = kit_document(name, language, brand=brand)
    pack = pack_for(language)
    if (out / "kit.yaml").exists() and not force:
        raise KitError("a kit.yaml exists here already", file=out / "kit.yaml",
                       fix="choose another --out, or pass --force to overwrite it")
    out.mkdir(parents=True, exist_ok=True)
    header = (f"# Starter kit written by `slmforge kit init` ({language}). Every text here is a placeholder:\n"
              "# replace the voice, lexicon, glossary, products.csv and golden.jsonl with the brand's own, then run\n"
              f"#   slmforge kit validate --strict {out}\n")
    body = yaml.dump(doc, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=120)
    (out / "kit.yaml").write_text(header + body, encoding="utf-8")
    with (out / "products.csv").open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(FIELDS)
        writer.writerows(pack.products)
    rows = [{"id": f"{TASK_ID}-{i:02d}", "task": TASK_ID, "subject_id": p[0], "text": text}
            for i, (p, text) in enumerate(zip(pack.products, pack.golden, strict=True), 1)]
    (out / "golden.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                                      encoding="utf-8")
    (out / "README.md").write_text(
        f"# {name}\n\nA starter kit written by `slmforge kit init --language {language}`: one task "
        f"(`{TASK_ID}`), 5 products, 5 golden descriptions. Replace them with the brand's own, keep at least\n"
        "5 golden texts per task, and check with `slmforge kit validate --strict .`\n", encoding="utf-8")
    return out / "kit.yaml"
