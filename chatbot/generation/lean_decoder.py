"""A lean forward pass for Llama-architecture models with int8 weights: the int8-lean back end's model.

Why not transformers' own forward: at 135 M parameters on 2 CPU cores a decode step is bound by per-call overhead
(docs/inference.md), and on AVX2 CPUs without AVX512 the maintained quantized kernels are slow for one row. This
module keeps the model's arithmetic (RMSNorm, rotary embeddings from the model's own rotary module, grouped-query
attention, SiLU MLP) in ~20 PyTorch calls a layer, with q/k/v fused into one product and gate/up into another.
Each weight matrix is int8 with an fp32 scale per group of 32 inputs (``Int8Matrix``); activations stay fp32.

* a decode step (one position per sequence) multiplies with bankbot's own kernel (``cpu_kernels``), which reads
  each weight byte once;
* a prompt pass (many positions) multiplies with the same int8 weights dequantized to fp32 layer by layer, through
  PyTorch's BLAS, and attends with the fused SDPA kernel — so prompt and answer see the same weights.

The KV cache is two fp32 tensors per layer, (batch, kv_heads, slots, head_dim); batches are left-padded, and each
row's positions come from its attention mask, as in transformers.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

SUPPORTED = ("llama",)
# Rotary tables are built once for this many positions (or the model's maximum, when lower).
MAX_ROPE_POSITIONS = 16384
# Up to this many rows the int8 kernel multiplies (it reads each weight once and is bound by memory); more rows (a
# prompt) go to BLAS with the weights dequantized, which is bound by arithmetic and far faster there.
KERNEL_MAX_ROWS = 16
GROUP = 32  # inputs sharing one int8 scale (Int8Matrix)


class UnsupportedModel(ValueError):
    """The model is not of an architecture the lean decoder implements."""


def rope_type(config: Any) -> str:
    params = getattr(config, "rope_parameters", None) or getattr(config, "rope_scaling", None) or {}
    return str(params.get("rope_type", params.get("type", "default")))


@dataclass
class Int8Matrix:
    """``x @ w.T`` with int8 weights (out, in) and an fp32 scale per output row and group of ``GROUP`` inputs
    (out, in / GROUP), symmetric: scale = max |w| / 127 over the group.

    Why groups of 32: the GGUF file SmolLM2 comes from stores its weights in blocks of 32 (Q4_1, and Q8_0 for the
    embedding); one scale per block of 32 represents Q8_0 blocks exactly and Q4_1 blocks within 1/254 of their
    range, where one scale per row lost more (quality guard ROUGE-L vs fp32 0.457 on 12 prompts, 2026-12-01)."""

    weight: torch.Tensor
    scale: torch.Tensor

    @classmethod
    def quantize(cls, *linears: Any) -> Int8Matrix:
        """Quantize one or more ``nn.Linear`` layers sharing their input into one stacked matrix."""
        if any(getattr(lin, "bias", None) is not None for lin in linears):
            raise UnsupportedModel("the int8-lean back end serves projections without bias")
        weight = torch.cat([lin.weight.detach().float() for lin in linears])
        out, inputs = weight.shape
        group = GROUP if inputs % GROUP == 0 else inputs
        blocks = weight.reshape(out, inputs // group, group)
        scale = blocks.abs().amax(dim=-1).clamp(min=1e-12) / 127.0
        q = torch.round(blocks / scale[..., None]).clamp(-127, 127).to(torch.int8)
        return cls(q.reshape(out, inputs).contiguous(), scale.contiguous())

    def dequantized(self) -> torch.Tensor:
        out, groups = self.scale.shape
        return (self.weight.float().reshape(out, groups, -1) * self.scale[..., None]).reshape(out, -1)


@dataclass
class LayerWeights:
    input_norm: torch.Tensor
    qkv: Int8Matrix
    o: Int8Matrix
    post_norm: torch.Tensor
    gate_up: Int8Matrix
    down: Int8Matrix


class KVCache:
    """Per layer fp32 keys and values, (batch, kv_heads, slots, head_dim); ``length`` slots are filled."""

    def __init__(self, layers: int, batch: int, kv_heads: int, slots: int, head_dim: int) -> None:
        self.keys = [torch.zeros(batch, kv_heads, slots, head_dim) for _ in range(layers)]
        self.values = [torch.zeros(batch, kv_heads, slots, head_dim) for _ in range(layers)]
        self.slots = slots
        self.length = 0

    @property
    def batch(self) -> int:
        return self.keys[0].shape[0]

    def row_views(self) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """The decode step's cache arguments: per layer, then per row, that row's (kv_heads, slots, head_dim) view."""
        keys = [k[r] for k in self.keys for r in range(self.batch)]
        values = [v[r] for v in self.values for r in range(self.batch)]
        return keys, values


class LeanLlama:
    """Int8-weight Llama forward: ``prefill`` for prompts, ``step`` for one new token per row."""

    def __init__(self, model: Any, kernel_dir: Path) -> None:
        from chatbot.generation import cpu_kernels

        config = model.config
        if getattr(config, "model_type", None) not in SUPPORTED:
            raise UnsupportedModel(f"the int8-lean back end serves Llama-architecture models, not {config.model_type}")
        if getattr(config, "hidden_act", "silu") != "silu" or getattr(config, "mlp_bias", False):
            raise UnsupportedModel("the int8-lean back end needs a SiLU MLP without bias")
        if getattr(config, "attention_bias", False) or rope_type(config) in ("dynamic", "longrope"):
            # the rotary tables are built once; these rotary types change them with the sequence length
            raise UnsupportedModel("the int8-lean back end needs attention without bias and static rotary positions")
        self.kernel = cpu_kernels.load(kernel_dir)
        self.config = config
        self.generation_config = model.generation_config
        self.heads = config.num_attention_heads
        self.kv_heads = config.num_key_value_heads
        self.head_dim = getattr(config, "head_dim", None) or config.hidden_size // self.heads
        self.eps = float(config.rms_norm_eps)
        self.vocab = config.vocab_size
        inner = model.model
        self.embed = inner.embed_tokens.weight.detach().float().contiguous()
        self.layers = [
            LayerWeights(
                input_norm=layer.input_layernorm.weight.detach().float(),
                qkv=Int8Matrix.quantize(layer.self_attn.q_proj, layer.self_attn.k_proj, layer.self_attn.v_proj),
                o=Int8Matrix.quantize(layer.self_attn.o_proj),
                post_norm=layer.post_attention_layernorm.weight.detach().float(),
                gate_up=Int8Matrix.quantize(layer.mlp.gate_proj, layer.mlp.up_proj),
                down=Int8Matrix.quantize(layer.mlp.down_proj),
            )
            for layer in inner.layers
        ]
        self.norm = inner.norm.weight.detach().float()
        self.head = Int8Matrix.quantize(model.get_output_embeddings())
        self.scaling = self.head_dim**-0.5
        layers = self.layers
        self._step_weights = (
            [la.input_norm for la in layers],
            [la.qkv.weight for la in layers],
            [la.qkv.scale for la in layers],
            [la.o.weight for la in layers],
            [la.o.scale for la in layers],
            [la.post_norm for la in layers],
            [la.gate_up.weight for la in layers],
            [la.gate_up.scale for la in layers],
            [la.down.weight for la in layers],
            [la.down.scale for la in layers],
        )
        positions = min(MAX_ROPE_POSITIONS, int(getattr(config, "max_position_embeddings", MAX_ROPE_POSITIONS)))
        with torch.inference_mode():
            probe = torch.zeros(1, 1, self.head_dim)
            cos, sin = inner.rotary_emb(probe, torch.arange(positions)[None])
        self.cos, self.sin = cos[0].float().contiguous(), sin[0].float().contiguous()  # (positions, head_dim)

    # --- pieces -------------------------------------------------------------------------------------------------
    def _linear(self, x: torch.Tensor, m: Int8Matrix) -> torch.Tensor:
        """x (..., in) -> (..., out). Few rows: the int8 kernel; many (a prompt): dequantized weights and BLAS."""
        rows = x.reshape(-1, x.shape[-1])
        few = rows.shape[0] <= KERNEL_MAX_ROWS
        out = self.kernel.int8_gemv(rows, m.weight, m.scale) if few else F.linear(rows, m.dequantized())
        return out.reshape(*x.shape[:-1], out.shape[-1])

    def _rope(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
        """x (batch, heads, positions, dim) rotated as transformers' ``apply_rotary_pos_emb``."""
        half = x.shape[-1] // 2
        rotated = torch.cat((-x[..., half:], x[..., :half]), dim=-1)
        return x * cos + rotated * sin

    def _mlp(self, h: torch.Tensor, layer: LayerWeights) -> torch.Tensor:
        gate, up = self._linear(h, layer.gate_up).chunk(2, dim=-1)
        return self._linear(F.silu(gate) * up, layer.down)

    def logits(self, hidden: torch.Tensor) -> torch.Tensor:
        return self._linear(F.rms_norm(hidden, (hidden.shape[-1],), self.norm, self.eps), self.head)

    # --- forward ------------------------------------------------------------------------------------------------
    def check_room(self, prompt_tokens: int, max_new_tokens: int) -> None:
        """A one-line error when a prompt and its answer budget do not fit the rotary tables."""
        if prompt_tokens + max_new_tokens > self.cos.shape[0]:
            raise ValueError(
                f"prompt ({prompt_tokens} tokens) + answer budget ({max_new_tokens}) exceed the int8-lean back "
                f"end's {self.cos.shape[0]} positions"
            )

    def new_cache(self, batch: int, slots: int) -> KVCache:
        return KVCache(len(self.layers), batch, self.kv_heads, slots, self.head_dim)

    def prefill(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, cache: KVCache, start: int = 0
    ) -> torch.Tensor:
        """Run left-padded prompts (batch, T) into an empty cache; returns the hidden states (batch, T, hidden).

        ``start`` > 0: the cache already holds the keys and values of the prompt's first ``start`` tokens (copied
        from an earlier prompt with the same beginning, see ``continuous.py``), and ``input_ids`` are the rest of
        one unpadded prompt, read at positions ``start`` onwards."""
        batch, length = input_ids.shape
        unpadded = bool(attention_mask.bool().all())
        if start:
            if batch != 1 or not unpadded:
                raise ValueError("a prompt continued from cached positions must be one row without padding")
            positions = torch.arange(start, start + length)[None]
            # query j (position start + j) sees every cached position up to its own
            mask = (torch.arange(start + length)[None, :] <= positions[0][:, None])[None]
        else:
            positions = (attention_mask.long().cumsum(-1) - 1).clamp(min=0)  # left padding: first real token is 0
            valid = attention_mask.bool()
            causal = torch.ones(length, length, dtype=torch.bool).tril()
            # a padding query sees itself only (its output is never used), so no row of the mask is all False
            mask = (causal[None] & valid[:, None, :]) | torch.eye(length, dtype=torch.bool)[None]
        cos, sin = self.cos[positions][:, None], self.sin[positions][:, None]  # (batch, 1, T, dim)
        end = start + length
        # no padding and nothing cached: SDPA's own causal kernel skips the masked half (an explicit mask is read
        # whole: 170 ms of a 1.3 s prompt pass of 426 tokens)
        causal_only = not start and unpadded
        x = self.embed[input_ids]
        q_size, kv_size = self.heads * self.head_dim, self.kv_heads * self.head_dim
        for index, layer in enumerate(self.layers):
            h = F.rms_norm(x, (x.shape[-1],), layer.input_norm, self.eps)
            q, k, v = self._linear(h, layer.qkv).split((q_size, kv_size, kv_size), dim=-1)
            q = self._rope(q.view(batch, length, self.heads, self.head_dim).transpose(1, 2), cos, sin)
            k = self._rope(k.view(batch, length, self.kv_heads, self.head_dim).transpose(1, 2), cos, sin)
            v = v.view(batch, length, self.kv_heads, self.head_dim).transpose(1, 2)
            cache.keys[index][:, :, start:end] = k
            cache.values[index][:, :, start:end] = v
            if start:
                k, v = cache.keys[index][:, :, :end], cache.values[index][:, :, :end]
            attn = F.scaled_dot_product_attention(
                q,
                k,
                v,
                attn_mask=None if causal_only else mask[:, None],
                is_causal=causal_only,
                scale=self.scaling,
                enable_gqa=True,
            )
            x = x + self._linear(attn.transpose(1, 2).reshape(batch, length, q_size), layer.o)
            x = x + self._mlp(F.rms_norm(x, (x.shape[-1],), layer.post_norm, self.eps), layer)
        cache.length = end
        return x

    def step(
        self,
        tokens: torch.Tensor,
        positions: torch.Tensor,
        slots: torch.Tensor,
        keys: list[torch.Tensor],
        values: list[torch.Tensor],
        key_mask: torch.Tensor | None = None,
    ) -> Any:
        """One new token per row. tokens, positions (rotary) and slots (the cache slot each row writes; it attends
        over slots 0..slot) are (batch,); keys/values[layer * batch + row] is that row's (kv_heads, capacity,
        head_dim) cache (``KVCache.row_views``), so rows of different lengths can share a step. key_mask: None, or
        (batch, >= max slot + 1) additive fp32 over the cache slots (left-padded batches). Returns the logits.

        The whole step is one call into the C++ kernel (``kernels/int8_gemv.cpp: decode_step``): in Python its
        ~600 small PyTorch calls cost more than the arithmetic (43 ms a step against ~20 ms of weight reading,
        torch.profiler, 2026-12-01)."""
        return self.kernel.decode_step(
            self.embed[tokens],
            self.cos[positions],
            self.sin[positions],
            torch.empty(0) if key_mask is None else key_mask,
            slots,
            *self._step_weights,
            keys,
            values,
            self.norm,
            self.head.weight,
            self.head.scale,
            self.heads,
            self.kv_heads,
            self.eps,
            self.scaling,
        )
