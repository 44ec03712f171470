"""parse_completion: what the openai backend reads from a chat.completion body."""

import json

import pytest

from slmforge.llm.openai_backend import MalformedReply, parse_completion


def _body(**over) -> bytes:
    body = {"id": "c1", "object": "chat.completion", "model": "m",
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": "Hello"},
                         "logprobs": {"content": [{"token": "Hello", "logprob": -0.1, "bytes": [72],
                                                   "top_logprobs": []}]}}],
            "usage": {"prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15,
                      "prompt_tokens_details": {"cached_tokens": 8}}}
    body.update(over)
    return json.dumps(body).encode()


def test_reads_text_usage_cached_tokens_and_logprobs():
    reply = parse_completion(_body(), attempts=2)
    assert (reply.text, reply.finish_reason, reply.attempts) == ("Hello", "stop", 2)
    assert (reply.prompt_tokens, reply.cached_tokens, reply.completion_tokens) == (12, 8, 3)
    assert reply.logprobs == [{"token": "Hello", "logprob": -0.1, "bytes": [72], "top_logprobs": []}]


def test_missing_usage_and_null_content_read_as_zero_and_empty():
    body = json.loads(_body(usage=None))
    body["choices"][0]["message"]["content"] = None
    body["choices"][0]["logprobs"] = None
    reply = parse_completion(json.dumps(body).encode(), attempts=1)
    assert (reply.text, reply.prompt_tokens, reply.cached_tokens, reply.completion_tokens) == ("", 0, 0, 0)
    assert reply.logprobs is None


@pytest.mark.parametrize("raw, reason", [
    (b'{"id": "chatcmpl-bad", "choices": [{"index": 0, "mess', "malformed response body"),
    (b'{"error": "overloaded"}', "no field 'choices'"),
    (b'{"choices": []}', "empty `choices`"),
    (b'{"choices": [{"index": 0}]}', "no field 'message'"),
])
def test_bodies_that_are_not_chat_completions_raise_malformed_reply(raw, reason):
    with pytest.raises(MalformedReply, match=reason):
        parse_completion(raw, attempts=1)
