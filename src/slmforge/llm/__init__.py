"""One LLM client for every role, on a SQLite cost ledger (issue 3).

``LLMClient`` (async, bounded concurrency, rpm/tpm limits, retries with backoff, schema-validated
JSON with repair turns, fallback chains, budget stop, dry run), ``ModelConfig`` (one role's
model), ``ChatResult``, ``Ledger``; ``LocalModel`` lives in :mod:`slmforge.llm.local` (imports torch).
"""

from slmforge.llm.client import ChatResult, DryRunSummary, LLMClient, request_hash
from slmforge.llm.config import ModelConfig, Price
from slmforge.llm.ledger import Ledger, default_path

__all__ = ["ChatResult", "DryRunSummary", "LLMClient", "Ledger", "ModelConfig", "Price", "default_path",
           "request_hash"]
