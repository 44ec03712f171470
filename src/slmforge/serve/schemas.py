"""Request bodies of the server, validated with pydantic (invalid ones become OpenAI-style 400s).

``ChatCompletionRequest`` follows the OpenAI Chat Completions API reference
(https://platform.openai.com/docs/api-reference/chat/create) for the fields we honour, plus vLLM's
sampling extras ``min_tokens`` / ``ignore_eos`` / ``repetition_penalty``. Unknown fields are errors,
as on api.openai.com ("Unrecognized request argument supplied").

Every body is validated strictly, so a malformed value is a 400 naming the field, never a 500 later
in the tokenizer or the sampler:

- JSON types are not coerced (pydantic strict mode): ``"stream": "yes"``, ``"n": "2"`` or ``"n": true``
  are errors; only JSON ``true`` / ``false`` are booleans, and integers must be JSON integers (JSON
  integers are accepted where a number is expected).
- ``NaN`` / ``Infinity`` (which Python's ``json`` module accepts) are refused in number fields.
- Text must be valid Unicode: a lone UTF-16 surrogate (a JSON escape such as ``"\\ud800"`` without
  its pair) cannot be encoded as UTF-8, so no tokenizer can read it.
- Sampling values are kept where decoding stays finite: ``temperature`` is 0 (greedy) or in
  [0.01, 2] (below 0.01 the scaled logits overflow float32 — vLLM treats the same range as
  numerically unstable); ``repetition_penalty`` in [0.01, 100] (it divides or multiplies logits);
  ``seed`` is a signed 64-bit integer, as in the OpenAI API reference and vLLM.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
"""Range of ``seed`` (and of integer subject fields): a signed 64-bit integer."""
MIN_TEMPERATURE = 0.01
"""Smallest temperature above 0 (greedy); a smaller one makes ``logits / temperature`` overflow."""


def valid_text(text: str) -> str:
    """Return ``text`` unchanged if it can be encoded as UTF-8 (no lone UTF-16 surrogate).

    Raises:
        ValueError: ``text`` holds a surrogate code point (U+D800–U+DFFF), e.g. from the JSON escape
            ``"\\ud800"`` without its low half; the message gives its character offset.
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as e:
        raise ValueError(f"lone UTF-16 surrogate at character {e.start}; send valid Unicode text") from None
    return text


