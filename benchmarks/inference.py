"""Inference speed, side by side in one run: the served engine, standalone llama.cpp, the transformers reference.

    python benchmarks/inference.py --json -            # JSON to stdout (progress on stderr)
    python benchmarks/inference.py --runs 5 --new-tokens 96 --json out.json

Each configuration runs in its own subprocess (so ``peak_rss_mb`` is that configuration's), loads its model, answers
once untimed, then times ``--runs`` answers to the same RAG prompt (the production prompt builder on a demo-eval
question and three KB articles, ``evals.engine_parity.demo_cases``), greedy, up to ``--new-tokens`` new tokens:

  served        bankbot's default engine as the chat pipeline calls it (``build_generator``: llama.cpp in-process on
                the merged GGUF, chat-template encoding that keeps user text plain, raw-logit log-probs per token)
  llamacpp      the same GGUF file through llama-cpp-python's own ``Llama.generate``, nothing else: what
                "standalone llama.cpp" costs for the same tokens
  transformers  the fp32 reference path (``HFGenerator``)

Every answer is exactly ``--new-tokens`` long (end-of-turn does not stop it) and every llama.cpp run starts with an
empty KV cache (a new customer's prompt is read in full). Reported per configuration: median (and min/max) time
to first piece, decode tokens/s after it, total seconds; for ``served`` its ratios to standalone llama.cpp (target
total ≤ 1.05) and to transformers (which writes its answer in one piece: its first piece is the whole answer).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from json_output import emit_json  # benchmarks/json_output.py (the script's folder is on sys.path)

CONFIGS = ("served", "llamacpp", "transformers")


def log(message: str) -> None:
    print(f"[inference-bench] {message}", file=sys.stderr, flush=True)


def summarise(samples: list[dict[str, float]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in ("ttft_ms", "decode_tok_s", "total_s", "new_tokens"):
        values = [s[key] for s in samples]
        out[key] = round(statistics.median(values), 3)
        out[f"{key}_min"] = round(min(values), 3)
        out[f"{key}_max"] = round(max(values), 3)
    return out


def timed(pieces: Callable[[], Iterator[Any]], count: Callable[[list[Any]], int]) -> dict[str, float]:
    """Time one answer given as an iterator of pieces; ``count`` says how many new tokens they were."""
    t0 = time.perf_counter()
    first: float | None = None
    seen = []
    for piece in pieces():
        if first is None:
            first = time.perf_counter()
        seen.append(piece)
    t1 = time.perf_counter()
    n = count(seen)
    first = first or t1
    return {
        "ttft_ms": (first - t0) * 1000,
        "decode_tok_s": (n - 1) / (t1 - first) if n > 1 and t1 > first else 0.0,
        "total_s": t1 - t0,
        "new_tokens": n,
    }


def run(
    name: str, answer: Callable[[], dict[str, float]], runs: int, fresh: Callable[[], None]
) -> list[dict[str, float]]:
    answer()  # untimed: first-use costs (allocations)
    samples = []
    for i in range(runs):
        fresh()
        samples.append(answer())
        log(f"{name} run {i + 1}: {samples[-1]}")
    return samples


def worker(config: str, runs: int, new_tokens: int, quant: str | None) -> dict[str, Any]:
    from chatbot.generation import build_generator
    from chatbot.protocols import Generation
    from chatbot.settings import Settings
    from evals.engine_parity import demo_cases

    engine = "transformers" if config == "transformers" else "llama-cpp"
    settings = Settings(llm_engine=engine, **({"gguf_quant": quant} if quant else {}))
    started = time.perf_counter()
    generator: Any = build_generator(settings)
    load_s = time.perf_counter() - started
    messages = demo_cases(generator.count_tokens, n=1)[0].messages
    result: dict[str, Any] = {"engine": getattr(generator, "backend", "?"), "load_s": round(load_s, 2)}
    # Never stop early: every configuration decodes exactly new_tokens (-1 is no token id).
    generator.stop_ids = {-1} if config != "transformers" else [-1]
    llm = getattr(generator, "llm", None)
    fresh = llm.reset if llm is not None else (lambda: None)  # an empty KV cache: the whole prompt is read
    if config in ("served", "transformers"):
        samples = run(
            config,
            lambda: timed(
                lambda: generator.stream(messages, max_new_tokens=new_tokens),
                lambda seen: len(next(p for p in seen if isinstance(p, Generation)).token_logprobs),
            ),
            runs,
            fresh,
        )
    else:
        prompt = generator.encode(messages)  # the same file and the same prompt tokens
        rp = settings.repetition_penalty
        result["gguf"] = str(generator.gguf_path)

        def plain() -> Iterator[int]:
            for n, token in enumerate(llm.generate(prompt, temp=0.0, repeat_penalty=rp, top_k=0, min_p=0.0)):
                yield token
                if n + 1 >= new_tokens:
                    return

        samples = run(config, lambda: timed(plain, len), runs, fresh)
        result["prompt_tokens"] = len(prompt)
    result.update(summarise(samples))
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return result


def run_config(config: str, args: argparse.Namespace) -> dict[str, Any]:
    command = [
        sys.executable,
        __file__,
        "--worker",
        config,
        "--runs",
        str(args.runs),
        "--new-tokens",
        str(args.new_tokens),
    ]
    log(f"{config}: starting")
    proc = subprocess.run(command, stdout=subprocess.PIPE, text=True, timeout=args.timeout)
    if proc.returncode != 0:
        return {"error": f"worker exited with {proc.returncode} (see stderr above)"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def ratios(served: dict[str, Any], other: dict[str, Any], name: str) -> dict[str, Any]:
    if "total_s" not in served or "total_s" not in other:
        return {}
    return {
        f"ratio_total_vs_{name}": round(served["total_s"] / other["total_s"], 3),
        f"ratio_ttft_vs_{name}": round(served["ttft_ms"] / other["ttft_ms"], 3),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--json", metavar="PATH", help="write the JSON report here ('-' for stdout)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--new-tokens", type=int, default=96)
    parser.add_argument("--configs", default=",".join(CONFIGS), help="subset of served,llamacpp,transformers")
    parser.add_argument("--quant", help="GGUF weight type of the served file (default: settings.gguf_quant)")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per configuration")
    parser.add_argument("--worker", choices=CONFIGS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if args.worker:
        print(json.dumps(worker(args.worker, args.runs, args.new_tokens, args.quant)))
        return 0
    load_at_start = round(os.getloadavg()[0], 2)  # a busy machine slows everything: compare ratios, not seconds
    results = {config: run_config(config, args) for config in args.configs.split(",")}
    served = results.get("served", {})
    for other in ("llamacpp", "transformers"):
        if other in results:
            served.update(ratios(served, results[other], other))
    report = {
        "machine": {
            "cpus": os.cpu_count(),
            "load_1m_start": load_at_start,
            "load_1m_end": round(os.getloadavg()[0], 2),
        },
        "configs": results,
    }
    emit_json(report, args.json)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    raise SystemExit(main())
