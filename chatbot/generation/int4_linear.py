"""Int4 weight-only linear layer (groups of 32) holding plain tensors, on PyTorch's CPU tinygemm kernel.

Why not torchao's tensor subclass as such: torchao quantizes (``Int4OpaqueTensor.from_hp``: its tinygemm scales,
zero points and packing are used unchanged here), but served as a weight subclass every compiled decode step
first evaluates torch.compile's guards on 210 subclass parameters, which run in Python: 5.8 ms of a ~33 ms step
for SmolLM2, against 2.4 ms with plain tensors (torch.profiler "TorchDynamo Cache Lookup", 2026-11-21, notes in
docs/inference.md). This module keeps the packed weight and scales as plain buffers and calls the same kernel
(``aten._weight_int4pack_mm_for_cpu``) that torchao's subclass calls, so the numbers are the same bit for bit.
Its state dict is plain tensors, so the serving cache needs no subclass registry to load it.
"""

from __future__ import annotations

from typing import Any

import torch

GROUP_SIZE = 32


class Int4WeightOnlyLinear(torch.nn.Module):
    """``y = x @ dequant(int4 weight).T (+ bias)`` with asymmetric int4 groups along the input features."""

    qdata: torch.Tensor  # packed int4, the layout aten._convert_weight_to_int4pack_for_cpu makes
    scale_and_zero: torch.Tensor  # (in / group, out, 2) in the activation dtype

    def __init__(
        self,
        in_features: int,
        out_features: int,
        group_size: int = GROUP_SIZE,
        dtype: torch.dtype = torch.bfloat16,
        bias: torch.Tensor | None = None,
    ) -> None:
        super().__init__()
        if in_features % group_size:
            raise ValueError(f"in_features={in_features} is not a multiple of the group size {group_size}")
        self.in_features, self.out_features, self.group_size = in_features, out_features, group_size
        self.register_buffer("qdata", torch.zeros(out_features, in_features // 2, dtype=torch.uint8))
        self.register_buffer("scale_and_zero", torch.zeros(in_features // group_size, out_features, 2, dtype=dtype))
        self.bias = None if bias is None else torch.nn.Parameter(bias.detach(), requires_grad=False)

    @classmethod
    def from_linear(cls, linear: Any, group_size: int = GROUP_SIZE, dtype: torch.dtype = torch.bfloat16) -> Any:
        from torchao.prototype.quantization.int4.int4_opaque_tensor import Int4OpaqueTensor

        weight = linear.weight.detach().to(dtype)
        packed = Int4OpaqueTensor.from_hp(weight, [1, group_size])
        module = cls(weight.shape[1], weight.shape[0], group_size, dtype, linear.bias)
        module.qdata = packed.qdata
        module.scale_and_zero = packed.scale_and_zero
        return module

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        rows = x.reshape(-1, self.in_features).contiguous()
        out = torch.ops.aten._weight_int4pack_mm_for_cpu(rows, self.qdata, self.group_size, self.scale_and_zero)
        out = out.reshape(*x.shape[:-1], self.out_features)
        return out if self.bias is None else out + self.bias

    def extra_repr(self) -> str:
        groups = f"weight=int4 groups of {self.group_size}"
        return f"in_features={self.in_features}, out_features={self.out_features}, {groups}"
