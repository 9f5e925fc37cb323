"""The int8-lean back end's generation loop, with the part of transformers' ``generate`` interface bankbot uses.

Why our own loop: transformers' ``generate`` costs a few ms a token in Python (logits processors, stopping
criteria, cache bookkeeping) before the model runs; at ~30 ms a token that is a tenth of the answer time. This
loop does what the served path needs and nothing else, in the same order as transformers: raw logits ->
repetition penalty -> min-new-tokens (end-of-turn suppressed) -> temperature / top-k / top-p when sampling ->
argmax or a draw. Finished rows emit the pad token, as in transformers. ``output_logits`` returns the raw logits of
every step, so confidence is computed from the served model's own log-probs; a streamer gets ``put(prompt ids)``
and then ``put(tokens)`` once per step, as transformers' streamers do.

``LeanModel`` is what ``HFGenerator``, the quality guard and the benchmarks call: ``generate(...)``,
``model(input_ids=...).logits`` (teacher forcing), ``config``, ``generation_config`` and ``device``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from chatbot.generation.lean_decoder import LeanLlama

_ACCEPTED = {
    "input_ids",
    "attention_mask",
    "max_new_tokens",
    "min_new_tokens",
    "repetition_penalty",
    "eos_token_id",
    "pad_token_id",
    "do_sample",
    "temperature",
    "top_p",
    "top_k",
    "return_dict_in_generate",
    "output_logits",
    "streamer",
    "token_type_ids",  # some tokenizers return it; a Llama model ignores it
}


@dataclass
class LeanOutput:
    """What ``generate(return_dict_in_generate=True)`` returns: the fields bankbot reads."""

    sequences: torch.Tensor
    logits: tuple[torch.Tensor, ...] | None = None


@dataclass
class ForwardOutput:
    logits: torch.Tensor


def apply_repetition_penalty(logits: torch.Tensor, seen: torch.Tensor, penalty: float) -> torch.Tensor:
    """transformers' rule: a seen token's logit is divided by ``penalty`` when positive, multiplied when negative."""
    if penalty == 1.0:
        return logits
    penalised = torch.where(logits > 0, logits / penalty, logits * penalty)
    return torch.where(seen, penalised, logits)


def filter_top_k_top_p(logits: torch.Tensor, top_k: int | None, top_p: float | None) -> torch.Tensor:
    """Keep the ``top_k`` best and the smallest set whose probability reaches ``top_p`` (others -inf)."""
    if top_k is not None and 0 < top_k < logits.shape[-1]:
        kth = torch.topk(logits, top_k, dim=-1).values[..., -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    if top_p is not None and top_p < 1.0:
        ordered, order = torch.sort(logits, descending=False, dim=-1)
        cumulative = ordered.softmax(dim=-1).cumsum(dim=-1)
        drop = cumulative <= (1 - top_p)
        drop[..., -1] = False  # always keep the best token
        logits = logits.masked_fill(drop.scatter(-1, order, drop), float("-inf"))
    return logits


class LeanModel:
    """A Llama model served by ``LeanLlama``, called like a transformers model by the rest of bankbot."""

    def __init__(self, decoder: LeanLlama) -> None:
        self.decoder = decoder
        self.config = decoder.config
        self.generation_config = decoder.generation_config
        self.device = torch.device("cpu")
        self.dtype = torch.float32

    def eval(self) -> LeanModel:
        return self

    def __call__(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None, **_: Any) -> ForwardOutput:
        """Logits at every position (teacher forcing, the quality guard)."""
        mask = torch.ones_like(input_ids) if attention_mask is None else attention_mask
        cache = self.decoder.new_cache(input_ids.shape[0], input_ids.shape[1])
        hidden = self.decoder.prefill(input_ids, mask, cache)
        return ForwardOutput(self.decoder.logits(hidden))

    def generate(self, **kwargs: Any) -> Any:
        unknown = set(kwargs) - _ACCEPTED
        if unknown:
            raise TypeError(f"the int8-lean back end's generate does not take {sorted(unknown)}")
        kwargs.pop("token_type_ids", None)
        return self._generate(**kwargs)

    def _generate(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        max_new_tokens: int = 64,
        min_new_tokens: int = 0,
        repetition_penalty: float | None = None,
        eos_token_id: int | Sequence[int] | None = None,
        pad_token_id: int | None = None,
        do_sample: bool = False,
        temperature: float | None = None,
        top_p: float | None = None,
        top_k: int | None = None,
        return_dict_in_generate: bool = False,
        output_logits: bool = False,
        streamer: Any = None,
    ) -> Any:
        decoder = self.decoder
        batch, prompt_len = input_ids.shape
        decoder.check_room(prompt_len, max_new_tokens)
        mask = torch.ones_like(input_ids) if attention_mask is None else attention_mask
        stops = torch.tensor([eos_token_id] if isinstance(eos_token_id, int) else list(eos_token_id or []))
        pad = int(pad_token_id if pad_token_id is not None else (stops[0] if len(stops) else 0))
        penalty = float(repetition_penalty or 1.0)
        cache = decoder.new_cache(batch, prompt_len + max_new_tokens)
        key_mask = torch.full((batch, cache.slots), float("-inf"))
        key_mask[:, :prompt_len] = torch.where(mask.bool(), 0.0, float("-inf"))
        positions = mask.long().sum(-1)  # next rotary position of each row
        seen = torch.zeros(batch, decoder.vocab, dtype=torch.bool)
        seen.scatter_(1, input_ids, True)
        if streamer is not None:
            streamer.put(input_ids)
        with torch.inference_mode():
            hidden = decoder.prefill(input_ids, mask, cache)
            logits = decoder.logits(hidden[:, -1])
        new_tokens: list[torch.Tensor] = []
        raw_logits: list[torch.Tensor] = []
        unfinished = torch.ones(batch, dtype=torch.bool)
        keys, values = cache.row_views()
        for step in range(max_new_tokens):
            raw_logits.append(logits)
            scores = apply_repetition_penalty(logits, seen, penalty)
            if step < min_new_tokens and len(stops):
                scores[:, stops] = float("-inf")
            if do_sample:
                scores = filter_top_k_top_p(scores / float(temperature or 1.0), top_k, top_p)
                token = torch.multinomial(scores.softmax(dim=-1), 1).squeeze(-1)
            else:
                token = scores.argmax(dim=-1)
            token = torch.where(unfinished, token, pad)
            new_tokens.append(token)
            seen[torch.arange(batch), token] = True
            if streamer is not None:
                streamer.put(token)
            if len(stops):
                unfinished &= ~torch.isin(token, stops)
            if not unfinished.any() or step == max_new_tokens - 1:
                break
            with torch.inference_mode():
                key_mask[:, cache.length] = 0.0
                slots = torch.full((batch,), cache.length, dtype=torch.long)
                logits = decoder.step(token, positions, slots, keys, values, key_mask)
                cache.length += 1
            positions = positions + 1
        if streamer is not None:
            streamer.end()
        sequences = torch.cat([input_ids, torch.stack(new_tokens, dim=1)], dim=1)
        if not return_dict_in_generate:
            return sequences
        return LeanOutput(sequences=sequences, logits=tuple(raw_logits) if output_logits else None)


def load_lean(merged: Path, kernel_dir: Path | None = None) -> tuple[LeanModel, Any]:
    """(model, tokenizer) of int8-lean: the merged fp32 weights quantized to int8 (about a second, so not cached apart
    from the merged folder), served by ``LeanLlama``, whose C++ kernel is built once per machine."""
    from chatbot.generation import cpu_kernels
    from chatbot.generation.backends import load_merged

    model, tokenizer = load_merged(merged)
    return LeanModel(LeanLlama(model, kernel_dir or cpu_kernels.DEFAULT_DIR)), tokenizer
