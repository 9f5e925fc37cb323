"""Concurrent chats: N = 1, 4, 8 simultaneous customers, throughput and p95 latency.

    python benchmarks/load.py --json -                       # in-process, threads driving the served generator
    python benchmarks/load.py --concurrency 1,4,8 --rounds 2 --backend int4-weight-only --json out.json

Drives ``HFGenerator.stream`` (the path the web chat uses) from N threads at once, in-process: the Gradio app's HTTP
API was still being built when this was written, and the generator is where concurrency is decided (today one
lock serialises chats: N customers wait N answers). Each thread streams ``--rounds`` answers to different demo
questions (fixed prompts, ``--max-new-tokens`` each); bounded by the number of requests and ``--timeout``, so it
stops by itself. Reported per N: requests, errors, answers/s, tokens/s, p50/p95 latency (request start to the
final token) and p95 time to first streamed text, and p95 relative to the N=1 median.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in [0, 100]) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), -(-len(ordered) * q // 100)))
    return ordered[int(rank) - 1]


def one_level(generator: Any, prompts: list[Any], n: int, rounds: int, max_new: int, timeout: float) -> dict[str, Any]:
    latencies: list[float] = []
    first_text: list[float] = []
    tokens: list[int] = []
    errors: list[str] = []
    lock = threading.Lock()
    deadline = time.monotonic() + timeout

    def chat(worker: int) -> None:
        for r in range(rounds):
            if time.monotonic() > deadline:
                return
            messages = prompts[(worker * rounds + r) % len(prompts)]
            started = time.perf_counter()
            first: float | None = None
            try:
                for piece in generator.stream(messages, max_new_tokens=max_new):
                    if isinstance(piece, str) and first is None:
                        first = time.perf_counter() - started
                    elif not isinstance(piece, str):
                        with lock:
                            tokens.append(len(piece.token_logprobs))
            except Exception as exc:  # a load test counts errors instead of stopping
                with lock:
                    errors.append(f"{type(exc).__name__}: {exc}")
                continue
            with lock:
                latencies.append(time.perf_counter() - started)
                first_text.append(first if first is not None else latencies[-1])

    started = time.perf_counter()
    threads = [threading.Thread(target=chat, args=(w,), daemon=True) for w in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()) + 60)
    wall = time.perf_counter() - started
    return {
        "concurrency": n,
        "requests": n * rounds,
        "completed": len(latencies),
        "errors": len(errors),
        "error_samples": errors[:3],
        "wall_s": round(wall, 2),
        "answers_per_s": round(len(latencies) / wall, 3),
        "tokens_per_s": round(sum(tokens) / wall, 1),
        "latency_p50_s": round(statistics.median(latencies), 3) if latencies else None,
        "latency_p95_s": round(percentile(latencies, 95), 3) if latencies else None,
        "first_text_p95_s": round(percentile(first_text, 95), 3) if first_text else None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", metavar="PATH", help="write the JSON report here ('-' for stdout)")
    parser.add_argument("--backend", help="inference back end (default: settings.inference_backend)")
    parser.add_argument("--concurrency", default="1,4,8")
    parser.add_argument("--rounds", type=int, default=2, help="answers per simulated customer")
    parser.add_argument("--max-new-tokens", type=int, default=96)
    parser.add_argument("--timeout", type=float, default=900, help="seconds per concurrency level")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    from chatbot.generation.hf import HFGenerator
    from chatbot.generation.quality_guard import guard_cases
    from chatbot.settings import Settings

    settings = Settings(**({"inference_backend": args.backend} if args.backend else {}))
    generator = HFGenerator(settings)  # warmed up (compiled) before any timing
    count = generator.count_tokens
    prompts = [case.messages for case in guard_cases(count, n=8)]
    levels = [int(n) for n in args.concurrency.split(",")]
    results = []
    for n in levels:
        print(f"[load-bench] {n} concurrent chats x {args.rounds} rounds", file=sys.stderr, flush=True)
        results.append(one_level(generator, prompts, n, args.rounds, args.max_new_tokens, args.timeout))
        print(f"[load-bench] {results[-1]}", file=sys.stderr, flush=True)
    single = next((r["latency_p50_s"] for r in results if r["concurrency"] == 1), None)
    for r in results:
        if single and r["latency_p95_s"]:
            r["p95_vs_single"] = round(r["latency_p95_s"] / single, 2)  # target at N=8: <= 3
    report = {
        "driver": "in-process threads -> HFGenerator.stream",
        "backend": generator.backend,
        "load_avg_1m": round(os.getloadavg()[0], 2),
        "levels": results,
    }
    text = json.dumps(report, indent=2)
    if args.json and args.json != "-":
        Path(args.json).write_text(text + "\n", encoding="utf-8")
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    raise SystemExit(main())
