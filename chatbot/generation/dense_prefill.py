"""A linear layer that reads the prompt with bf16 weights and decodes with quantized ones.

Why: PyTorch's CPU int4 kernel is fast for one row (a decode step) but slow for hundreds (the prompt): one
426-token prompt takes 0.95 s to its first token in int4 against 0.50 s in bf16, and a batch of 8 customers
starts with ~4,000 prompt tokens. Keeping the bf16 weights of the quantized projections as well (+2 bytes per
weight: ~0.2 GB for SmolLM2) lets the prompt run at bf16 speed while every decode step stays int4. The answer's
first token comes from the bf16 prompt pass, the rest from int4, so the quality guard measures exactly this mix.

The branch is on the shape: a prompt pass has more than one position per sequence, a decode step exactly one, so
the compiled decode graph only ever contains the quantized path.
"""

from __future__ import annotations

from typing import Any

import torch

DENSE = "dense"  # state-dict suffix of the bf16 copy (not cached on disk: it is the bf16 model's own weight)


class DensePrefillLinear(torch.nn.Module):
    def __init__(self, quantized: torch.nn.Module, dense_weight: torch.Tensor) -> None:
        super().__init__()
        self.quantized = quantized
        self.dense = torch.nn.Parameter(dense_weight, requires_grad=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 3 and x.shape[1] > 1:  # (batch, positions, features): the prompt
            return torch.nn.functional.linear(x, self.dense, getattr(self.quantized, "bias", None))
        return self.quantized(x)


def without_dense(state: dict[str, Any]) -> dict[str, Any]:
    """The state dict to cache: the bf16 copies are rebuilt from the bf16 model at load time."""
    return {key: value for key, value in state.items() if not key.endswith(f".{DENSE}")}
