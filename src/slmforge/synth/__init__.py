"""Teacher data: generation (``synthesize``), cleaning (``clean``) and preference pairs (``build_prefs``).

Each stage takes a loaded kit, a typed config, an :class:`~slmforge.llm.LLMClient` and paths, writes
JSONL + ``report.json`` + a manifest into its stage directory, and returns the main output path.
"""

from slmforge.synth.clean import clean
from slmforge.synth.config import CleanConfig, PrefsConfig, SynthConfig, load_config
from slmforge.synth.generate import synthesize
from slmforge.synth.prefs import allocate, build_prefs

__all__ = ["CleanConfig", "PrefsConfig", "SynthConfig", "allocate", "build_prefs", "clean", "load_config",
           "synthesize"]
