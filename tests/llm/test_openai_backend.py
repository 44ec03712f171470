"""The openai backend: what it reads from a chat.completion body, and how it paces request starts."""

import asyncio
import itertools
import json

import pytest

from slmforge.llm.openai_backend import LaunchPacer, MalformedReply, parse_completion


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


def test_launch_pacer_starts_one_request_per_loop_iteration_in_arrival_order():
    async def run() -> tuple[list[tuple[int, int]], bool]:
        pacer, iteration, started = LaunchPacer(), [0], []
        loop = asyncio.get_running_loop()

        def tick() -> None:  # counts event-loop iterations: one call per iteration
            iteration[0] += 1
            loop.call_soon(tick)

        loop.call_soon(tick)

        async def request(i: int) -> None:
            await pacer.wait()
            started.append((i, iteration[0]))

        tasks = [asyncio.create_task(request(i)) for i in range(8)]
        await asyncio.sleep(0)  # every task is now waiting (or has started)
        tasks[3].cancel()  # a cancelled waiter must not hold up the others
        await asyncio.gather(*tasks, return_exceptions=True)
        for _ in range(3):
            await asyncio.sleep(0)
        before = iteration[0]
        await pacer.wait()  # idle again: starts in the same iteration
        return started, iteration[0] == before

    started, free = asyncio.run(run())
    assert [i for i, _ in started] == [0, 1, 2, 4, 5, 6, 7]  # FIFO, the cancelled one skipped
    iterations = [it for _, it in started]
    assert all(b > a for a, b in itertools.pairwise(iterations))  # never two starts in one iteration
    assert iterations[-1] - iterations[0] <= 2 * len(started)  # and no idle iterations piling up
    assert free  # back to idle: the next request starts at once
