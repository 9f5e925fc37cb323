"""Attention for compiled back ends: PyTorch's fused SDPA kernel reads the prompt, a grouped matmul decodes.

Why not one implementation: the prompt pass is not compiled, and there transformers' eager attention materialises
every (query, key) score: for a batch of 8 RAG prompts of 426 tokens its softmax, matmuls and copies took ~2.5 s
of a ~5.5 s prompt pass (torch.profiler), which the fused kernel avoids. In a compiled decode step (one query row)
"sdpa" runs PyTorch's CPU flash kernel, 0.6 ms a layer, and eager attention is worse in another way: inductor
lowers a one-row matmul on CPU to a multiply-and-sum loop and inlines the query's rotary embedding into it, so
cos/sin are recomputed for every cached key — 1.35 ms a layer for 8 chats at a 640-token cache (40 of 81 ms a
step). Grouping the query heads that share a key/value head (SmolLM2: 3 per group) gives real matmuls of 3 rows,
which inductor hands to the BLAS kernel with the query computed once: 81 -> 51 ms a step for 8 chats, and no
slower for one (hand-timed `generate` runs and profiles: docs/inference.md).

The branch is on the query length, which is 1 in every decode step, so the compiled graph holds only the decode
path. Both paths take transformers' 4-D float mask ("eager" mask), so padding and the static cache's empty slots
are masked the same way. Attention with extras the grouped path does not implement (sliding window, logit
softcapping, attention sinks) decodes with the model's own eager attention.
"""

from __future__ import annotations

import sys
from typing import Any

NAME = "bankbot_sdpa_prefill_grouped_decode"


def _attention(module: Any, query: Any, key: Any, value: Any, attention_mask: Any, **kwargs: Any) -> Any:
    from transformers.integrations.sdpa_attention import sdpa_attention_forward

    if query.shape[2] > 1:  # (batch, heads, positions, head_dim): the prompt pass
        return sdpa_attention_forward(module, query, key, value, attention_mask, **kwargs)
    if _grouped_ok(module, query, key, kwargs):
        return grouped_decode(query, key, value, attention_mask, kwargs.get("scaling"))
    # The model's own eager attention, from its modeling module (it may add softcapping, sinks, ...); SDPA for
    # a model whose module has none.
    eager = getattr(sys.modules[type(module).__module__], "eager_attention_forward", sdpa_attention_forward)
    return eager(module, query, key, value, attention_mask, **kwargs)


def _grouped_ok(module: Any, query: Any, key: Any, kwargs: dict[str, Any]) -> bool:
    plain = kwargs.get("sliding_window") is None and kwargs.get("softcap") is None
    return plain and getattr(module, "sinks", None) is None and query.shape[1] % key.shape[1] == 0


def grouped_decode(query: Any, key: Any, value: Any, attention_mask: Any, scaling: float | None) -> Any:
    """Attention of one new position: query (batch, heads, 1, dim) against the cache (batch, kv_heads, slots, dim).

    Query head i uses key/value head i // group, as transformers' ``repeat_kv`` pairs them. Returns
    (batch, 1, heads, dim) and no weights, the layout eager attention returns.
    """
    import torch

    batch, heads, positions, dim = query.shape
    kv_heads = key.shape[1]
    grouped = query.reshape(batch, kv_heads, (heads // kv_heads) * positions, dim)
    scores = torch.matmul(grouped, key.transpose(2, 3)) * (scaling if scaling is not None else dim**-0.5)
    if attention_mask is not None:  # (batch, 1, positions, slots): broadcasts over heads
        scores = scores + attention_mask[:, :, :, : key.shape[-2]]
    weights = torch.softmax(scores, dim=-1, dtype=torch.float32).to(query.dtype)
    out = torch.matmul(weights, value).reshape(batch, heads, positions, dim)
    return out.transpose(1, 2).contiguous(), None


def register() -> str:
    """Register the attention and its mask with transformers (idempotent); returns the name to set on a model."""
    from transformers import AttentionInterface
    from transformers.masking_utils import AttentionMaskInterface, eager_mask

    AttentionInterface.register(NAME, _attention)
    AttentionMaskInterface.register(NAME, eager_mask)
    return NAME
