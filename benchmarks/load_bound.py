"""The floor under load.py's 8-chat p95 on this machine: what any scheduler could reach, from measured costs.

    python benchmarks/load_bound.py --json -
    BANKBOT_MODEL_CACHE_DIR=/tmp/inf-data/models python benchmarks/load_bound.py --json out.json   # reuse a cache

Why: ``load.py`` measures p95 latency for 8 customers asking 2 questions each; issue #8 wants it within 3× of a
single chat. This script measures, in-process on the served model (the int8-lean back end with continuous
batching, the demo knowledge base ingested into a temporary folder, the same 16 demo questions load.py's 8
customers ask, each prompt built by the production pipeline):

1. **single**: the 16 answers one after another — latency, answer tokens, each prompt pass and 1-row decode step;
2. **concurrent**: 8 threads asking 2 questions each at once, as load.py's customers — decode steps of b rows;
3. **batched prompt pass**: the first 8 prompts in one left-padded prompt pass against 8 single passes, so the
   floor does not assume prompts cannot be batched cheaper when they can;
4. **one thread**: 8 prompt passes and decode steps of 1 and 8 rows on one thread against all threads, so the
   floor does not assume the cores are best used together on one piece of work (two chats on a core each may get
   more done than both cores on one chat);
5. **perfect prefix cache**: the positions of the 16 prompts that no earlier prompt shares (their prefix tree's
   nodes) against the positions the served engine computed, so the floor does not assume the served engine's
   reuse of shared beginnings (the previous prompt's) is the best there is.

Then ``chatbot.generation.capacity`` turns them into the floor of the slowest answer (= the nearest-rank p95 of 16
answers) under ANY scheduler, its ratio to the single-chat median, the same floor counting prompt passes only, and
the longest prompt pass with which 3× would still be reachable.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from json_output import emit_json  # benchmarks/json_output.py (the script's folder is on sys.path)
from load import WARM_UP_QUESTION, demo_questions, percentile  # benchmarks/load.py: the same questions and p95

ROOT = Path(__file__).resolve().parents[1]


def log(message: str) -> None:
    print(f"[load-bound] {message}", file=sys.stderr, flush=True)


def step_medians(batcher: Any) -> dict[int, float]:
    """Median seconds of the engine's recorded decode steps, by chats in the step; then forget them."""
    by_rows: dict[int, list[float]] = defaultdict(list)
    for rows, seconds in zip(batcher.step_rows, batcher.step_seconds, strict=True):
        by_rows[rows].append(seconds)
    batcher.step_rows.clear()
    batcher.step_seconds.clear()
    return {rows: statistics.median(values) for rows, values in sorted(by_rows.items())}


def raw_costs(decoder: Any, prompts: list[Any], steps: int = 6) -> dict[str, float]:
    """Seconds of the prompt passes of these prompts (each alone, nothing reused) and the median decode step for
    1 and for all of them (each row its own cache, as served), with torch's current thread count."""
    import torch

    caches, prompt_s = [], 0.0
    for ids in prompts:
        cache = decoder.new_cache(1, ids.numel() + steps)
        t0 = time.perf_counter()
        decoder.prefill(ids[None], torch.ones(1, ids.numel(), dtype=torch.long), cache)
        prompt_s += time.perf_counter() - t0
        caches.append(cache)
    views = [cache.row_views() for cache in caches]
    out = {"prompt_s": prompt_s}
    for rows in (1, len(prompts)):
        times = []
        for i in range(steps):
            keys = [views[r][0][layer] for layer in range(len(decoder.layers)) for r in range(rows)]
            values = [views[r][1][layer] for layer in range(len(decoder.layers)) for r in range(rows)]
            positions = torch.tensor([prompts[r].numel() + i for r in range(rows)])
            t0 = time.perf_counter()
            decoder.step(torch.ones(rows, dtype=torch.long), positions, positions, keys, values)
            times.append(time.perf_counter() - t0)
        out[f"step_{rows}_s"] = statistics.median(times)
    return out


