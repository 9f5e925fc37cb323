"""The transformers reference generator: the base LLM in fp32 with the LoRA adapter merged, greedy by default.

Training uses transformers + peft, so this is the path the served llama.cpp GGUF is checked against (evals'
engine-parity suite) and the one a GPU without a llama.cpp GPU build serves with. Every generated token's
log-probability is taken from the model's raw logits (``output_logits``: before the repetition penalty and other
processors), as the llama.cpp engine does, so the confidence means the same on both.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from chatbot.errors import ModelLoadError
from chatbot.protocols import Generation, Message
from chatbot.settings import Settings

log = logging.getLogger(__name__)


def merge_adapter(settings: Settings, adapter: Any = None) -> tuple[Any, Any]:
    """(model, tokenizer): the fp32 base model, plus the adapter merged with merge_and_unload."""
    from chatbot.model_loading import load_llm

    model, tokenizer = load_llm(settings)
    if adapter is not None:
        from peft import PeftModel

        path = Path(adapter.path)
        if not (path / "adapter_config.json").is_file():
            raise ModelLoadError(f"adapter {adapter.version}: {path} has no adapter_config.json")
        try:
            model = PeftModel.from_pretrained(model, str(path)).merge_and_unload()
        except (OSError, ValueError, RuntimeError) as exc:
            raise ModelLoadError(f"adapter {adapter.version} at {path} cannot be loaded: {exc}") from exc
        model.eval()
        log.info("adapter %s merged into %s", adapter.version, settings.llm_model)
    return model, tokenizer


def stop_ids(model: Any, tokenizer: Any) -> list[int]:
    """End-of-answer tokens: the configured eos ids plus ChatML's <|im_end|>."""
    ids: set[int] = set()
    configured = model.generation_config.eos_token_id
    ids.update([configured] if isinstance(configured, int) else list(configured or []))
    if tokenizer.eos_token_id is not None:
        ids.add(tokenizer.eos_token_id)
    im_end = tokenizer.convert_tokens_to_ids("<|im_end|>")
    if isinstance(im_end, int) and im_end != tokenizer.unk_token_id:
        ids.add(im_end)
    return sorted(ids)


class HFGenerator:
    def __init__(self, settings: Settings, adapter: Any = None) -> None:
        from chatbot.model_loading import llm_label

        self.settings = settings
        self.base_model = llm_label(settings)
        self.adapter_version: str | None = getattr(adapter, "version", None)
        self.backend = "transformers"
        self.model, self.tokenizer = merge_adapter(settings, adapter)
        self.tokenizer.padding_side = "left"  # generation continues on the right, so batches pad on the left
        self.stop_ids = stop_ids(self.model, self.tokenizer)
        self._lock = threading.Lock()

    # --- protocol ------------------------------------------------------------------------------------------
    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer.encode(text, add_special_tokens=False))

    def encode(self, messages: Sequence[Message]) -> list[int]:
        """Prompt token ids; only the chat template's own markup can be special tokens."""
        from chatbot.generation.chat_tokens import chat_token_ids

        template = self.tokenizer.chat_template
        if not isinstance(template, str):
            raise ModelLoadError(f"{self.base_model} has no chat template")
        return chat_token_ids(
            template,
            messages,
            tokenize_markup=lambda text: self.tokenizer.encode(text, add_special_tokens=False),
            tokenize_text=lambda text: self.tokenizer.encode(text, add_special_tokens=False, split_special_tokens=True),
            bos_token=self.tokenizer.bos_token or "",
            eos_token=self.tokenizer.eos_token or "",
        )

    def generate(self, messages: Sequence[Message], *, max_new_tokens: int | None = None) -> Generation:
        return self.generate_batch([messages], max_new_tokens=max_new_tokens)[0]

    def generate_batch(
        self, batch: Sequence[Sequence[Message]], *, max_new_tokens: int | None = None
    ) -> list[Generation]:
        if not batch:
            return []
        inputs = self._pad([self.encode(messages) for messages in batch])
        with self._lock:
            out = self._generate(inputs, max_new_tokens)
        return self._generations(out, inputs)

    def stream(self, messages: Sequence[Message], *, max_new_tokens: int | None = None) -> Iterator[str | Generation]:
        generation = self.generate(messages, max_new_tokens=max_new_tokens)
        yield generation.text
        yield generation

    # --- internals ---------------------------------------------------------------------------------------
    def _pad(self, rows: list[list[int]]) -> dict[str, Any]:
        import torch

        width = max(len(r) for r in rows)
        pad = self.tokenizer.pad_token_id
        ids = torch.tensor([[pad] * (width - len(r)) + r for r in rows], device=self.model.device)
        mask = torch.tensor([[0] * (width - len(r)) + [1] * len(r) for r in rows], device=self.model.device)
        return {"input_ids": ids, "attention_mask": mask}

    def _generate(self, inputs: dict[str, Any], max_new_tokens: int | None) -> Any:
        import torch

        s = self.settings
        kwargs: dict[str, Any] = {
            "max_new_tokens": max_new_tokens or s.max_new_tokens,
            "repetition_penalty": s.repetition_penalty,
            "eos_token_id": self.stop_ids,
            "pad_token_id": self.tokenizer.pad_token_id,
            "return_dict_in_generate": True,
            "output_logits": True,
        }
        if s.temperature > 0:
            kwargs.update(do_sample=True, temperature=s.temperature, top_p=s.top_p)
        else:
            kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        with torch.inference_mode():
            return self.model.generate(**inputs, **kwargs)

    def _generations(self, out: Any, inputs: dict[str, Any]) -> list[Generation]:
        import torch

        prompt_len = inputs["input_ids"].shape[1]
        new_tokens = out.sequences[:, prompt_len:]
        # One (batch, vocab) tensor per step: take each chosen token's log-softmax without stacking them all.
        step_logprobs = torch.stack(
            [
                torch.log_softmax(logits.float(), dim=-1).gather(-1, new_tokens[:, i : i + 1]).squeeze(-1)
                for i, logits in enumerate(out.logits)
            ],
            dim=1,
        )
        generations = []
        stop = set(self.stop_ids)
        for row in range(new_tokens.shape[0]):
            tokens = new_tokens[row].tolist()
            end = next((i for i, t in enumerate(tokens) if t in stop), None)
            kept = tokens if end is None else tokens[:end]
            generations.append(
                Generation(
                    text=self.tokenizer.decode(kept, skip_special_tokens=True).strip(),
                    token_logprobs=step_logprobs[row, : len(kept)].tolist(),
                    prompt_tokens=int(inputs["attention_mask"][row].sum()),
                    finished=end is not None,
                )
            )
        return generations
