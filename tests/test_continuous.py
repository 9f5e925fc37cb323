"""Continuous batching (int8-lean): chats join a running batch at the next decode step, and each chat's answer is
exactly what ``LeanModel.generate`` gives it alone (tokens, raw-logit log-probs, streamed text).

Real pieces: the tiny Llama of tests/test_backends.py served by ``LeanLlama`` with the real C++ kernel.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from chatbot.generation import cpu_kernels
from chatbot.generation.continuous import ContinuousBatcher, Sampling
from chatbot.generation.lean_decoder import LeanLlama
from chatbot.generation.lean_generate import LeanModel
from chatbot.protocols import Generation
from tests.test_backends import VOCAB, _load, tiny_dir  # noqa: F401  (tiny_dir: a fixture)

STOPS = [0]
PENALTY = 1.3


@pytest.fixture(scope="module")
def lean(tiny_dir: Path) -> LeanModel:  # noqa: F811
    return LeanModel(LeanLlama(_load(tiny_dir), cpu_kernels.DEFAULT_DIR))


def prompt(seed: int, length: int) -> list[int]:
    return [2 + (seed * 31 + i * 7) % (VOCAB - 2) for i in range(length)]


def encode(messages: Any) -> Any:
    import torch

    content = messages[0]["content"]  # (seed, length), or the token ids themselves
    return torch.tensor(content if isinstance(content, list) else prompt(*content))


def decode(ids: list[int]) -> str:
    return " ".join(str(i) for i in ids)


def alone(lean: LeanModel, ids: list[int], budget: int) -> tuple[list[int], list[float], bool]:
    """What LeanModel.generate answers to one prompt: (answer tokens before the stop, their log-probs, stopped)."""
    import torch

    out = lean.generate(
        input_ids=torch.tensor([ids]),
        max_new_tokens=budget,
        repetition_penalty=PENALTY,
        eos_token_id=STOPS,
        pad_token_id=0,
        return_dict_in_generate=True,
        output_logits=True,
    )
    new = out.sequences[0, len(ids) :].tolist()
    end = next((i for i, t in enumerate(new) if t in STOPS), None)
    kept = new if end is None else new[:end]
    logprobs = [torch.log_softmax(lg[0], -1)[t].item() for lg, t in zip(out.logits, kept, strict=False)]
    return kept, logprobs, end is not None


def engine(lean: LeanModel, max_rows: int = 8) -> ContinuousBatcher:
    return ContinuousBatcher(
        lean.decoder, encode=encode, decode=decode, stop_ids=STOPS, sampling=Sampling(PENALTY), max_rows=max_rows
    )


def ask(batcher: ContinuousBatcher, seed: int, length: int, budget: int, results: dict[int, Any]) -> threading.Thread:
    def run() -> None:
        results[seed] = list(batcher.stream([{"role": "user", "content": (seed, length)}], budget))  # type: ignore[dict-item]

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def check_equal_to_alone(lean: LeanModel, pieces: list[Any], seed: int, length: int, budget: int) -> None:
    tokens, logprobs, stopped = alone(lean, prompt(seed, length), budget)
    final = pieces[-1]
    assert isinstance(final, Generation)
    assert final.text == decode(tokens) and final.finished == stopped and final.prompt_tokens == length
    assert final.token_logprobs == pytest.approx(logprobs, abs=1e-4)
    assert "".join(p for p in pieces[:-1] if isinstance(p, str)).strip() == final.text  # streamed as it went


def wait_for(condition: Any) -> None:
    deadline = time.monotonic() + 30
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.001)


def test_chats_that_join_a_running_batch_get_the_answers_they_get_alone(
    lean: LeanModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a long first chat: a seed whose answer does not stop within its 40 tokens on the tiny model
    long_seed = next(s for s in range(1, 50) if not alone(lean, prompt(s, 23), 40)[2])
    chats = [(long_seed, 23, 40), (101, 9, 12), (102, 31, 5), (103, 17, 20)]
    batcher = engine(lean)
    results: dict[int, Any] = {}
    others: list[threading.Thread] = []
    real_step, calls = lean.decoder.step, {"n": 0}

    def step_then_three_arrive(*args: Any) -> Any:
        # inside the first chat's second decode step (the worker holds the model): the others arrive together,
        # so they join at the next step whatever the threads' timing
        calls["n"] += 1
        out = real_step(*args)
        if calls["n"] == 2:
            others.extend(ask(batcher, *chat, results) for chat in chats[1:])
            wait_for(lambda: len(batcher._pending) == 3)
        return out

    monkeypatch.setattr(lean.decoder, "step", step_then_three_arrive)
    first = ask(batcher, *chats[0], results)
    first.join(60)
    for thread in others:
        thread.join(60)
    assert list(batcher.step_rows)[:3] == [1, 1, 4]  # one chat alone for two steps, then four in the same steps
    for chat in chats:
        check_equal_to_alone(lean, results[chat[0]], *chat)


def test_more_chats_than_rows_wait_for_a_free_row(lean: LeanModel) -> None:
    batcher = engine(lean, max_rows=2)
    results: dict[int, Any] = {}
    with batcher._lock:
        threads = [ask(batcher, seed, 8 + seed, 6, results) for seed in range(5)]
        wait_for(lambda: len(batcher._pending) == 5)
    for thread in threads:
        thread.join(60)
    assert max(batcher.step_rows) == 2
    # what the engine spent its time on: a time for every step and for each of the five prompt passes
    assert len(batcher.step_seconds) == len(batcher.step_rows) and len(batcher.prompt_seconds) == 5
    assert all(s > 0 for s in batcher.step_seconds + batcher.prompt_seconds)
    for seed in range(5):
        check_equal_to_alone(lean, results[seed], seed, 8 + seed, 6)


def test_a_prompt_too_long_is_refused_alone_and_a_failing_step_fails_only_its_chats(lean: LeanModel) -> None:
    batcher = engine(lean)
    with pytest.raises(ValueError, match="exceed the int8-lean back end's 4096 positions"):
        batcher.generate([{"role": "user", "content": (1, 4090)}], 10)
    broken = engine(lean)
    real_step = lean.decoder.step
    calls = {"n": 0}

    def flaky_step(*args: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("simulated kernel failure")
        return real_step(*args)

    broken.decoder = type("D", (), {})()  # a stand-in decoder that fails its second step
    for name in ("check_room", "vocab", "layers", "new_cache", "prefill", "logits"):
        setattr(broken.decoder, name, getattr(lean.decoder, name))
    broken.decoder.step = flaky_step  # type: ignore[attr-defined]
    with pytest.raises(RuntimeError, match="simulated kernel failure"):
        broken.generate([{"role": "user", "content": (5, 12)}], 10)
    # the worker carries on: the next chat is answered as it would be alone
    final = broken.generate([{"role": "user", "content": (6, 12)}], 6)
    assert final.text == decode(alone(lean, prompt(6, 12), 6)[0])


def test_sampling_draws_from_the_temperature_and_top_p_distribution(lean: LeanModel) -> None:
    import torch

    batcher = ContinuousBatcher(
        lean.decoder, encode=encode, decode=decode, stop_ids=STOPS, sampling=Sampling(1.0, 0.7, 0.9)
    )
    torch.manual_seed(0)
    answers = {batcher.generate([{"role": "user", "content": (7, 15)}], 8).text for _ in range(4)}
    assert len(answers) > 1  # draws, not argmax
    with pytest.raises(ValueError, match="max_rows"):
        engine(lean, max_rows=0)


def test_a_prompt_read_from_cached_positions_gives_the_same_logits(lean: LeanModel) -> None:
    import torch

    decoder, ids = lean.decoder, torch.tensor([prompt(8, 40)])
    with torch.inference_mode():
        full = decoder.new_cache(1, 50)
        expected = decoder.logits(decoder.prefill(ids, torch.ones_like(ids), full))
        part = decoder.new_cache(1, 50)
        decoder.prefill(ids[:, :25], torch.ones(1, 25, dtype=torch.long), part)
        rest = decoder.logits(decoder.prefill(ids[:, 25:], torch.ones(1, 15, dtype=torch.long), part, 25))
    assert part.length == full.length == 40
    assert torch.allclose(rest, expected[:, 25:], atol=1e-4)
    for mine, theirs in zip(part.keys + part.values, full.keys + full.values, strict=True):
        assert torch.allclose(mine[:, :, :40], theirs[:, :, :40], atol=1e-5)
    with pytest.raises(ValueError, match="one row without padding"):
        decoder.prefill(ids[:, 25:], torch.tensor([[0] * 5 + [1] * 10]), part, 25)


def test_a_shared_beginning_is_read_once_and_answers_stay_the_same(lean: LeanModel) -> None:
    batcher = engine(lean)
    system = prompt(9, 20)  # every chat's prompt starts with the same system prompt
    first, second = [*system, *prompt(10, 7)], [*system, *prompt(11, 12)]
    answers = [batcher.generate([{"role": "user", "content": ids}], 8) for ids in (first, second, second)]
    # the second prompt copies the 20 shared positions; the third repeats the second: all but its last token
    assert batcher.reused_tokens == 20 + len(second) - 1
    for ids, answer in zip((first, second, second), answers, strict=True):
        tokens, logprobs, _ = alone(lean, ids, 8)
        assert answer.text == decode(tokens)
        assert answer.token_logprobs == pytest.approx(logprobs, abs=1e-4)
