"""The compiled decode path's pure parts: static-cache sizing and what warm-up runs (tests/test_backends.py covers
the static cache with a model, and the slow SmolLM2 test the compile itself)."""

from __future__ import annotations

from chatbot.generation import fast_path


def test_cache_bucket_rounds_up_to_the_cache_step() -> None:
    assert fast_path.CACHE_STEP == 128
    assert fast_path.cache_bucket(0) == 128
    assert fast_path.cache_bucket(1) == 128
    assert fast_path.cache_bucket(128) == 128
    assert fast_path.cache_bucket(522) == 640  # the inference benchmark: 426 prompt + 96 new tokens
    assert fast_path.cache_bucket(2049) == 2176


def test_warm_up_runs_single_prompts_then_two_batch_sizes() -> None:
    calls: list[tuple[str, int]] = []
    fast_path.warm_up(
        lambda messages, n: calls.append(("one", n)),
        generate_batch=lambda batch, n: calls.append((f"batch of {len(batch)}", n)),
    )
    assert calls == [("one", 4), ("one", 4), ("batch of 2", 4), ("batch of 3", 4)]
    calls.clear()
    fast_path.warm_up(lambda messages, n: calls.append(("one", n)), rounds=1)
    assert calls == [("one", 4)]
