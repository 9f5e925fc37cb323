"""Int8 weight-only linear layer on PyTorch's own CPU kernel, for the output projection of the int4 back end.

Why it exists: the int4 back end keeps the output projection (576 -> 49,152, a fifth of SmolLM2's weights) at
8 bits, as llama.cpp's Q4_1 file does (its ``token_embd`` is Q8_0): at 4 bits it alone pushed the quality guard's
ROUGE-L vs fp32 from 0.60 to 0.39. torchao's ``Int8WeightOnlyConfig`` would be the maintained choice, but its
CPU path dequantizes the whole weight on every call: 20 ms per decode step for this matrix, against 1.9 ms for
``torch._weight_int8pack_mm`` (the fused kernel torch.compile also lowers int8 weight-only linears to) and 3.8 ms
in plain bf16 (``benchmarks/linear_kernels.py``, 2026-11-21). So this ~20-line module calls that kernel directly.

Per output channel symmetric int8 (scale = max |w| / 127); scales are kept in the activation dtype, which is what
the kernel wants. The state dict holds plain tensors (``weight_int8``, ``scales``), so the serving cache stores it
next to torchao's int4 tensors.
"""

from __future__ import annotations

from typing import Any

import torch


class Int8WeightOnlyLinear(torch.nn.Module):
    """``y = x @ (int8 weight * per-row scale).T`` without materialising the dequantized weight."""

    weight_int8: torch.Tensor  # (out, in) int8, a buffer
    scales: torch.Tensor  # (out,) in the activation dtype, a buffer

    def __init__(self, in_features: int, out_features: int, dtype: torch.dtype = torch.bfloat16) -> None:
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.register_buffer("weight_int8", torch.zeros(out_features, in_features, dtype=torch.int8))
        self.register_buffer("scales", torch.ones(out_features, dtype=dtype))

    @classmethod
    def from_linear(cls, linear: Any, dtype: torch.dtype = torch.bfloat16) -> Int8WeightOnlyLinear:
        if getattr(linear, "bias", None) is not None:
            raise ValueError("Int8WeightOnlyLinear has no bias (output projections have none)")
        weight = linear.weight.detach().float()
        module = cls(weight.shape[1], weight.shape[0], dtype)
        scales = weight.abs().amax(dim=1).clamp(min=1e-12) / 127.0
        module.weight_int8.copy_(torch.round(weight / scales[:, None]).clamp(-127, 127).to(torch.int8))
        module.scales.copy_(scales.to(dtype))
        return module

    def dequantized(self) -> torch.Tensor:
        """The weight this layer multiplies by (for inspection and tests; forward never builds it)."""
        return self.weight_int8.to(self.scales.dtype) * self.scales[:, None]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        rows = x.reshape(-1, self.in_features)
        out = torch._weight_int8pack_mm(rows, self.weight_int8, self.scales.to(x.dtype))
        return out.reshape(*x.shape[:-1], self.out_features)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, weight=int8 per-channel"
