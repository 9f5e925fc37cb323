"""One SmolLM2 MLP projection (576 -> 1536) in fp32, bf16 and torchao int4 (group 32), at prefill and decode shapes.

    python benchmarks/linear_kernels.py --json -
    python benchmarks/linear_kernels.py --threads 1 --json -

Why: whether bf16/int4 kernels beat fp32 depends on the CPU (AVX512-BF16/AMX vs AVX2 only) and the row count
(a 361-token prefill is a GEMM, a decode step a GEMV). Reports the best of ``--reps`` timing windows per kernel
and shape, interleaved so a busy machine affects all three alike, plus the CPU capability torch detected.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from json_output import emit_json  # benchmarks/json_output.py (the script's folder is on sys.path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", metavar="PATH", help="'-' for stdout")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument("--reps", type=int, default=8)
    parser.add_argument("--rows", default="361,1", help="activation rows to time (prefill, decode)")
    args = parser.parse_args(argv)

    import torch
    from torchao.prototype.quantization.int4 import PrototypeInt4WeightOnlyConfig
    from torchao.quantization import quantize_

    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    fp32 = torch.nn.Linear(576, 1536, bias=False)
    bf16 = torch.nn.Linear(576, 1536, bias=False).to(torch.bfloat16)
    bf16.weight.data.copy_(fp32.weight.data)
    int4 = torch.nn.Linear(576, 1536, bias=False).to(torch.bfloat16)
    int4.weight.data.copy_(fp32.weight.data)
    quantize_(int4, PrototypeInt4WeightOnlyConfig(group_size=32))
    int4_fp32 = torch.nn.Linear(576, 1536, bias=False)  # int4 weights, fp32 activations (the served back end)
    int4_fp32.weight.data.copy_(fp32.weight.data)
    quantize_(int4_fp32, PrototypeInt4WeightOnlyConfig(group_size=32))
    kernels = {
        "fp32": (fp32, torch.float32),
        "bf16": (bf16, torch.bfloat16),
        "int4": (int4, torch.bfloat16),
        "int4_fp32_act": (int4_fp32, torch.float32),
    }

    results: dict[str, Any] = {}
    for rows in (int(r) for r in args.rows.split(",")):
        x = torch.randn(rows, 576)
        best: dict[str, float] = {}
        for _ in range(args.reps):
            for name, (module, dtype) in kernels.items():
                inp = x.to(dtype)
                with torch.inference_mode():
                    module(inp)
                    started, calls = time.perf_counter(), 0
                    while time.perf_counter() - started < 0.15:
                        module(inp)
                        calls += 1
                micros = (time.perf_counter() - started) / calls * 1e6
                best[name] = min(best.get(name, micros), micros)
        results[f"rows_{rows}"] = {f"{k}_us": round(v, 1) for k, v in best.items()}
    import os

    report = {
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "threads": torch.get_num_threads(),
        "load_avg_1m": round(os.getloadavg()[0], 2),
        "results": results,
    }
    emit_json(report, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
