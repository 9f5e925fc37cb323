"""Micro-batching of concurrent chats: who is batched with whom, streams routed per row, errors, text deltas."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

import pytest

from chatbot.generation.batching import Batcher, BatchRequest, RowStreamer, TextDeltas
from chatbot.protocols import Generation


class Recorder:
    """A fake RunBatch: answers each request with its question reversed, streamed in two pieces."""

    def __init__(self, gate: threading.Event | None = None, fail: bool = False) -> None:
        self.batches: list[list[str]] = []
        self.gate = gate
        self.fail = fail

    def __call__(self, requests: Sequence[BatchRequest], emit: Callable[[int, str], None]) -> list[Generation]:
        if self.gate is not None:
            self.gate.wait(5)
        questions = [str(r.messages[-1]["content"]) for r in requests]
        self.batches.append(questions)
        if self.fail:
            raise RuntimeError("model crashed")
        for row, q in enumerate(questions):
            emit(row, q[::-1][:2])
            emit(row, q[::-1][2:])
        return [Generation(text=q[::-1], token_logprobs=[-0.1] * len(q), prompt_tokens=3) for q in questions]


def ask(batcher: Batcher, question: str, max_new: int = 16) -> list[object]:
    return list(batcher.stream([{"role": "user", "content": question}], max_new))


def in_threads(batcher: Batcher, questions: list[str], max_new: list[int] | None = None) -> dict[str, list[object]]:
    results: dict[str, list[object]] = {}
    budgets = max_new or [16] * len(questions)

    def run(q: str, n: int) -> None:
        results[q] = ask(batcher, q, n)

    threads = [threading.Thread(target=run, args=(q, n)) for q, n in zip(questions, budgets, strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    return results


def test_a_lone_request_is_answered_alone_with_its_pieces_then_the_generation() -> None:
    run = Recorder()
    batcher = Batcher(run, max_batch=8, window_s=0.0)
    items = ask(batcher, "abcd")
    assert items[:2] == ["dc", "ba"]
    assert isinstance(items[2], Generation) and items[2].text == "dcba"
    assert run.batches == [["abcd"]] and batcher.batch_sizes == [1]


def test_requests_arriving_together_share_one_batch_and_each_gets_its_own_answer() -> None:
    gate = threading.Event()
    run = Recorder(gate)
    batcher = Batcher(run, max_batch=8, window_s=0.05)
    first = threading.Thread(target=ask, args=(batcher, "warm"))
    first.start()  # occupies the worker (blocked on the gate) so the next five queue up together
    while not batcher.batch_sizes:
        threading.Event().wait(0.005)
    questions = [f"q{i}x" for i in range(5)]
    results: dict[str, list[object]] = {}
    waiting = threading.Thread(target=lambda: results.update(in_threads(batcher, questions)))
    waiting.start()
    while len(batcher._pending) < 5:
        threading.Event().wait(0.005)
    gate.set()
    waiting.join(10)
    first.join(10)
    assert batcher.batch_sizes == [1, 5]
    assert sorted(run.batches[1]) == sorted(questions)
    for q in questions:
        pieces, final = results[q][:-1], results[q][-1]
        assert "".join(str(p) for p in pieces) == q[::-1]
        assert isinstance(final, Generation) and final.text == q[::-1]


def test_max_batch_and_token_budget_split_batches() -> None:
    gate = threading.Event()
    run = Recorder(gate)
    batcher = Batcher(run, max_batch=2, window_s=0.05)
    blocker = threading.Thread(target=ask, args=(batcher, "warm"))
    blocker.start()
    while not batcher.batch_sizes:
        threading.Event().wait(0.005)
    results: dict[str, list[object]] = {}
    questions = ["a1", "a2", "a3", "b1"]
    waiting = threading.Thread(target=lambda: results.update(in_threads(batcher, questions, [16, 16, 16, 32])))
    waiting.start()
    while len(batcher._pending) < 4:
        threading.Event().wait(0.005)
    gate.set()
    waiting.join(10)
    blocker.join(10)
    # at most 2 a batch, and the 32-token request never rides with the 16-token ones
    assert sorted(batcher.batch_sizes) == [1, 1, 1, 2]
    assert all(len({q[0] for q in b}) == 1 for b in run.batches[1:])
    assert set(results) == set(questions)


def test_a_failing_batch_raises_in_every_caller_and_the_worker_survives() -> None:
    run = Recorder(fail=True)
    batcher = Batcher(run, max_batch=4, window_s=0.0)
    with pytest.raises(RuntimeError, match="model crashed"):
        ask(batcher, "boom")
    run.fail = False
    assert batcher.generate([{"role": "user", "content": "ok"}], 8).text == "ko"


def test_max_batch_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        Batcher(Recorder(), max_batch=0)


def test_row_streamer_skips_the_prompt_then_routes_one_token_per_row() -> None:
    import torch

    seen: list[tuple[int, int]] = []
    streamer = RowStreamer(lambda row, token: seen.append((row, token)))
    streamer.put(torch.tensor([[5, 6, 7], [8, 9, 10]]))  # the prompt
    streamer.put(torch.tensor([11, 12]))
    streamer.put(torch.tensor([[13], [14]]))
    streamer.end()
    assert seen == [(0, 11), (1, 12), (0, 13), (1, 14)]


def test_text_deltas_per_row_stop_at_a_stop_token_and_wait_for_whole_characters() -> None:
    vocab = {1: "Hel", 2: "lo", 3: " world", 4: "\ufffd", 9: "<eos>"}

    def decode(ids: list[int]) -> str:
        text = "".join(vocab[i] for i in ids)
        return text.replace("\ufffd\ufffd", "é")  # two byte-pieces make one character

    deltas = TextDeltas(decode, rows=2, stop_ids=[9])
    assert [deltas.add(0, t) for t in (1, 2, 3)] == ["Hel", "lo", " world"]
    assert [deltas.add(1, t) for t in (4, 4, 1)] == ["", "é", "Hel"]
    assert deltas.add(0, 9) == "" and deltas.add(0, 1) == ""  # nothing after the stop token
