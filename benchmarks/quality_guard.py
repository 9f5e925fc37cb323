"""The inference quality guard of each back end against fp32, on the served base model. Prints JSON.

    python benchmarks/quality_guard.py --json -                                   # bf16, int8, int4; 12 prompts
    python benchmarks/quality_guard.py --backends int4-weight-only --prompts 4 --json out.json

Runs ``chatbot.generation.backends.guard_backend`` (what ``BANKBOT_INFERENCE_BACKEND=auto`` and every explicit back
end run at start, docs/inference.md) in a fresh temporary serving folder, so nothing cached is reused: quantizing,
the fp32 reference answers and the candidate's answers are all computed in this run. Reports each back end's
metrics, the tolerance, pass/fail and seconds.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from json_output import emit_json  # benchmarks/json_output.py (the script's folder is on sys.path)

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backends", default="int8-lean,bf16,int8-weight-only,int4-weight-only")
    parser.add_argument("--prompts", type=int, default=0, help="guard prompts (default: the guard's 12)")
    parser.add_argument("--json", metavar="PATH", help="write the JSON report here ('-' for stdout)")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    from chatbot.generation import backends
    from chatbot.generation import quality_guard as qg
    from chatbot.model_loading import llm_source, load_llm
    from chatbot.settings import Settings

    settings = Settings()
    load_llm(settings)  # converts the GGUF once (cached) so the base folder exists
    merged = Path(llm_source(settings))
    tolerance = qg.Tolerance()
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bankbot-guard-") as tmp:
        for backend in [b for b in args.backends.split(",") if b]:
            started = time.perf_counter()
            result = backends.guard_backend(
                Path(tmp), backend, merged, repetition_penalty=settings.repetition_penalty, n=args.prompts
            )
            metrics = asdict(result.metrics)
            metrics.pop("samples", None)
            results[backend] = {
                "passed": result.passed,
                "failures": result.failures,
                "metrics": {k: round(v, 4) if isinstance(v, float) else v for k, v in metrics.items()},
                "gold_rouge_drop": round(result.metrics.gold_rouge_drop, 4),
                "samples": result.metrics.samples[:2],
                "seconds_incl_quantize": round(time.perf_counter() - started, 1),
            }
            print(f"[guard] {result.summary()}", file=sys.stderr, flush=True)
    report = {
        "model": settings.llm_model,
        "tolerance": asdict(tolerance),
        "cpu_count": os.cpu_count(),
        "load_avg_1m": round(os.getloadavg()[0], 2),
        "backends": results,
    }
    emit_json(report, args.json)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
