"""The compiled back ends' attention: fused SDPA for the prompt, grouped-query matmuls for decode steps."""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest

from chatbot.generation import attention


@pytest.fixture(scope="module")
def tiny() -> Any:
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=97,
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,  # grouped-query, as SmolLM2
        max_position_embeddings=256,
        pad_token_id=0,
    )
    return LlamaForCausalLM(config).eval()


def _greedy(model: Any, implementation: str) -> Any:
    import torch
    from transformers import StaticCache

    model.set_attn_implementation(implementation)
    # a left-padded batch, as the batcher builds it, into a static cache with empty slots
    ids = torch.tensor([[0, 0, 0, 5, 6, 7, 8, 9], [11, 12, 13, 14, 15, 16, 17, 18]])
    mask = (torch.arange(8) >= torch.tensor([[3], [0]])).long()
    cache = StaticCache(config=model.config, max_cache_len=32)
    with torch.inference_mode():
        out = model.generate(
            input_ids=ids,
            attention_mask=mask,
            past_key_values=cache,
            max_new_tokens=6,
            do_sample=False,
            pad_token_id=0,
            eos_token_id=None,
            return_dict_in_generate=True,
            output_logits=True,
        )
    return out.sequences, torch.stack(out.logits)


def test_same_answers_and_logits_as_eager_attention(tiny: Any) -> None:
    import torch

    eager_tokens, eager_logits = _greedy(tiny, "eager")
    ours_tokens, ours_logits = _greedy(tiny, attention.register())
    assert torch.equal(ours_tokens, eager_tokens)
    torch.testing.assert_close(ours_logits, eager_logits, atol=1e-5, rtol=1e-4)


def test_prompt_goes_to_sdpa_and_decode_steps_to_grouped_matmuls(tiny: Any) -> None:
    seen = _routes(tiny, {})
    layers = tiny.config.num_hidden_layers
    assert seen[:layers] == [("sdpa", 8)] * layers  # the prompt: 8 positions, every layer
    assert seen[layers:] == [("grouped", 1)] * (layers * 5)  # 5 decode steps after the first token


def test_attention_with_a_sliding_window_decodes_with_the_models_own_eager_attention(tiny: Any) -> None:
    seen = _routes(tiny, {"sliding_window": 4})
    assert {route for route in seen if route[1] == 1} == {("eager", 1)}


def test_grouped_decode_equals_repeated_heads_attention() -> None:
    import torch
    from transformers.models.llama.modeling_llama import repeat_kv

    torch.manual_seed(1)
    query, key, value = torch.randn(2, 6, 1, 8), torch.randn(2, 2, 5, 8), torch.randn(2, 2, 5, 8)
    mask = torch.zeros(2, 1, 1, 5)
    mask[0, :, :, :2] = torch.finfo(torch.float32).min  # left padding of the first row
    out, weights = attention.grouped_decode(query, key, value, mask, 0.5)
    scores = query @ repeat_kv(key, 3).transpose(2, 3) * 0.5 + mask
    expected = (torch.softmax(scores, dim=-1) @ repeat_kv(value, 3)).transpose(1, 2)
    assert weights is None and out.shape == (2, 1, 6, 8)
    torch.testing.assert_close(out, expected)


def _routes(model: Any, extra_kwargs: dict[str, Any]) -> list[tuple[str, int]]:
    """(path, query positions) of every attention call while generating, with ``extra_kwargs`` added to each."""
    from transformers.integrations import sdpa_attention
    from transformers.models.llama import modeling_llama

    seen: list[tuple[str, int]] = []
    real_attention = attention._attention

    def spy(kind: str, real: Any, query_at: int) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            seen.append((kind, args[query_at].shape[2]))
            return real(*args, **kwargs)

        return call

    def with_extras(*args: Any, **kwargs: Any) -> Any:
        return real_attention(*args, **{**kwargs, **extra_kwargs})

    with (
        mock.patch.object(
            sdpa_attention, "sdpa_attention_forward", spy("sdpa", sdpa_attention.sdpa_attention_forward, 1)
        ),
        mock.patch.object(
            modeling_llama, "eager_attention_forward", spy("eager", modeling_llama.eager_attention_forward, 1)
        ),
        mock.patch.object(attention, "grouped_decode", spy("grouped", attention.grouped_decode, 0)),
        mock.patch.object(attention, "_attention", with_extras),
    ):
        _greedy(model, attention.register())
    return seen
