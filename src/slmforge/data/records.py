"""Canonical record types that flow between stages, one JSON object per line (JSONL).

* :class:`SFTExample` — ``messages`` (system?/user/assistant) + task + subject id + provenance;
  the shape of TRL's conversational SFT datasets.
* :class:`PreferencePair` — ``prompt`` messages, ``chosen`` / ``rejected`` texts, the
  ``strategy`` that produced the rejected side (weak / exaggerated / fake / …); the explicit-prompt
  shape of TRL's preference datasets.
* :class:`Generation` — one candidate's text for one prompt (evaluation, serving logs).

Every record carries :class:`Provenance` so any row can be traced to its producer.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Role = Literal["system", "user", "assistant"]


def instruction_of(messages: list[Any]) -> str:
    """The instruction of a prompt — defined once for every stage: the content of its last ``user``
    message ('' when there is none). Accepts :class:`Message` objects or ``{"role", "content"}`` dicts."""
    for m in reversed(messages):
        role, content = (m.role, m.content) if isinstance(m, Message) else (m.get("role"), m.get("content"))
        if role == "user":
            return str(content or "")
    return ""


class Message(BaseModel):
    """One chat message (OpenAI / TRL conversational format)."""

    model_config = ConfigDict(extra="forbid")
    role: Role
    content: str


class Provenance(BaseModel):
    """Where a record came from.

    Attributes:
        producer: ``teacher``, ``golden``, ``import``, ``rewrite``, ``weak``, ``exaggerated``, ``fake``, ``model``…
        model: model id that produced the text, if any.
        strategy: rejected-side strategy of a preference pair, if any.
        kit_hash: :attr:`LoadedKit.hash` of the kit used.
        template_hash: hash of the prompt template used.
        golden_ids: golden examples sampled into the prompt.
        request_id: ledger request hash of the call that produced the text.
        source: file the record was imported from (``path:line``).
    """

    model_config = ConfigDict(extra="allow")
    producer: str = "import"
    model: str | None = None
    strategy: str | None = None
    kit_hash: str | None = None
    template_hash: str | None = None
    golden_ids: list[str] = Field(default_factory=list)
    request_id: str | None = None
    source: str | None = None


class SFTExample(BaseModel):
    """A supervised fine-tuning example in conversational form."""

    model_config = ConfigDict(extra="forbid")
    id: str
    task: str | None = None
    subject_id: str | None = None
    messages: list[Message]
    provenance: Provenance = Field(default_factory=Provenance)

    @property
    def prompt(self) -> list[Message]:
        """All messages before the last assistant message."""
        return self.messages[:-1] if self.messages and self.messages[-1].role == "assistant" else self.messages

    @property
    def instruction(self) -> str:
        """The last user message's content (:func:`instruction_of`)."""
        return instruction_of(self.prompt)

    @property
    def completion(self) -> str:
        """Text of the last assistant message ('' when there is none)."""
        return self.messages[-1].content if self.messages and self.messages[-1].role == "assistant" else ""


class PreferencePair(BaseModel):
    """A preference pair (explicit prompt); ``findings`` holds the checks that verified the rejected side."""

    model_config = ConfigDict(extra="forbid")
    id: str
    task: str | None = None
    subject_id: str | None = None
    prompt: list[Message]
    chosen: str
    rejected: str
    strategy: str | None = None
    findings: list[dict[str, Any]] = Field(default_factory=list)
    provenance: Provenance = Field(default_factory=Provenance)

    @property
    def instruction(self) -> str:
        """The last user message's content (:func:`instruction_of`)."""
        return instruction_of(self.prompt)


class Generation(BaseModel):
    """One candidate's output for one prompt."""

    model_config = ConfigDict(extra="forbid")
    id: str
    candidate: str
    task: str | None = None
    subject_id: str | None = None
    prompt: list[Message]
    text: str
    provenance: Provenance = Field(default_factory=Provenance)
