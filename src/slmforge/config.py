"""Reading YAML config files into typed (pydantic) settings, with errors that name the file, key and fix.

Every config in slmforge (project, eval, stage, model roles) is read through :func:`read_yaml` and
:func:`validate`, so a typo fails the same way everywhere::

    project.yaml:12: split.sed: Extra inputs are not permitted; fix: remove the key or correct its spelling
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from slmforge.errors import ConfigError

M = TypeVar("M", bound=BaseModel)


def read_yaml(path: str | Path, *, what: str = "config") -> dict[str, Any]:
    """Parse a YAML file whose top level is a mapping (an empty file is ``{}``).

    Raises:
        ConfigError: unreadable file, invalid YAML (with its line), or a top level that is not a mapping.
    """
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"cannot read {what} file: {e}", file=path, fix="check the path and that it is UTF-8") from e
    except yaml.YAMLError as e:
        mark = e.problem_mark if isinstance(e, yaml.MarkedYAMLError) else None
        raise ConfigError(f"invalid YAML: {e}", file=path, line=mark.line + 1 if mark else None,
                          fix="fix the YAML syntax") from e
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
        loc = ".".join(str(p) for p in err["loc"])
        key = ".".join(p for p in (prefix, loc) if p) or None
        more = f" (and {len(e.errors()) - 1} more problems)" if len(e.errors()) > 1 else ""
        fix = "remove or correct the key" if err["type"] == "extra_forbidden" else "correct the value"
        raise ConfigError(err["msg"] + more, file=file, field=key, fix=fix) from e


def load_yaml_model(path: str | Path, model: type[M], *, what: str = "config") -> M:
    """Read ``path`` and validate it as ``model`` (see :func:`read_yaml`, :func:`validate`)."""
    return validate(model, read_yaml(path, what=what), file=path)
