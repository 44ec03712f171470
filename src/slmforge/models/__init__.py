"""Base models: where they come from (:mod:`.sources`), GGUF import (:mod:`.gguf_import`) and the one
loader every stage uses (:mod:`.load`)."""

from slmforge.models.load import LoadedModel, load_first, load_model, load_tokenizer, model_path
from slmforge.models.sources import Source, resolve_source

__all__ = ["LoadedModel", "Source", "load_first", "load_model", "load_tokenizer", "model_path", "resolve_source"]