def measure(args: argparse.Namespace) -> dict[str, Any]:
    import torch

    from chatbot.app import build_app
    from chatbot.generation.capacity import (
        AnswerCost,
        cheapest_token_s,
        distinct_prefix_tokens,
        prompt_pass_needed_s,
        slowest_latency_floor,
    )
    from chatbot.generation.continuous import ContinuousBatcher
    from chatbot.settings import Settings

    app = build_app(Settings(inference_backend=args.backend, max_new_tokens=args.max_new_tokens))
    questions = demo_questions()
    asked = [questions[i % len(questions)] for i in range(args.customers * args.rounds)]  # load.py's order
    turns = [app.pipeline._prepare(q, None, None, None) for q in asked]
    if any(t.messages is None for t in turns):
        raise SystemExit("a demo question was not sent to the model (out of scope or refused); see the demo eval set")
    messages = [t.messages or [] for t in turns]
    generator: Any = app.pipeline.generator
    batcher = generator.batcher
    if not isinstance(batcher, ContinuousBatcher):
        raise SystemExit(
            f"the served engine is {type(batcher).__name__} (back end {generator.backend}); this floor is measured "
            "on the int8-lean back end's continuous batching: --backend int8-lean, BANKBOT_BATCH_SCHEDULER=continuous"
        )
    log(f"serving {generator.backend}; warming up")
    warm_up = app.pipeline._prepare(WARM_UP_QUESTION, None, None, None).messages or []
    generator.generate(warm_up)  # as load.py warms up: another question, so the first prompt is not read twice
    step_medians(batcher)  # forget the warm-up's steps

    # 1. single chats, one after another
    costs, single_latency, computed = [], [], 0
    encoded = [batcher.encode(m) for m in messages]
    prompts = [ids.tolist() for ids in encoded]
    for m, ids in zip(messages, prompts, strict=True):
        reused = batcher.reused_tokens
        started = time.perf_counter()
        answer = generator.generate(m)
        single_latency.append(time.perf_counter() - started)
        costs.append(AnswerCost(batcher.prompt_seconds[-1], len(answer.token_logprobs)))
        computed += len(ids) - (batcher.reused_tokens - reused)
    single_steps = step_medians(batcher)  # one row each
    log(f"single: median {statistics.median(single_latency):.2f} s, steps {single_steps}")

    # 2. customers at once, each asking its questions back to back (load.py's closed load, without HTTP)
    concurrent_latency: list[float] = []
    lock = threading.Lock()

    def customer(index: int) -> None:
        for r in range(args.rounds):
            started = time.perf_counter()
            generator.generate(messages[index * args.rounds + r])
            with lock:
                concurrent_latency.append(time.perf_counter() - started)

    started = time.perf_counter()
    threads = [threading.Thread(target=customer, args=(i,)) for i in range(args.customers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    concurrent_wall = time.perf_counter() - started
    steps = {**step_medians(batcher), 1: single_steps[1]}  # a lone row's step from the quiet single phase
    log(f"concurrent: wall {concurrent_wall:.1f} s, steps {steps}")

    # 3. one left-padded prompt pass for several prompts against single passes of the same prompts
    batch = messages[: args.customers]
    decoder = batcher.decoder
    cores = torch.get_num_threads()
    with generator._lock, torch.inference_mode():
        inputs = generator._encode(batch)
        t0 = time.perf_counter()
        width = inputs["input_ids"].shape[1]
        decoder.prefill(inputs["input_ids"], inputs["attention_mask"], decoder.new_cache(len(batch), width))
        batched = time.perf_counter() - t0
        # 4. the same work on one thread: two chats on a core each may get more done than both cores on one chat
        all_threads = raw_costs(decoder, encoded[: len(batch)])
        torch.set_num_threads(1)
        try:
            one_thread = raw_costs(decoder, encoded[: len(batch)])
        finally:
            torch.set_num_threads(cores)
    singles = all_threads["prompt_s"]
    batched_vs_single = batched / singles
    # machine seconds per unit of work, at best: all cores on it, or one core each for `cores` such units at once
    thread_scale = {key: min(1.0, one_thread[key] / cores / all_threads[key]) for key in all_threads}
    log(f"prompt passes: {len(batch)} single {singles:.2f} s, one batch {batched:.2f} s; {all_threads} / {one_thread}")

    # the floor: prompt passes as served, made cheaper by batching if it measured cheaper, and by reading only the
    # positions a perfect prefix cache could not share
    # the warm-up prompt was cached before the 16 as well: count only the positions the 16 add to the tree
    warm_ids = batcher.encode(warm_up).tolist()
    distinct = distinct_prefix_tokens([warm_ids, *prompts]) - len(warm_ids)
    scale = min(1.0, batched_vs_single) * min(1.0, distinct / computed) * thread_scale["prompt_s"]
    floor_costs = [AnswerCost(c.prompt_s * scale, c.tokens) for c in costs]
    token_steps = dict(steps)
    for rows in {1, len(batch)} & token_steps.keys():
        token_steps[rows] *= thread_scale[f"step_{rows}_s"]
    token_s = cheapest_token_s(token_steps)
    floor = slowest_latency_floor(floor_costs, token_s, args.rounds)
    prompt_floor = slowest_latency_floor([AnswerCost(c.prompt_s, 0) for c in floor_costs], token_s, args.rounds)
    single_p50 = statistics.median(single_latency)
    mean_tokens = statistics.fmean(c.tokens for c in costs)
    needed = prompt_pass_needed_s(
        customers=args.customers,
        target_ratio=args.target,
        mean_tokens=mean_tokens,
        single_token_s=steps[1],
        token_s=token_s,
    )
    return {
        "backend": generator.backend,
        "batch_scheduler": "continuous",
        "customers": args.customers,
        "rounds": args.rounds,
        "max_new_tokens": args.max_new_tokens,
        "prompt_tokens_mean": round(statistics.fmean(len(ids) for ids in prompts), 1),
        "prompt_positions_computed": computed,
        "prompt_positions_distinct": distinct,
        "answer_tokens_mean": round(mean_tokens, 1),
        "prompt_pass_s_mean": round(statistics.fmean(c.prompt_s for c in costs), 3),
        "decode_step_ms_by_rows": {rows: round(s * 1000, 1) for rows, s in steps.items()},
        "cheapest_token_ms": round(token_s * 1000, 2),
        "batched_prompt_pass_vs_single": round(batched_vs_single, 3),
        "one_thread_s": {key: round(v, 4) for key, v in one_thread.items()},
        "all_threads_s": {key: round(v, 4) for key, v in all_threads.items()},
        "threads": cores,
        "single_latency_p50_s": round(single_p50, 3),
        "concurrent_latency_p95_s": round(percentile(concurrent_latency, 95), 3),
        "concurrent_wall_s": round(concurrent_wall, 2),
        "floor_slowest_latency_s": round(floor, 3),
        "floor_ratio_vs_single": round(floor / single_p50, 2),
        "floor_ratio_prompt_passes_only": round(prompt_floor / single_p50, 2),
        "target_ratio": args.target,
        "target_reachable_here": floor / single_p50 <= args.target,
        "prompt_pass_needed_s": None if needed is None else round(needed, 3),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", metavar="PATH", help="write the JSON report here ('-' for stdout)")
    parser.add_argument("--backend", default="int8-lean", help="inference back end (continuous batching: int8-lean)")
    parser.add_argument("--customers", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2, help="questions per customer, as load.py")
    parser.add_argument("--max-new-tokens", type=int, default=96, help="answer budget, as load.py")
    parser.add_argument("--target", type=float, default=3.0, help="p95 / single-chat median asked for")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    load_at_start = round(os.getloadavg()[0], 2)
    with tempfile.TemporaryDirectory(prefix="bankbot-bound-") as tmp:
        os.environ["BANKBOT_DATA_DIR"] = tmp  # set BANKBOT_MODEL_CACHE_DIR to reuse converted models
        log(f"ingesting the demo knowledge base into {os.environ['BANKBOT_DATA_DIR']}")
        bankbot = [sys.executable, "-m", "chatbot.cli"]
        subprocess.run([*bankbot, "ingest", "--no-progress"], check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
        result = measure(args)
    report = {
        "machine": {
            "cpus": os.cpu_count(),
            "load_avg_1m_at_start": load_at_start,
            "load_avg_1m_at_end": round(os.getloadavg()[0], 2),
        },
        **result,
    }
    emit_json(report, args.json)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