Text = Annotated[str, AfterValidator(valid_text)]
"""A string that is valid Unicode (see :func:`valid_text`)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


class TextPart(_Strict):
    """One ``{"type": "text", "text": ...}`` content part (images are not supported by text models)."""

    type: Literal["text"]
    text: str  # checked by ChatMessage (a validator here would put union branch names in the error's param)


class ChatMessage(_Strict):
    """A chat message; ``content`` is a string or a list of text parts (joined)."""

    role: Literal["system", "developer", "user", "assistant"]
    content: str | list[TextPart]
    name: Text | None = None

    @field_validator("content")
    @classmethod
    def _valid_content(cls, v: str | list[TextPart]) -> str | list[TextPart]:
        for i, text in enumerate([v] if isinstance(v, str) else [p.text for p in v]):
            try:
                valid_text(text)
            except ValueError as e:
                raise ValueError(e if isinstance(v, str) else f"part {i}: {e}") from None
        return v

    def text(self) -> str:
        """The content as one string (text parts joined without separator)."""
        return self.content if isinstance(self.content, str) else "".join(p.text for p in self.content)


class ResponseFormat(_Strict):
    """``{"type": "text"}`` or ``{"type": "json_object"}`` (JSON mode)."""

    type: Literal["text", "json_object"] = "text"


class StreamOptions(_Strict):
    """``{"include_usage": true}`` adds a last chunk with token usage and no choices."""

    include_usage: bool = False


def _temperature(v: float) -> float:
    if 0 < v < MIN_TEMPERATURE:
        raise ValueError(f"must be 0 (greedy decoding) or at least {MIN_TEMPERATURE}; "
                         "use 0 for the most likely tokens")
    return v


Temperature = Annotated[float, Field(ge=0.0, le=2.0), AfterValidator(_temperature)]
"""Sampling temperature: 0 = greedy, else in [0.01, 2]."""
TopP = Annotated[float, Field(gt=0.0, le=1.0)]
"""Nucleus mass in (0, 1]."""
Seed = Annotated[int, Field(ge=INT64_MIN, le=INT64_MAX)]
"""RNG seed: a signed 64-bit integer."""


class ChatCompletionRequest(_Strict):
    """``POST /v1/chat/completions`` body. Token counts are in the served model's tokens.

    ``n`` is at most the server's ``--max-n`` (checked by the route, which knows the setting).
    """

    model: Text
    messages: list[ChatMessage] = Field(min_length=1)
    n: int = Field(default=1, ge=1)
    temperature: Temperature = 1.0
    top_p: TopP = 1.0
    max_tokens: int | None = Field(default=None, ge=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    stop: str | list[str] | None = None
    seed: Seed | None = None
    stream: bool = False
    stream_options: StreamOptions | None = None
    response_format: ResponseFormat | None = None
    user: Text | None = None
    frequency_penalty: float = Field(default=0.0, ge=-2.0, le=2.0)
    presence_penalty: float = Field(default=0.0, ge=-2.0, le=2.0)
    # vLLM extras (https://docs.vllm.ai/en/latest/serving/openai_compatible_server.html#extra-parameters)
    min_tokens: int = Field(default=0, ge=0)
    ignore_eos: bool = False
    repetition_penalty: float | None = Field(default=None, ge=0.01, le=100.0)

    @field_validator("stop")
    @classmethod
    def _stop(cls, v: str | list[str] | None) -> list[str] | None:
        stops = [v] if isinstance(v, str) else v
        if stops is not None and (len(stops) > 4 or any(not s for s in stops)):
            raise ValueError("stop takes up to 4 non-empty strings")
        for s in stops or []:
            valid_text(s)
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

    model: Text | None = None
    prompt: Text | None = None
    messages: list[ChatMessage] | None = None
    add_generation_prompt: bool = True
    add_special_tokens: bool = False

    @model_validator(mode="after")
    def _one_input(self) -> TokenizeRequest:
        if (self.prompt is None) == (self.messages is None):
            raise ValueError("give exactly one of 'prompt' or 'messages'")
        return self


def _subject_value(name: str, v: Any, *, in_list: bool = False) -> None:
    """Refuse a subject value the kit's field typing cannot read: not a JSON scalar (or a list of
    scalars), invalid text, a non-finite number, or an integer outside int64 (``float(10**400)``
    overflows)."""
    if isinstance(v, str):
        try:
            valid_text(v)
        except ValueError as e:
            raise ValueError(f"subject.{name}: {e}") from None
    elif isinstance(v, list) and not in_list:
        for item in v:
            _subject_value(name, item, in_list=True)
    elif isinstance(v, int) and not isinstance(v, bool) and not INT64_MIN <= v <= INT64_MAX:
        raise ValueError(f"subject.{name}: integer out of the 64-bit range")
    elif isinstance(v, float) and not math.isfinite(v):
        raise ValueError(f"subject.{name}: number must be finite")
    elif not (v is None or isinstance(v, bool | int | float)):
        raise ValueError(f"subject.{name}: give a string, number, boolean or a list of them")


class CopyRequest(_Strict):
    """``POST /v1/copy`` body: drafts for one task and subject, checked against the kit.

    ``subject`` holds the catalog fields (list fields as lists or ``|``-separated strings);
    ``subject_id`` picks a catalog entry instead (``subject`` then overrides single fields).
    ``n`` is at most the server's ``--max-n``.
    """

    model: Text | None = None
    task: Text
    subject: dict[str, Any] = Field(default_factory=dict)
    subject_id: Text | None = None
    value: Text | None = None
    n: int = Field(default=1, ge=1)
    temperature: Temperature = 0.7
    top_p: TopP = 1.0
    max_tokens: int | None = Field(default=None, ge=1)
    seed: Seed | None = None
    guard: Literal["flag", "retry", "block"] = "flag"
    stream: bool = False

    @field_validator("subject")
    @classmethod
    def _subject_values(cls, v: dict[str, Any]) -> dict[str, Any]:
        for name, value in v.items():
            try:
                valid_text(name)
            except ValueError as e:
                raise ValueError(f"field name {name.encode('utf-8', 'backslashreplace').decode()}: {e}") from None
            _subject_value(name, value)
        return v
