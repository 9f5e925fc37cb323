"""Micro-batching of concurrent chats: requests that arrive together are answered in one ``generate`` call.

On 2 CPU cores a 135M model is limited by fixed per-token overhead, not arithmetic, so decoding 8 sequences at
once costs far less than 8 times one (see benchmarks/load.py). A single worker thread owns the model: it takes
the oldest waiting request, waits up to ``window_s`` for company (requests with the same token budget, at most
``max_batch``), runs them as one left-padded batch and hands each caller its own stream of text pieces and final
``Generation``. A request that arrives while a batch is running waits for the next one; one alone pays only the
window. ``max_batch=1`` turns batching off (one request at a time, in arrival order).
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from chatbot.protocols import Generation, Message

_DONE = object()


@dataclass
class BatchRequest:
    messages: Sequence[Message]
    max_new_tokens: int
    out: queue.Queue[Any] = field(default_factory=queue.Queue)  # str pieces, then a Generation or an exception


# run(requests, emit) generates for all requests at once and returns one Generation per request, in order;
# emit(row, text) passes on each piece of a row's answer as it is produced (see RowStreamer and TextDeltas).
RunBatch = Callable[[Sequence[BatchRequest], Callable[[int, str], None]], list[Generation]]


def drain(out: queue.Queue[Any]) -> Iterator[str | Generation]:
    """A request's text pieces as the worker puts them, then its final Generation; re-raises its exception."""
    while True:
        item = out.get()
        if isinstance(item, BaseException):
            raise item
        yield item
        if isinstance(item, Generation):
            return


def final_generation(items: Iterator[str | Generation]) -> Generation:
    """The Generation a stream ends with (its text pieces are dropped)."""
    final = None
    for item in items:
        if isinstance(item, Generation):
            final = item
    assert final is not None  # a stream always ends with a Generation or raises
    return final


class Worker:
    """One worker thread runs ``loop`` (it owns the model); callers queue requests, each with an ``out`` queue, with
    ``submit`` and read the worker's answers from it. Both schedulers (``Batcher``, ``ContinuousBatcher``) are one."""

    def __init__(self, loop: Callable[[], None], name: str) -> None:
        self._loop_fn = loop
        self._name = name
        self._pending: list[Any] = []
        self._cond = threading.Condition()
        self._worker: threading.Thread | None = None

    def submit(self, request: Any) -> Iterator[str | Generation]:
        with self._cond:
            self._pending.append(request)
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._loop_fn, name=self._name, daemon=True)
                self._worker.start()
            self._cond.notify_all()
        yield from drain(request.out)


class RowStreamer:
    """A transformers streamer for a batch: routes each row's new tokens to that row's request as text.

    transformers calls ``put`` first with the prompt ids, then once per step with one token per row.
    ``TextIteratorStreamer`` only supports batches of one, hence this class.
    """

    def __init__(self, on_token: Callable[[int, int], None]) -> None:
        self.on_token = on_token
        self.prompt_seen = False

    def put(self, value: Any) -> None:
        if not self.prompt_seen:
            self.prompt_seen = True
            return
        ids = value.reshape(-1).tolist()
        for row, token in enumerate(ids):
            self.on_token(row, int(token))

    def end(self) -> None:
        pass


class TextDeltas:
    """Per-row incremental detokenisation: each new token becomes the text it adds (nothing after a stop token).

    The whole row is decoded each step (answers are short) so multi-token characters and spacing come out as the
    final text has them; a piece is held back while it ends in an incomplete character."""

    def __init__(self, decode: Callable[[list[int]], str], rows: int, stop_ids: Sequence[int]) -> None:
        self.decode = decode
        self.stop = set(stop_ids)
        self.tokens: list[list[int]] = [[] for _ in range(rows)]
        self.sent = [""] * rows
        self.done = [False] * rows

    def add(self, row: int, token: int) -> str:
        if self.done[row]:
            return ""
        if token in self.stop:
            self.done[row] = True
            return ""
        self.tokens[row].append(token)
        text = self.decode(self.tokens[row])
        if text.endswith("\ufffd") or not text.startswith(self.sent[row]):
            return ""
        delta, self.sent[row] = text[len(self.sent[row]) :], text
        return delta


class Batcher(Worker):
    def __init__(self, run: RunBatch, *, max_batch: int = 8, window_s: float = 0.02) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        super().__init__(self._loop, "bankbot-batcher")
        self.run = run
        self.max_batch = max_batch
        self.window_s = window_s
        self._pending: list[BatchRequest] = []
        self.batch_sizes: list[int] = []  # every batch run so far (tests and the load benchmark read it)

    # --- callers ---------------------------------------------------------------------------------------------
    def stream(self, messages: Sequence[Message], max_new_tokens: int) -> Iterator[str | Generation]:
        """Text pieces as they are generated, then the final Generation; re-raises the batch's exception."""
        yield from self.submit(BatchRequest(messages, max_new_tokens))

    def generate(self, messages: Sequence[Message], max_new_tokens: int) -> Generation:
        return final_generation(self.stream(messages, max_new_tokens))

    # --- the worker ------------------------------------------------------------------------------------------
    def _take_batch(self) -> list[BatchRequest]:
        """The oldest request plus others with the same token budget that arrive within the window."""
        with self._cond:
            while not self._pending:
                self._cond.wait()
            first = self._pending[0]
            deadline = time.monotonic() + self.window_s
            while self.max_batch > 1:
                company = [r for r in self._pending if r.max_new_tokens == first.max_new_tokens]
                left = deadline - time.monotonic()
                if len(company) >= self.max_batch or left <= 0:
                    break
                self._cond.wait(left)
            batch = [r for r in self._pending if r.max_new_tokens == first.max_new_tokens][: self.max_batch]
            self._pending = [r for r in self._pending if r not in batch]
            return batch

    def _loop(self) -> None:
        while True:
            batch = self._take_batch()
            self.batch_sizes.append(len(batch))

            def emit(row: int, text: str, batch: list[BatchRequest] = batch) -> None:
                if text:
                    batch[row].out.put(text)

            try:
                generations = self.run(batch, emit)
            except BaseException as exc:  # every caller of the batch gets the error; the worker carries on
                for request in batch:
                    request.out.put(exc)
                continue
            for request, generation in zip(batch, generations, strict=True):
                request.out.put(generation)
