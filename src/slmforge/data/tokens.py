"""Token counting for ``data stats`` and ``data estimate``: an HF tokenizer, tiktoken, or an estimate.

``load_token_counter(spec)`` picks, by ``spec``:

* a folder holding ``tokenizer.json`` (any Hugging Face fast tokenizer) → exact counts for that model;
* ``tiktoken:NAME`` (``o200k_base``, ``cl100k_base``) → exact OpenAI counts, *only* when the encoding file
  is already in tiktoken's cache (offline machines cannot fetch it; we never try the network);
* ``None`` → tiktoken ``o200k_base`` when cached, else the estimate;
* ``estimate`` → :func:`estimate_tokens`, flagged ``exact=False`` so reports say it is an estimate.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from slmforge.cjk import estimate_tokens
from slmforge.errors import DataError

TIKTOKEN_URL = "https://openaipublic.blob.core.windows.net/encodings/{name}.tiktoken"


@dataclass(frozen=True)
class TokenCounter:
    """Counts tokens of a text.

    Attributes:
        name: what counts (``tiktoken:o200k_base``, a tokenizer folder, or ``estimate``).
        exact: False for the character-based estimate.
        count: ``text -> number of tokens``.
    """

    name: str
    exact: bool
    count: Callable[[str], int]


def tiktoken_cached(name: str) -> bool:
    """True when tiktoken's encoding file for ``name`` is in its local cache (same path rule as ``tiktoken.load``)."""
    cache_dir = os.environ.get("TIKTOKEN_CACHE_DIR", os.environ.get("DATA_GYM_CACHE_DIR",
                                                                     os.path.join(tempfile.gettempdir(), "data-gym-cache")))
    if not cache_dir:
        return False
    key = hashlib.sha1(TIKTOKEN_URL.format(name=name).encode()).hexdigest()
    return os.path.exists(os.path.join(cache_dir, key))


def _tiktoken(name: str) -> TokenCounter | None:
    try:
        import tiktoken
    except ImportError:
        return None
    if not tiktoken_cached(name):
        return None
    enc = tiktoken.get_encoding(name)
    return TokenCounter(f"tiktoken:{name}", True, lambda s: len(enc.encode(s, disallowed_special=())))


def load_token_counter(spec: str | None = None, *, default_encoding: str = "o200k_base") -> TokenCounter:
    """The token counter named by ``spec`` (see the module docstring).

    Args:
        spec: a tokenizer folder, ``tiktoken:NAME``, ``estimate``, or ``None`` for the best available.
        default_encoding: tiktoken encoding tried when ``spec`` is ``None``.

    Raises:
        DataError: a folder without ``tokenizer.json``, or ``tiktoken:NAME`` that is not cached.
    """
    if spec is None:
        return _tiktoken(default_encoding) or TokenCounter("estimate", False, estimate_tokens)
    if spec == "estimate":
        return TokenCounter("estimate", False, estimate_tokens)
    if spec.startswith("tiktoken:"):
        name = spec.split(":", 1)[1]
        counter = _tiktoken(name)
        if counter is None:
            raise DataError(f"tiktoken encoding {name!r} is not available offline", field="--tokenizer",
                            fix="run once with network access to cache it, set TIKTOKEN_CACHE_DIR, "
                                "or use --tokenizer estimate / a local tokenizer folder")
        return counter
    path = Path(spec)
    file = path / "tokenizer.json" if path.is_dir() else path
    if not file.is_file():
        raise DataError("no tokenizer.json here", file=path, field="--tokenizer",
                        fix="pass a local Hugging Face tokenizer folder, tiktoken:o200k_base, or estimate")
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(file))
    return TokenCounter(str(path), True, lambda s: len(tok.encode(s, add_special_tokens=False).ids))
