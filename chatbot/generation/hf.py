"""transformers generator: the base LLM with the production LoRA adapter merged in, greedy by default.

Every generated token's log-probability is taken from the model's raw logits (``output_logits``: before the
repetition penalty and other processors), so the confidence reflects what the model itself believed.
Concurrent chats are micro-batched (``chatbot.generation.batching``): requests that arrive together are answered
in one ``generate`` call by one worker thread, so two cores are never thrashed by several generations at once
and 8 customers do not wait for 8 answers in turn. Explicit batches (``generate_batch``: evals, simulation)
share the same lock.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chatbot.errors import ModelLoadError
from chatbot.generation.batching import Batcher, BatchRequest, RowStreamer, TextDeltas
from chatbot.generation.fast_path import FastPath, warm_up
from chatbot.protocols import Generation, Message
from chatbot.settings import Settings

if TYPE_CHECKING:
    from chatbot.generation.continuous import ContinuousBatcher

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
        log.info("serving adapter %s merged into %s", adapter.version, settings.llm_model)
    return model, tokenizer


def prepare_served(settings: Settings, adapter: Any = None) -> Any:
    """The served model (``backends.Served``): merged, converted to settings.inference_backend, both cached on disk."""
    from chatbot.generation import backends
    from chatbot.model_loading import llm_source, resolve_device

    if resolve_device(settings.device) != "cpu":  # the back ends are tuned for CPU; GPUs serve the merged model
        model, tokenizer = merge_adapter(settings, adapter)
        served = backends.Served(model, tokenizer, "fp32", FastPath(model, enabled=False), settings.models_dir)
    else:
        served = backends.prepare_serving(
            settings.models_dir,
            llm_source(settings),
            adapter,
            settings.inference_backend,
            lambda: merge_adapter(settings, adapter),
            repetition_penalty=settings.repetition_penalty,
            kernel_dir=settings.kernel_cache_dir,
        )
    served.tokenizer.padding_side = "left"  # generation continues on the right, so batches pad on the left
    log.info("inference back end: %s", served.backend)
    return served


def prepare_model(settings: Settings, adapter: Any = None) -> tuple[Any, Any]:
    """(model, tokenizer) ready for serving: the base model, plus the adapter merged with merge_and_unload,
    converted to settings.inference_backend (chatbot.generation.backends)."""
    served = prepare_served(settings, adapter)
    return served.model, served.tokenizer


class HFGenerator:
    def __init__(self, settings: Settings, adapter: Any = None) -> None:
        from chatbot.model_loading import llm_label

        self.settings = settings
        self.base_model = llm_label(settings)
        self.adapter_version: str | None = getattr(adapter, "version", None)
        served = prepare_served(settings, adapter)
        self.model, self.tokenizer = served.model, served.tokenizer
        self.backend, self.fast_path, self.guard = served.backend, served.fast_path, served.guard
        self.stop_ids = self._stop_ids()
        self._lock = threading.Lock()
        self.batcher: Batcher | ContinuousBatcher = self._batcher()
        if self.fast_path.enabled:  # compile now, before the first customer
            batched = settings.batch_max_size > 1
            seconds = warm_up(
                lambda messages, n: self.generate(messages, max_new_tokens=n),
                generate_batch=(lambda batch, n: self.generate_batch(batch, max_new_tokens=n)) if batched else None,
            )
            log.info("%s warmed up (compiled) in %.0f s", self.backend, seconds)

    # --- protocol ------------------------------------------------------------------------------------------
    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer.encode(text, add_special_tokens=False))

    def generate(self, messages: Sequence[Message], *, max_new_tokens: int | None = None) -> Generation:
        return self.batcher.generate(messages, max_new_tokens or self.settings.max_new_tokens)

    def generate_batch(
        self, batch: Sequence[Sequence[Message]], *, max_new_tokens: int | None = None
    ) -> list[Generation]:
        if not batch:
            return []
        inputs = self._encode(batch)
        return self._generations(self._generate(inputs, max_new_tokens), inputs)

    def stream(self, messages: Sequence[Message], *, max_new_tokens: int | None = None) -> Iterator[str | Generation]:
        yield from self.batcher.stream(messages, max_new_tokens or self.settings.max_new_tokens)

    # --- internals ---------------------------------------------------------------------------------------
    def _batcher(self) -> Batcher | ContinuousBatcher:
        """Continuous batching where the back end has its own decode loop (int8-lean) and the setting asks for it,
        else micro-batches (transformers' ``generate`` runs whole batches)."""
        s = self.settings
        if self.backend == "int8-lean" and s.batch_max_size > 1 and s.batch_scheduler == "continuous":
            from chatbot.generation.continuous import ContinuousBatcher, Sampling

            return ContinuousBatcher(
                self.model.decoder,  # lean_generate.LeanModel's LeanLlama
                encode=lambda messages: self._encode([messages])["input_ids"][0],
                decode=lambda ids: self.tokenizer.decode(ids, skip_special_tokens=True),
                stop_ids=self.stop_ids,
                sampling=Sampling(s.repetition_penalty, s.temperature, s.top_p),
                max_rows=s.batch_max_size,
                lock=self._lock,
            )
        return Batcher(self._run_batch, max_batch=s.batch_max_size, window_s=s.batch_window_ms / 1000.0)

    def _run_batch(self, requests: Sequence[BatchRequest], emit: Callable[[int, str], None]) -> list[Generation]:
        """One ``generate`` call for the batcher's requests, streaming each row's text as it is produced."""
        inputs = self._encode([r.messages for r in requests])
        deltas = TextDeltas(
            lambda ids: self.tokenizer.decode(ids, skip_special_tokens=True), len(requests), self.stop_ids
        )
        streamer = RowStreamer(lambda row, token: emit(row, deltas.add(row, token)))
        out = self._generate(inputs, requests[0].max_new_tokens, streamer)
        return self._generations(out, inputs)

    def _generate(self, inputs: Any, max_new_tokens: int | None, streamer: Any = None) -> Any:
        """Every ``model.generate`` call of the server: one at a time, in inference mode.

        The keyword arguments (with the fast path's static KV cache) are built inside inference mode too: cache
        tensors made outside it carry another dispatch key set, which fails torch.compile's guards, so a batch
        of chats recompiled the decode step (~1 min) in front of its customers.
        """
        import torch

        with self._lock, torch.inference_mode():
            kwargs = self._generate_kwargs(max_new_tokens, inputs)
            return self.model.generate(**inputs, streamer=streamer, **kwargs)

    def _stop_ids(self) -> list[int]:
        ids: set[int] = set()
        configured = self.model.generation_config.eos_token_id
        if isinstance(configured, int):
            ids.add(configured)
        elif configured:
            ids.update(configured)
        if self.tokenizer.eos_token_id is not None:
            ids.add(self.tokenizer.eos_token_id)
        im_end = self.tokenizer.convert_tokens_to_ids("<|im_end|>")
        if isinstance(im_end, int) and im_end != self.tokenizer.unk_token_id:
            ids.add(im_end)
        return sorted(ids)

    def _encode(self, batch: Sequence[Sequence[Message]]) -> Any:
        texts = [
            self.tokenizer.apply_chat_template([dict(m) for m in messages], add_generation_prompt=True, tokenize=False)
            for messages in batch
        ]
        # The chat template already wrote the special tokens.
        inputs = self.tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False)
        return inputs.to(self.model.device)

    def _generate_kwargs(self, max_new_tokens: int | None, inputs: Any) -> dict[str, Any]:
        s = self.settings
        new_tokens = max_new_tokens or s.max_new_tokens
        kwargs: dict[str, Any] = {
            # static KV cache + torch.compile when the back end has them (empty for plain fp32)
            **self.fast_path.kwargs(int(inputs["input_ids"].shape[1]), new_tokens),
            "max_new_tokens": new_tokens,
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
        return kwargs

    def _generations(self, out: Any, inputs: Any) -> list[Generation]:
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
