"""Child process of the kill test: run N requests through LLMClient and write the replies as JSONL.

Usage: python -m tests.llm.kill_worker BASE_URL LEDGER OUT N CONCURRENCY
"""

from __future__ import annotations

import json
import sys

from slmforge.llm import LLMClient, ModelConfig
from tests.llm.conftest import Item, make_batch


def main(base_url: str, ledger: str, out: str, n: int, concurrency: int) -> None:
    """Run the batch and write one ``{"item", "length"}`` line per request, in order."""
    cfg = ModelConfig(backend="openai", model="gpt-4o-mini", base_url=base_url, max_concurrency=concurrency,
                      timeout_s=5, backoff_base_s=0.01)
    results = LLMClient({"teacher": cfg}, ledger=ledger, run_id="kill").chat_many(
        "teacher", make_batch(n), stage="synth", schema=Item, progress=False)
    with open(out, "w", encoding="utf-8") as f:
        for r in results:
            f.write(json.dumps(r.parsed.model_dump() if r.ok else {"error": r.error}) + "\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
