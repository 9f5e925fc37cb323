"""One SmolLM2 MLP projection (576 -> 1536) in fp32, bf16, torchao int4 (group 32) and int8 × int8, at prefill and
decode shapes.

    python benchmarks/linear_kernels.py --json -
    python benchmarks/linear_kernels.py --threads 1 --json -

Why: whether bf16/int4 kernels beat fp32 depends on the CPU (AVX512-BF16/AMX vs AVX2 only) and the row count
(a 426-token prompt pass is a GEMM, a decode step a GEMV). The two int8 × int8 kernels take fp32 activations and
include quantizing them, as a prompt pass would have to: fbgemm's dynamic quantized linear (activations per tensor,
weights per output channel) and ``torch._int_mm`` (activations per row, weights per output channel, the int32 result
scaled back). They say how much cheaper a prompt pass could be with int8 arithmetic on this CPU (issue #8's 8-chat
target, docs/inference.md). Reports the best of ``--reps`` timing windows per kernel and shape, interleaved so a
busy machine affects all alike, the GFLOPS each reaches, plus the CPU capability torch detected.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from json_output import emit_json  # benchmarks/json_output.py (the script's folder is on sys.path)


class IntMM:
    """x (fp32) @ w.T through ``torch._int_mm``: x quantized per row, w per output channel, symmetric int8."""

    def __init__(self, weight: Any) -> None:
        import torch

        self.scale = weight.abs().amax(dim=1).clamp(min=1e-12) / 127.0  # (out,)
        self.weight_t = torch.round(weight / self.scale[:, None]).to(torch.int8).t().contiguous()  # (in, out)

    def __call__(self, x: Any) -> Any:
        import torch

        if x.shape[0] <= 16:  # torch._int_mm wants more than 16 rows
            x = torch.nn.functional.pad(x, (0, 0, 0, 17 - x.shape[0]))
        x_scale = x.abs().amax(dim=1, keepdim=True).clamp(min=1e-12) / 127.0
        q = torch.round(x / x_scale).to(torch.int8)
        return torch._int_mm(q, self.weight_t).float() * x_scale * self.scale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", metavar="PATH", help="'-' for stdout")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument("--reps", type=int, default=8)
    parser.add_argument("--rows", default="426,1", help="activation rows to time (prefill, decode)")
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
    from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

    fbgemm = quantize_dynamic(torch.nn.Sequential(fp32), {torch.nn.Linear: per_channel_dynamic_qconfig}, inplace=False)
    kernels: dict[str, tuple[Any, torch.dtype]] = {
        "fp32": (fp32, torch.float32),
        "bf16": (bf16, torch.bfloat16),
        "int4": (int4, torch.bfloat16),
        "int4_fp32_act": (int4_fp32, torch.float32),
        "int8_fbgemm_dynamic": (fbgemm, torch.float32),
        "int8_int_mm": (IntMM(fp32.weight.data), torch.float32),
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
        flop = 2 * rows * 576 * 1536
        results[f"rows_{rows}"] = {f"{k}_us": round(v, 1) for k, v in best.items()}
        results[f"rows_{rows}"] |= {f"{k}_gflops": round(flop / v / 1e3, 1) for k, v in best.items()}
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
