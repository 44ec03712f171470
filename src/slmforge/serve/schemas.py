"""Request bodies of the server, validated with pydantic (invalid ones become OpenAI-style 400s).

``ChatCompletionRequest`` follows the OpenAI Chat Completions API reference
(https://platform.openai.com/docs/api-reference/chat/create) for the fields we honour, plus vLLM's
sampling extras ``min_tokens`` / ``ignore_eos`` / ``repetition_penalty``. Unknown fields are errors,
as on api.openai.com ("Unrecognized request argument supplied").
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TextPart(_Strict):
    """One ``{"type": "text", "text": ...}`` content part (images are not supported by text models)."""

    type: Literal["text"]
    text: str


class ChatMessage(_Strict):
    """A chat message; ``content`` is a string or a list of text parts (joined)."""

    role: Literal["system", "developer", "user", "assistant"]
    content: str | list[TextPart]
    name: str | None = None

    def text(self) -> str:
        """The content as one string (text parts joined without separator)."""
        return self.content if isinstance(self.content, str) else "".join(p.text for p in self.content)


class ResponseFormat(_Strict):
    """``{"type": "text"}`` or ``{"type": "json_object"}`` (JSON mode)."""

    type: Literal["text", "json_object"] = "text"


class StreamOptions(_Strict):
    """``{"include_usage": true}`` adds a last chunk with token usage and no choices."""

    include_usage: bool = False


class ChatCompletionRequest(_Strict):
    """``POST /v1/chat/completions`` body. Token counts are in the served model's tokens."""

    model: str
    messages: list[ChatMessage] = Field(min_length=1)
    n: int = Field(default=1, ge=1)
    temperature: float = Field(default=1.0, ge=0.0, le=2.0)
    top_p: float = Field(default=1.0, gt=0.0, le=1.0)
    max_tokens: int | None = Field(default=None, ge=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    stop: str | list[str] | None = None
    seed: int | None = None
    stream: bool = False
    stream_options: StreamOptions | None = None
    response_format: ResponseFormat | None = None
    user: str | None = None
    frequency_penalty: float = Field(default=0.0, ge=-2.0, le=2.0)
    presence_penalty: float = Field(default=0.0, ge=-2.0, le=2.0)
    # vLLM extras (https://docs.vllm.ai/en/latest/serving/openai_compatible_server.html#extra-parameters)
    min_tokens: int = Field(default=0, ge=0)
    ignore_eos: bool = False
    repetition_penalty: float | None = Field(default=None, gt=0.0)

    @field_validator("stop")
    @classmethod
    def _stop(cls, v: str | list[str] | None) -> list[str] | None:
        stops = [v] if isinstance(v, str) else v
        if stops is not None and (len(stops) > 4 or any(not s for s in stops)):
            raise ValueError("stop takes up to 4 non-empty strings")
        return stops

    @model_validator(mode="after")
    def _json_mode_needs_instruction(self) -> ChatCompletionRequest:
        # Same rule as api.openai.com: JSON mode needs the word "json" in the conversation.
        if self.response_format and self.response_format.type == "json_object":
            if not any("json" in m.text().lower() for m in self.messages):
                raise ValueError("'messages' must contain the word 'json' in some form to use "
                                 "'response_format' of type 'json_object'")
        return self

    def json_mode(self) -> bool:
        """Whether JSON mode (``response_format: json_object``) is on."""
        return self.response_format is not None and self.response_format.type == "json_object"

    def completion_limit(self, default: int) -> int:
        """Requested completion tokens: ``max_completion_tokens``, else ``max_tokens``, else ``default``."""
        return self.max_completion_tokens or self.max_tokens or default


class TokenizeRequest(_Strict):
    """vLLM-compatible ``POST /tokenize`` body: a ``prompt`` string or chat ``messages``."""

    model: str | None = None
    prompt: str | None = None
    messages: list[ChatMessage] | None = None
    add_generation_prompt: bool = True
    add_special_tokens: bool = False

    @model_validator(mode="after")
    def _one_input(self) -> TokenizeRequest:
        if (self.prompt is None) == (self.messages is None):
            raise ValueError("give exactly one of 'prompt' or 'messages'")
        return self


class CopyRequest(_Strict):
    """``POST /v1/copy`` body: drafts for one task and subject, checked against the kit.

    ``subject`` holds the catalog fields (list fields as lists or ``|``-separated strings);
    ``subject_id`` picks a catalog entry instead (``subject`` then overrides single fields).
    """

    model: str | None = None
    task: str
    subject: dict[str, Any] = Field(default_factory=dict)
    subject_id: str | None = None
    value: str | None = None
    n: int = Field(default=1, ge=1)
    temperature: float = Field(default=0.7, ge=0.0, le=2.0)
    top_p: float = Field(default=1.0, gt=0.0, le=1.0)
    max_tokens: int | None = Field(default=None, ge=1)
    seed: int | None = None
    guard: Literal["flag", "retry", "block"] = "flag"
    stream: bool = False
