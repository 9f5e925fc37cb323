"""One decode step of the served model, two ways: torch.compile (what serving uses) and AOTInductor.

    BANKBOT_DATA_DIR=/tmp/inf-data python benchmarks/decode_step.py --backend int4-weight-only --json -

Why: at 135 M parameters a decode step is bound by per-call overhead, and part of torch.compile's is paid in
Python on every step (guard evaluation, the wrapper that calls ~400 kernels). AOTInductor compiles the same graph
ahead of time into a C++ package with neither, so the difference between the two is the most that overhead
could buy. Both run the model's own forward (batch 1, one new token, a static cache of ``--cache-len`` slots), no
``generate`` loop; the model is loaded through the serving path (merged, converted, cached, guarded, warmed up).
The AOTInductor program comes from transformers' ``TorchExportableModuleForDecoderOnlyLM`` (its own static
cache). Reported: median and min ms a step over ``--steps`` steps for each, export and compile seconds.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from json_output import emit_json  # benchmarks/json_output.py (the script's folder is on sys.path)


def timed(step: Any, steps: int) -> dict[str, float]:
    for _ in range(5):  # untimed: lazy one-offs
        step()
    samples = []
    for _ in range(steps):
        started = time.perf_counter()
        step()
        samples.append((time.perf_counter() - started) * 1000)
    return {"step_ms": round(statistics.median(samples), 2), "step_ms_min": round(min(samples), 2)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", metavar="PATH", help="'-' for stdout")
    parser.add_argument("--backend", default="int4-weight-only", help="inference back end to load")
    parser.add_argument("--cache-len", type=int, default=640, help="static cache slots")
    parser.add_argument("--steps", type=int, default=60)
    args = parser.parse_args(argv)

    import os

    import torch
    from transformers import StaticCache
    from transformers.integrations.executorch import TorchExportableModuleForDecoderOnlyLM

    from chatbot.generation.hf import HFGenerator
    from chatbot.settings import Settings

    model = HFGenerator(Settings(inference_backend=args.backend)).model
    ids = torch.tensor([[42]])
    position = torch.tensor([args.cache_len - 100])
    report: dict[str, Any] = {"backend": args.backend, "cache_len": args.cache_len, "threads": torch.get_num_threads()}
    report["load_avg_1m_at_start"] = round(os.getloadavg()[0], 2)

    cache = StaticCache(config=model.config, max_cache_len=args.cache_len)
    compiled = torch.compile(model.forward, dynamic=True)
    with torch.inference_mode():
        report["torch_compile"] = timed(
            lambda: compiled(input_ids=ids, past_key_values=cache, cache_position=position, use_cache=True), args.steps
        )

    model.generation_config.cache_implementation = "static"
    exportable = TorchExportableModuleForDecoderOnlyLM(model, batch_size=1, max_cache_len=args.cache_len)
    with torch.no_grad():
        started = time.perf_counter()
        program = exportable.export(input_ids=ids)
        export_s = time.perf_counter() - started
        with tempfile.TemporaryDirectory() as tmp:
            started = time.perf_counter()
            package = torch._inductor.aoti_compile_and_package(program, package_path=str(Path(tmp) / "decode.pt2"))
            compile_s = time.perf_counter() - started
            runner = torch._inductor.aoti_load_package(package)
            report["aot_inductor"] = {
                **timed(lambda: runner(input_ids=ids, cache_position=position), args.steps),
                "export_s": round(export_s, 1),
                "compile_s": round(compile_s, 1),
            }
    report["load_avg_1m_at_end"] = round(os.getloadavg()[0], 2)
    emit_json(report, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
