"""Load a kit directory: ``kit.yaml`` validated, the catalog parsed by its field schema, golden examples read.

Run ``slmforge kit validate DIR`` to check a kit from the command line.
"""

from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from slmforge.config import format_loc, parse_yaml_text, yaml_line
from slmforge.errors import KitError
from slmforge.kit.schema import Catalog, FieldSpec, Kit

Subject = dict[str, Any]
"""A catalog entry: field name → typed value (``list`` fields are ``list[str]``)."""


@dataclass(frozen=True)
class GoldenExample:
    """A golden (reference) copy written by people: ``id``, ``task``, ``subject_id``, ``text``, and the
    ``value`` (seed 001's product–value pair) it was written for, if any; the student prompt names it."""

    id: str
    task: str
    subject_id: str
    text: str
    value: str | None = None


@dataclass
class LoadedKit:
    """A validated kit with its catalog and golden examples in memory.

    Attributes:
        kit: the parsed ``kit.yaml``.
        root: the kit directory.
        subjects: subject id → subject, in catalog order.
        golden: golden examples in file order.
        hash: sha256 (hex, 16 chars) over kit.yaml, catalog and golden file bytes; recorded in provenance.
    """

    kit: Kit
    root: Path
    subjects: dict[str, Subject]
    golden: list[GoldenExample] = field(default_factory=list)
    hash: str = ""

    def golden_for(self, task: str) -> list[GoldenExample]:
        """Golden examples of one task, in file order."""
        return [g for g in self.golden if g.task == task]


