"""The fast decode path of the compiled back ends: a static KV cache sized in steps, ``torch.compile`` of the decode
step through transformers' ``CompileConfig``, and the warm-up that compiles it before the first customer.

Used by ``chatbot.generation.backends`` (which back end, cached weights, quality guard) and ``hf.HFGenerator``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Static caches are allocated in steps of this many tokens. The decode step attends over the whole cache, so its
# length costs time (SmolLM2 int4: 33 ms a step at 1,024 tokens, 27 ms at 512); the step is compiled with a
# symbolic cache length (dynamic=True), so finer steps cost no extra compiles.
CACHE_STEP = 128


def cache_bucket(needed: int) -> int:
    """Static-cache length for ``needed`` tokens: rounded up to a multiple of ``CACHE_STEP``."""
    return max(1, -(-needed // CACHE_STEP)) * CACHE_STEP


@dataclass
class FastPath:
    """Static KV cache + ``torch.compile`` for ``model.generate``: adds keyword arguments to each call."""

    model: Any
    enabled: bool = True

    def kwargs(self, prompt_tokens: int, max_new_tokens: int) -> dict[str, Any]:
        if not self.enabled:
            return {}
        from transformers import StaticCache
        from transformers.generation.configuration_utils import CompileConfig

        # dynamic=True: one graph for every cache length and batch size, compiled once at warm-up (with None the
        # first new length or batch size would recompile, in front of a customer)
        compile_config = CompileConfig(fullgraph=False, dynamic=True, mode="default")
        # transformers compiles decoding automatically on GPUs only; this flag opts CPUs in.
        compile_config._compile_all_devices = True  # type: ignore[assignment]
        cache = StaticCache(config=self.model.config, max_cache_len=cache_bucket(prompt_tokens + max_new_tokens))
        return {"past_key_values": cache, "compile_config": compile_config}


def use_compile_cache(models_dir: Path) -> None:
    """Keep torch.compile's kernels next to the models so a restart reuses them (set before the first compile)."""
    os.environ.setdefault("TORCHINDUCTOR_CACHE_DIR", str(Path(models_dir) / "inductor-cache"))


def warm_up(
    generate: Callable[[list[dict[str, str]], int], Any],
    rounds: int = 2,
    generate_batch: Callable[[list[list[dict[str, str]]], int], Any] | None = None,
) -> float:
    """Run a realistic-length prompt through the serving path so compilation happens before the first customer.

    Two rounds: the first compiles, the second checks no recompilation is left (and pays any lazy one-offs).
    With ``generate_batch`` (the server batches concurrent chats) a batch of two and one of three follow: the first
    batch size other than one recompiles with a dynamic batch dimension, the next one checks it is reused.
    Returns the seconds spent.
    """
    started = time.perf_counter()
    filler = " ".join(["Card payments, transfers, fees and limits are explained in the passages."] * 24)
    messages = [
        {"role": "system", "content": "You are the customer support assistant of a bank."},
        {"role": "user", "content": f"Context:\n{filler}\n\nQuestion: How do I top up my account?"},
    ]
    for _ in range(rounds):
        generate(messages, 4)
    if generate_batch is not None:
        for size in (2, 3):
            generate_batch([messages] * size, 4)
    return time.perf_counter() - started
