"""Reading YAML config files into typed (pydantic) settings, with errors that name the file, key and fix.

Every config in slmforge (project, eval, stage, model roles) is read through :func:`read_yaml` and
:func:`validate`, so a typo fails the same way everywhere::

    project.yaml:12: split.sed: Extra inputs are not permitted; fix: remove the key or correct its spelling
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from slmforge.errors import ConfigError, UserError

M = TypeVar("M", bound=BaseModel)
DtypeName = Literal["auto", "fast", "float32", "bfloat16"]
"""A model's weights dtype as configs name it; :func:`slmforge.models.load.resolve_dtype` turns it into a torch dtype."""


class DuplicateKeyError(yaml.MarkedYAMLError):
    """A mapping that repeats a key (YAML 1.2 §3.2.1.1 requires unique keys; PyYAML keeps the last)."""


class UniqueKeyLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses a repeated mapping key instead of silently keeping the last one."""

    def construct_mapping(self, node, deep=False):  # noqa: D102 - PyYAML API
        seen: dict[Any, Any] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise DuplicateKeyError("while constructing a mapping", node.start_mark,
                                        f"found duplicate key {key!r} (first on line {seen[key].line + 1})",
                                        key_node.start_mark)
            seen[key] = key_node.start_mark
        return super().construct_mapping(node, deep=deep)


def parse_yaml_text(text: str, path: str | Path, *, error: type[UserError] = ConfigError) -> Any:
    """Parse YAML text with unique keys; a syntax error or a repeated key names ``path:line``.

    Raises:
        ``error`` (ConfigError or KitError): invalid YAML, a repeated key, or nesting too deep to parse.
    """
    try:
        return yaml.load(text, Loader=UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as e:
        mark = e.problem_mark if isinstance(e, yaml.MarkedYAMLError) else None
        dup = isinstance(e, DuplicateKeyError)
        raise error(e.problem if dup else f"invalid YAML: {e}", file=path, line=mark.line + 1 if mark else None,
                    fix="keep one of the repeated keys" if dup else "fix the YAML syntax") from e
    except RecursionError as e:
        raise error("YAML nested too deeply to read", file=path, fix="flatten the document") from e


def format_loc(loc: tuple[Any, ...]) -> str:
    """A pydantic error location as a key path: ``("tasks", 2, "constraints")`` → ``tasks[2].constraints``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def yaml_line(text: str, loc: tuple[Any, ...]) -> int | None:
    """Best-effort 1-based line of a key path in a YAML document (None when not found)."""
    try:
        node = yaml.compose(text)
    except (yaml.YAMLError, RecursionError):
        return None
    line = None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if k.value == str(part):
                    line, node = k.start_mark.line + 1, v
                    break
            else:
                return line
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return line
    return line


def read_yaml(path: str | Path, *, what: str = "config") -> dict[str, Any]:
    """Parse a YAML file whose top level is a mapping (an empty file is ``{}``); keys must be unique.

    Raises:
        ConfigError: unreadable file, invalid YAML or a repeated key (with its line), or a top level that
            is not a mapping.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"cannot read {what} file: {e}", file=path, fix="check the path and that it is UTF-8") from e
    data = parse_yaml_text(text, path)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"the {what} file must be a mapping of keys", file=path, fix="write `key: value` lines")
    return data


def validate(model: type[M], data: Any, *, file: str | Path | None = None, prefix: str = "") -> M:
    """``model.model_validate(data)`` with the first error turned into a :class:`ConfigError`.

    Args:
        model: the pydantic model.
        data: parsed YAML.
        file: the file the data came from (named in the error).
        prefix: key path of ``data`` inside the file (``models.judge``), prepended to the error's key path.

    Raises:
        ConfigError: naming ``file``, the key path and a fix ("remove or correct the key" for unknown keys).
    """
    try:
        return model.model_validate(data)
    except ValidationError as e:
        err = e.errors()[0]
        loc = format_loc(tuple(err["loc"]))
        key = ".".join(p for p in (prefix, loc) if p) or None
        more = f" (and {len(e.errors()) - 1} more problems)" if len(e.errors()) > 1 else ""
        fix = "remove or correct the key" if err["type"] == "extra_forbidden" else "correct the value"
        line = None
        if file is not None and Path(file).is_file():
            full = tuple(p for p in prefix.split(".") if p) + tuple(err["loc"])
            line = yaml_line(Path(file).read_text(encoding="utf-8", errors="replace"), full)
        raise ConfigError(err["msg"] + more, file=file, line=line, field=key, fix=fix) from e


def load_yaml_model(path: str | Path, model: type[M], *, what: str = "config") -> M:
    """Read ``path`` and validate it as ``model`` (see :func:`read_yaml`, :func:`validate`)."""
    return validate(model, read_yaml(path, what=what), file=path)