def parse_kit_yaml(path: Path) -> Kit:
    """Parse and validate one ``kit.yaml``.

    Raises:
        KitError: unreadable file, invalid YAML, or a schema violation (names the key path and line).
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise KitError(f"cannot read kit file: {e}", file=path, fix="check the path and that it is UTF-8") from e
    data = parse_yaml_text(text, path, error=KitError)
    if not isinstance(data, dict):
        raise KitError("kit.yaml must be a mapping of keys", file=path, fix="see examples/elemental-equation/kit.yaml")
    try:
        return Kit.model_validate(data)
    except ValidationError as e:
        err = e.errors()[0]
        loc = tuple(err["loc"])
        msg = err["msg"]
        fix = {
            "extra_forbidden": "remove the key or correct its spelling",
            "missing": "add the key",
        }.get(err["type"], "correct the value")
        more = f" (and {len(e.errors()) - 1} more problems)" if len(e.errors()) > 1 else ""
        raise KitError(msg + more, file=path, line=yaml_line(text, loc), field=format_loc(loc) or None, fix=fix) from e


def coerce_value(spec: FieldSpec, raw: Any) -> Any:
    """One subject field's raw value (CSV cell, JSON value, form input) typed by its :class:`FieldSpec`.

    ``list`` fields split strings on ``spec.separator`` (at most ``spec.maxsplit`` times) and strip items;
    an empty optional value is ``[]`` for lists and ``None`` otherwise. Used by the catalog loader and by
    the serving API's ``/v1/copy``, so a subject is typed the same way everywhere.

    Raises:
        ValueError: an empty value of a required field, or a value that is not of ``spec.type``.
    """
    if raw is None or raw == [] or (isinstance(raw, str) and raw.strip() == ""):
        if spec.required:
            raise ValueError("empty value of a required field")
        return [] if spec.type == "list" else None
    try:
        if spec.type == "list":
            items = raw if isinstance(raw, list) else str(raw).split(spec.separator, spec.maxsplit)
            return [str(x).strip() for x in items if str(x).strip()]
        if spec.type == "int":
            return int(raw)
        if spec.type == "float":
            return float(raw)
        return str(raw).strip()
    except (TypeError, ValueError) as e:
        raise ValueError(f"cannot read {raw!r} as {spec.type}") from e


def _coerce(spec: FieldSpec, raw: Any, *, file: Path, line: int) -> Any:
    try:
        return coerce_value(spec, raw)
    except ValueError as e:
        raise KitError(str(e), file=file, line=line, field=spec.name,
                       fix=f"write a {spec.type} value, or change the field's declaration (type, required) in kit.yaml") from e


def load_catalog(catalog: Catalog, path: Path) -> dict[str, Subject]:
    """Read the catalog file (CSV with a header row, or JSONL) into typed subjects.

    Args:
        catalog: the kit's catalog declaration (field schema, id field).
        path: resolved path of the catalog file.

    Returns:
        subject id → subject dict with exactly the declared fields.

    Raises:
        KitError: missing file or column, bad JSON, a value of the wrong type, duplicate or empty ids.
    """
    if not path.is_file():
        raise KitError("catalog file not found", file=path, field="catalog.path", fix="correct catalog.path in kit.yaml")
    rows = _csv_rows(path, catalog) if path.suffix.lower() == ".csv" else _jsonl_objects(path, "catalog")
    names = [s.name for s in catalog.fields]
    if catalog.id_field not in names:
        raise KitError(f"id_field {catalog.id_field!r} is not a declared field {names}", field="catalog.id_field",
                       fix="declare it under catalog.fields")
    out: dict[str, Subject] = {}
    for line, raw in rows:
        subject = {s.name: _coerce(s, raw.get(s.name), file=path, line=line) for s in catalog.fields}
        sid = subject[catalog.id_field]
        if not sid:
            raise KitError("empty subject id", file=path, line=line, field=catalog.id_field, fix="give every row an id")
        sid = str(sid)
        if sid in out and catalog.duplicate_ids == "number":
            n = 2
            while f"{sid}#{n}" in out:
                n += 1
            sid = f"{sid}#{n}"
        if sid in out:
            raise KitError(f"duplicate subject id {sid!r}", file=path, line=line, field=catalog.id_field,
                           fix="make ids unique")
        out[sid] = subject
    if not out:
        raise KitError("catalog has no rows", file=path, fix="add subjects to the catalog")
    return out


def _csv_rows(path: Path, catalog) -> list[tuple[int, dict[str, Any]]]:
    """``(line, row)`` of a CSV catalog (line 1 is the header), every declared field a column.

    Raises:
        KitError: not UTF-8, or a declared field with no column.
    """
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            reader = csv.DictReader(f)
            header = reader.fieldnames or []
            for spec in catalog.fields:
                if spec.name not in header:
                    raise KitError(f"column {spec.name!r} missing (header: {header})", file=path, line=1,
                                   field=spec.name, fix="add the column or remove the field from kit.yaml")
            return [(i + 2, r) for i, r in enumerate(reader)]
    except UnicodeDecodeError as e:
        raise KitError("catalog is not UTF-8", file=path, fix="re-save the file as UTF-8") from e


def _jsonl_objects(path: Path, what: str) -> list[tuple[int, dict[str, Any]]]:
    """``(line, object)`` for every non-blank line of a kit's JSONL file (1-based lines, a BOM allowed).

    Raises:
        KitError: not UTF-8, invalid JSON or a line that is not a JSON object (names the line).
    """
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except UnicodeDecodeError as e:
        raise KitError(f"{what} is not UTF-8", file=path, fix="re-save the file as UTF-8") from e
    rows = []
    for i, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            raise KitError(f"invalid JSON: {e.msg}", file=path, line=i, fix="fix the JSON line") from e
        if not isinstance(obj, dict):
            raise KitError("each line must be a JSON object", file=path, line=i, fix="wrap the values in {}")
        rows.append((i, obj))
    return rows


def load_golden(path: Path, kit: Kit, subjects: dict[str, Subject]) -> list[GoldenExample]:
    """Read golden examples (JSONL: ``id``, ``task``, ``subject_id``, ``text``, optional ``value``).

    Raises:
        KitError: unreadable file, bad JSON, missing key, unknown task or subject, empty text, duplicate id.
    """
    if not path.is_file():
        raise KitError("golden file not found", file=path, field="golden", fix="correct `golden:` in kit.yaml")
    task_ids = {t.id for t in kit.tasks}
    out: list[GoldenExample] = []
    seen: set[str] = set()
    for i, obj in _jsonl_objects(path, "golden file"):
        for key in ("id", "task", "subject_id", "text"):
            if not isinstance(obj, dict) or not isinstance(obj.get(key), str) or not obj[key].strip():
                raise KitError("missing or empty", file=path, line=i, field=key, fix=f"give every example a `{key}` string")
        if obj["task"] not in task_ids:
            raise KitError(f"unknown task {obj['task']!r}", file=path, line=i, field="task",
                           fix=f"use one of {sorted(task_ids)}")
        if obj["subject_id"] not in subjects:
            raise KitError(f"unknown subject {obj['subject_id']!r}", file=path, line=i, field="subject_id",
                           fix="use an id from the catalog")
        if obj["id"] in seen:
            raise KitError(f"duplicate id {obj['id']!r}", file=path, line=i, field="id", fix="make ids unique")
        if "value" in obj and not (isinstance(obj["value"], str) and obj["value"].strip()):
            raise KitError("must be a non-empty string when present", file=path, line=i, field="value",
                           fix="write the product value this text conveys, or drop the key")
        seen.add(obj["id"])
        out.append(GoldenExample(obj["id"], obj["task"], obj["subject_id"], obj["text"], obj.get("value")))
    return out


def load_kit(path: str | Path) -> LoadedKit:
    """Load a kit from a directory (containing ``kit.yaml``) or from the YAML file itself.

    Raises:
        KitError: see :func:`parse_kit_yaml`, :func:`load_catalog`, :func:`load_golden`; also a
            template that Jinja2 cannot parse (names the task and template).
    """
    path = Path(path)
    yml = path / "kit.yaml" if path.is_dir() else path
    if not yml.is_file():
        raise KitError("no kit.yaml here", file=yml, fix="pass a kit directory that contains kit.yaml")
    kit = parse_kit_yaml(yml)
    root = yml.parent.resolve()
    from slmforge.kit.render import check_templates  # local: keeps jinja2 off the import path of schema users

    check_templates(kit, yml)
    cat_path = (root / kit.catalog.path).resolve()
    subjects = load_catalog(kit.catalog, cat_path)
    h = hashlib.sha256(yml.read_bytes())
    h.update(cat_path.read_bytes())
    golden: list[GoldenExample] = []
    if kit.golden:
        gpath = (root / kit.golden).resolve()
        golden = load_golden(gpath, kit, subjects)
        h.update(gpath.read_bytes())
    return LoadedKit(kit=kit, root=root, subjects=subjects, golden=golden, hash=h.hexdigest()[:16])
