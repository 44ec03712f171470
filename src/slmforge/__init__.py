"""slmforge: turn a brand or domain kit into a specialist small language model, and measure it.

Stages (one package each): ``data`` (records, formats, validation), ``kit`` (the brand kit),
``llm`` (one client for every model role, with a cost ledger), ``checks`` (the kit's rules as
functions), ``synth`` (teacher data, cleaning, preference pairs), ``train`` (SFT, DPO, reward
model, GRPO via TRL + PEFT), ``evaluate`` (metrics, judges, report), ``serve`` (OpenAI-compatible
API, client, playground) and ``pipeline`` (``slmforge run``).
"""

__version__ = "0.1.0"

__all__ = ["__version__", "Client"]


def __getattr__(name: str):
    # Lazy so that ``import slmforge`` stays cheap (the client pulls in the openai SDK).
    if name == "Client":
        from slmforge.serve.client import Client

        return Client
    raise AttributeError(name)
