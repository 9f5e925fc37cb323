"""Attention for compiled back ends: PyTorch's fused SDPA kernel reads the prompt, eager attention decodes.

Why two: in a compiled decode step (one query row) "sdpa" runs PyTorch's CPU flash kernel, 0.6 ms a layer, while
inductor fuses eager attention's element-wise ops into its own loops, so decoding is faster eager. The prompt pass
is not compiled, and there eager attention materialises every (query, key) score: for a batch of 8 RAG prompts
of 426 tokens its softmax, matmuls and copies took ~2.5 s of a ~5.5 s prompt pass (torch.profiler), which the fused
kernel avoids. The branch is on the query length, which is 1 in every decode step, so the compiled graph only
holds the eager path.

Both paths take transformers' 4-D float mask ("eager" mask), so padding and the static cache's empty slots are
masked the same way in both.
"""

from __future__ import annotations

import sys
from typing import Any

NAME = "bankbot_sdpa_prefill_eager_decode"


def _attention(module: Any, query: Any, key: Any, value: Any, attention_mask: Any, **kwargs: Any) -> Any:
    if query.shape[2] > 1:  # (batch, heads, positions, head_dim): the prompt pass
        from transformers.integrations.sdpa_attention import sdpa_attention_forward

        return sdpa_attention_forward(module, query, key, value, attention_mask, **kwargs)
    # The model's own eager attention, from its modeling module (it may add softcapping, sinks, ...).
    eager = sys.modules[type(module).__module__].eager_attention_forward
    return eager(module, query, key, value, attention_mask, **kwargs)


def register() -> str:
    """Register the attention and its mask with transformers (idempotent); returns the name to set on a model."""
    from transformers import AttentionInterface
    from transformers.masking_utils import AttentionMaskInterface, eager_mask

    AttentionInterface.register(NAME, _attention)
    AttentionMaskInterface.register(NAME, eager_mask)
    return NAME
