"""Structured output: the JSON-schema instruction, parsing a reply into a pydantic model, the repair turn.

When a reply does not validate, the client asks again with the bad reply and the validation
error appended as a new turn — the "re-ask" pattern of the instructor library
(python.useinstructor.com, "Retrying"), which lets the model correct itself.
"""

from __future__ import annotations

import json

from pydantic import BaseModel, ValidationError

from slmforge.jsontext import json_span


def schema_instruction(schema: type[BaseModel]) -> str:
    """One line telling the model to answer with a JSON object of ``schema`` (its JSON Schema inlined)."""
    return ("Reply with one JSON object, and nothing else, that validates against this JSON Schema: "
            + json.dumps(schema.model_json_schema(), ensure_ascii=False, separators=(",", ":")))


def with_schema(messages: list[dict], schema: type[BaseModel]) -> list[dict]:
    """``messages`` with the schema instruction appended to the last message (the static prefix is unchanged)."""
    last = dict(messages[-1])
    last["content"] = f"{last.get('content') or ''}\n\n{schema_instruction(schema)}"
    return [*messages[:-1], last]


def parse_reply(text: str, schema: type[BaseModel]) -> tuple[BaseModel | None, str | None]:
    """Validate a reply against ``schema``.

    Returns:
        ``(object, None)`` when valid, else ``(None, reason)`` with a short reason (≤ 500 characters).
    """
    try:
        return schema.model_validate_json(json_span(text) or text.strip()), None
    except ValidationError as e:
        return None, f"reply does not match {schema.__name__}: {str(e)[:500]}"


def repair_turns(bad_text: str, reason: str) -> list[dict]:
    """The two messages appended to ask for a corrected reply: the bad reply, and the repair instruction."""
    return [{"role": "assistant", "content": bad_text},
            {"role": "user", "content": f"That reply was not valid: {reason}\n"
                                        "Reply again with only the corrected JSON object."}]
