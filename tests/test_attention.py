"""The compiled back ends' attention: fused SDPA for the prompt, the model's eager attention for decode steps."""

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


def test_prompt_goes_to_sdpa_and_decode_steps_to_eager(tiny: Any) -> None:
    from transformers.integrations import sdpa_attention
    from transformers.models.llama import modeling_llama

    seen: list[tuple[str, int]] = []

    def spy(kind: str, real: Any) -> Any:
        def call(module: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
            seen.append((kind, query.shape[2]))
            return real(module, query, *args, **kwargs)

        return call

    with (
        mock.patch.object(sdpa_attention, "sdpa_attention_forward", spy("sdpa", sdpa_attention.sdpa_attention_forward)),
        mock.patch.object(
            modeling_llama, "eager_attention_forward", spy("eager", modeling_llama.eager_attention_forward)
        ),
    ):
        _greedy(tiny, attention.register())
    layers = tiny.config.num_hidden_layers
    assert seen[:layers] == [("sdpa", 8)] * layers  # the prompt: 8 positions, every layer
    assert seen[layers:] == [("eager", 1)] * (layers * 5)  # 5 decode steps after the first token
