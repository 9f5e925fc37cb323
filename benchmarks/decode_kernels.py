"""One-row products of SmolLM2's projection shapes with every CPU kernel the back ends could use, and the int8-lean
decode step, on this machine.

    python benchmarks/decode_kernels.py --json -

Why: which kernel is fast for a decode step (one activation row: a matrix-vector product) depends on the CPU —
PyTorch's int4/int8 kernels are fast with AVX512 and slow on AVX2-only CPUs (docs/inference.md, "int8-lean").
Each kernel is timed on copies of its weight cycled through ~100 MB, so the weights come from memory as they do in
a real decode step (one copy would sit in the cache). Reported: median µs per call per shape, the sum over one
decode step of SmolLM2 (30 layers: q/k/v, o, gate/up, down, then the output projection) with the shapes each back
end uses, and the int8-lean decode step itself (1 and 8 rows, random weights of SmolLM2's shapes).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from json_output import emit_json  # benchmarks/json_output.py (the script's folder is on sys.path)

HIDDEN, INTER, KV, LAYERS, VOCAB = 576, 1536, 192, 30, 49152
# (out, in) and calls per decode step, unfused (transformers) and fused (int8-lean stacks q/k/v and gate/up)
UNFUSED = {"q,o": ((HIDDEN, HIDDEN), 2 * LAYERS), "k,v": ((KV, HIDDEN), 2 * LAYERS)}
UNFUSED |= {"gate,up": ((INTER, HIDDEN), 2 * LAYERS), "down": ((HIDDEN, INTER), LAYERS)}
FUSED = {"qkv": ((HIDDEN + 2 * KV, HIDDEN), LAYERS), "o": ((HIDDEN, HIDDEN), LAYERS)}
FUSED |= {"gate_up": ((2 * INTER, HIDDEN), LAYERS), "down": ((HIDDEN, INTER), LAYERS)}
HEAD = {"head": ((VOCAB, HIDDEN), 1)}
POOL_BYTES = 100_000_000


def median_us(call: Callable[[int], Any], copies: int, calls: int) -> float:
    for i in range(5):
        call(i % copies)
    samples = []
    for i in range(calls):
        started = time.perf_counter()
        call(i % copies)
        samples.append((time.perf_counter() - started) * 1e6)
    return round(statistics.median(samples), 1)


Prepare = Callable[[Any], Any]  # fp32 weight -> whatever the kernel multiplies with
Call = Callable[[Any, Any], Any]  # (prepared, x) -> y


def kernels(kernel_dir: Path) -> dict[str, tuple[Prepare, Call]]:
    import torch

    from chatbot.generation import cpu_kernels
    from chatbot.generation.int4_linear import Int4WeightOnlyLinear
    from chatbot.generation.int8_linear import Int8WeightOnlyLinear
    from chatbot.generation.lean_decoder import Int8Matrix

    lean = cpu_kernels.load(kernel_dir)

    def linear(weight: Any) -> Any:
        layer = torch.nn.Linear(weight.shape[1], weight.shape[0], bias=False)
        layer.weight.data.copy_(weight)
        return layer

    def fbgemm(weight: Any) -> Any:
        from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return quantize_dynamic(torch.nn.Sequential(linear(weight)), {torch.nn.Linear: per_channel_dynamic_qconfig})

    return {
        "fp32 F.linear": (linear, lambda m, x: m(x)),
        "int4 _weight_int4pack_mm_for_cpu (bf16)": (
            lambda w: Int4WeightOnlyLinear.from_linear(linear(w)),
            lambda m, x: m(x.bfloat16()),
        ),
        "int8 _weight_int8pack_mm (bf16)": (
            lambda w: Int8WeightOnlyLinear.from_linear(linear(w)),
            lambda m, x: m(x.bfloat16()),
        ),
        "fbgemm dynamic int8": (fbgemm, lambda m, x: m(x)),
        "int8-lean kernel (groups of 32)": (
            lambda w: Int8Matrix.quantize(linear(w)),
            lambda m, x: lean.int8_gemv(x, m.weight, m.scale),
        ),
    }


def lean_step_ms(kernel_dir: Path, rows: int, cache_len: int) -> float:
    """The int8-lean decode step of a randomly initialised model of SmolLM2's shapes."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    from chatbot.generation.lean_decoder import LeanLlama

    config = LlamaConfig(
        vocab_size=VOCAB,
        hidden_size=HIDDEN,
        intermediate_size=INTER,
        num_hidden_layers=LAYERS,
        num_attention_heads=9,
        num_key_value_heads=3,
        max_position_embeddings=2048,
        tie_word_embeddings=True,
    )
    decoder = LeanLlama(LlamaForCausalLM(config).eval(), kernel_dir)
    cache = decoder.new_cache(rows, cache_len + 64)
    keys, values = cache.row_views()
    tokens, positions = torch.full((rows,), 5), torch.full((rows,), cache_len)
    samples = []
    with torch.inference_mode():
        for _ in range(40):
            started = time.perf_counter()
            decoder.step(tokens, positions, positions, keys, values)
            samples.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(samples[5:]), 2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", metavar="PATH", help="'-' for stdout")
    parser.add_argument("--calls", type=int, default=100, help="timed calls per kernel and shape")
    parser.add_argument("--cache-len", type=int, default=430, help="filled KV-cache slots for the decode step")
    args = parser.parse_args(argv)

    import torch

    from chatbot.generation import cpu_kernels
    from chatbot.settings import Settings

    kernel_dir = Settings().kernel_cache_dir
    torch.manual_seed(0)
    report: dict[str, Any] = {
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "cpu_flags_avx": [f for f in cpu_kernels.cpu_flags().split() if f.startswith(("avx", "fma", "amx"))],
        "threads": torch.get_num_threads(),
        "kernels_us": {},
        "decode_step_projections_ms": {},
    }
    shapes = {**UNFUSED, **FUSED, **HEAD}
    with torch.inference_mode():
        for name, (prepare, call) in kernels(kernel_dir).items():
            timings: dict[str, float] = {}
            for shape_name, ((out, inp), _) in shapes.items():
                copies = max(2, min(64, POOL_BYTES // (out * inp)))
                prepared = [prepare(torch.randn(out, inp) * 0.02) for _ in range(copies)]
                x = torch.randn(1, inp)
                timings[shape_name] = median_us(lambda i, p=prepared, x=x, c=call: c(p[i], x), copies, args.calls)
            report["kernels_us"][name] = timings
            layout = FUSED if name.startswith("int8-lean") else UNFUSED
            total = sum(timings[s] * n for s, (_, n) in {**layout, **HEAD}.items()) / 1000
            report["decode_step_projections_ms"][name] = round(total, 1)
            print(f"[decode-kernels] {name}: {timings}", file=sys.stderr, flush=True)
    report["int8_lean_decode_step_ms"] = {
        f"{rows} rows": lean_step_ms(kernel_dir, rows, args.cache_len) for rows in (1, 8)
    }
    emit_json(report, args.json)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    raise SystemExit(main())
