"""Continuous batching for the int8-lean back end: a chat joins the running batch at the next decode step.

Why: with ``batching.Batcher`` a batch runs until its longest answer ends, and a chat that arrives meanwhile waits
for all of it. Here a finished chat's answer goes back at once and a newcomer starts at the next step: more answers
per second at every load measured (docs/inference.md, session 6), though not a shorter p95 for a burst of 8, which
the prompt passes (bound by arithmetic) set either way.

One worker thread owns the model and loops: admit waiting chats (each prompt read on its own, no padding, into its
own KV cache), then one decode step for every active chat (one C++ call: rows of different lengths share it,
``LeanLlama.step``), hand each chat its new text, and retire the finished ones, so their places are free for the
next step. Token choice is ``LeanModel.generate``'s, row by row: raw logits -> repetition penalty -> argmax (or
temperature / top-p draw); every token's log-probability comes from the raw logits, so confidence is computed from
the served model's own beliefs, and a chat's answer equals the one it would get alone.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from chatbot.generation.batching import TextDeltas, Worker, final_generation
from chatbot.generation.lean_decoder import KVCache, LeanLlama
from chatbot.generation.lean_generate import apply_repetition_penalty, filter_top_k_top_p
from chatbot.protocols import Generation, Message

log = logging.getLogger(__name__)
# How many of the latest steps and prompt passes the engine remembers: a server runs for days (a step every ~20 ms).
RECORDS_KEPT = 10_000


@dataclass(frozen=True)
class Sampling:
    repetition_penalty: float = 1.0
    temperature: float = 0.0  # 0: greedy
    top_p: float = 1.0


@dataclass
class _Request:
    input_ids: torch.Tensor  # (T,)
    max_new_tokens: int
    out: queue.Queue[Any] = field(default_factory=queue.Queue)  # str pieces, then a Generation or an exception


@dataclass
class _Row:
    """One chat being answered: its cache, the logits its next token is chosen from, what it has produced."""

    request: _Request
    cache: KVCache
    logits: torch.Tensor  # (vocab,) raw logits for the next token
    seen: torch.Tensor  # (vocab,) bool: tokens of the prompt and the answer so far (repetition penalty)
    position: int  # rotary position and cache slot of the next token
    deltas: TextDeltas
    keys: list[torch.Tensor]
    values: list[torch.Tensor]
    tokens: list[int] = field(default_factory=list)
    logprobs: list[float] = field(default_factory=list)


class ContinuousBatcher(Worker):
    """``stream`` / ``generate`` like ``batching.Batcher``, for a ``LeanLlama``.

    ``encode(messages)`` gives the prompt's token ids (T,); ``decode(ids)`` the text of answer tokens. ``lock`` is
    held for each admit-and-step round, so explicit batches (evals) on the same model interleave with chats.
    """

    def __init__(
        self,
        decoder: LeanLlama,
        *,
        encode: Callable[[Sequence[Message]], torch.Tensor],
        decode: Callable[[list[int]], str],
        stop_ids: Sequence[int],
        sampling: Sampling,
        max_rows: int = 8,
        lock: Any = None,
    ) -> None:
        if max_rows < 1:
            raise ValueError("max_rows must be at least 1")
        self.decoder = decoder
        self.encode = encode
        self.decode = decode
        self.stop_ids = list(stop_ids)
        self._stops = set(self.stop_ids)
        self.sampling = sampling
        self.max_rows = max_rows
        super().__init__(self._loop, "bankbot-continuous-batcher")
        self._lock = lock if lock is not None else threading.Lock()
        self._pending: list[_Request] = []
        self._active: list[_Row] = []
        # What the engine spent its time on lately (tests and benchmarks/load_bound.py read them): chats in each
        # decode step and its seconds, and the seconds of each prompt pass.
        self.step_rows: deque[int] = deque(maxlen=RECORDS_KEPT)
        self.step_seconds: deque[float] = deque(maxlen=RECORDS_KEPT)
        self.prompt_seconds: deque[float] = deque(maxlen=RECORDS_KEPT)
        self._last: tuple[torch.Tensor, KVCache] | None = None  # the latest prompt and its cache (shared beginnings)
        self.reused_tokens = 0  # prompt positions copied from an earlier prompt instead of computed

    # --- callers ---------------------------------------------------------------------------------------------
    def stream(self, messages: Sequence[Message], max_new_tokens: int) -> Iterator[str | Generation]:
        """Text pieces as they are generated, then the final Generation; re-raises the chat's exception."""
        ids = self.encode(messages)
        self.decoder.check_room(ids.numel(), max_new_tokens)
        yield from self.submit(_Request(ids, max_new_tokens))

    def generate(self, messages: Sequence[Message], max_new_tokens: int) -> Generation:
        return final_generation(self.stream(messages, max_new_tokens))

    # --- the worker ------------------------------------------------------------------------------------------
    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._pending and not self._active:
                    self._cond.wait()
            with self._lock, torch.inference_mode():
                with self._cond:  # taken under the model's lock: whoever holds it sees every waiting chat
                    free = self.max_rows - len(self._active)
                    admitted, self._pending = self._pending[:free], self._pending[free:]
                for request in admitted:
                    try:
                        self._active.append(self._admit(request))
                    except Exception as exc:  # this chat fails alone; the others go on
                        log.exception("a chat's prompt pass failed")
                        request.out.put(exc)
                if self._active:
                    try:
                        self._advance()
                    except Exception as exc:  # every active chat gets the error; the worker carries on
                        log.exception("a decode step failed")
                        for row in self._active:
                            row.request.out.put(exc)
                        self._active = []

    def _admit(self, request: _Request) -> _Row:
        """Read the prompt into a cache of its own (prompt + answer budget slots).

        The positions it shares with the previous prompt from the start (at least the system prompt: every chat's
        prompt begins with it) are copied from that prompt's cache instead of computed again: a key or value at a
        position depends only on the tokens up to it. A prompt pass is bound by arithmetic here (~1.3 s for 426
        tokens), so that is ~15 % of every chat's prompt pass."""
        started = time.perf_counter()
        decoder, ids = self.decoder, request.input_ids
        length = ids.numel()
        cache = decoder.new_cache(1, length + request.max_new_tokens)
        reuse = 0
        if self._last is not None:
            last_ids, last_cache = self._last
            n = min(last_ids.numel(), length - 1)  # at least one token is read: its logits choose the first token
            differ = (last_ids[:n] != ids[:n]).nonzero()
            reuse = int(differ[0, 0]) if len(differ) else n
            for mine, theirs in zip(cache.keys + cache.values, last_cache.keys + last_cache.values, strict=True):
                mine[:, :, :reuse] = theirs[:, :, :reuse]
        hidden = decoder.prefill(ids[None, reuse:], torch.ones(1, length - reuse, dtype=torch.long), cache, reuse)
        self._last = (ids, cache)
        self.reused_tokens += reuse
        logits = decoder.logits(hidden[:, -1])[0]
        seen = torch.zeros(decoder.vocab, dtype=torch.bool)
        seen[ids] = True
        keys, values = cache.row_views()
        self.prompt_seconds.append(time.perf_counter() - started)
        return _Row(request, cache, logits, seen, length, TextDeltas(self.decode, 1, self.stop_ids), keys, values)

    def _choose(self, logits: torch.Tensor, seen: torch.Tensor) -> torch.Tensor:
        s = self.sampling
        scores = apply_repetition_penalty(logits, seen, s.repetition_penalty)
        if s.temperature > 0:
            scores = filter_top_k_top_p(scores / s.temperature, None, s.top_p)
            return torch.multinomial(scores.softmax(dim=-1), 1).squeeze(-1)
        return scores.argmax(dim=-1)

    def _advance(self) -> None:
        """Choose every active chat's next token, hand it out, retire finished chats, run one decode step."""
        rows = self._active
        logits = torch.stack([r.logits for r in rows])
        tokens = self._choose(logits, torch.stack([r.seen for r in rows]))
        logprobs = torch.log_softmax(logits, dim=-1).gather(-1, tokens[:, None])[:, 0]
        going: list[_Row] = []
        for row, token, logprob in zip(rows, tokens.tolist(), logprobs.tolist(), strict=True):
            row.seen[token] = True
            stop = token in self._stops
            if not stop:
                row.tokens.append(token)
                row.logprobs.append(logprob)
                piece = row.deltas.add(0, token)
                if piece:
                    row.request.out.put(piece)
            if stop or len(row.tokens) >= row.request.max_new_tokens:
                row.request.out.put(self._generation(row, finished=stop))
            else:
                going.append(row)
        self._active = going
        if not going:
            return
        started = time.perf_counter()
        layers = range(len(self.decoder.layers))
        keys = [r.keys[layer] for layer in layers for r in going]  # the decode step's order: layer, then row
        values = [r.values[layer] for layer in layers for r in going]
        positions = torch.tensor([r.position for r in going])
        chosen = torch.tensor([r.tokens[-1] for r in going])
        step_logits = self.decoder.step(chosen, positions, positions, keys, values)
        for i, row in enumerate(going):
            row.logits = step_logits[i]
            row.position += 1
        self.step_rows.append(len(going))
        self.step_seconds.append(time.perf_counter() - started)

    def _generation(self, row: _Row, *, finished: bool) -> Generation:
        return Generation(
            text=self.decode(row.tokens).strip(),
            token_logprobs=row.logprobs,
            prompt_tokens=int(row.request.input_ids.numel()),
            finished=finished,
        )
