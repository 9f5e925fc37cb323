"""The serving engine: llama.cpp in-process (llama-cpp-python) on the production bundle's merged GGUF.

One ``llama_cpp.Llama`` context serves every chat of the process behind a lock: a context is not thread-safe, and
on a 2-core machine a second context running beside the first only splits the same cores. Each answer depends only
on its own prompt (no KV reuse across chats), so its confidence does too.

Confidence needs each generated token's log-probability under the model itself, before the repetition penalty:
llama.cpp's sampler applies the penalty to a copy of the logits, so the context's logits buffer read after each
sampled token still holds the raw ones.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from chatbot.errors import ModelLoadError
from chatbot.generation.chat_tokens import chat_token_ids
from chatbot.protocols import Generation, Message
from chatbot.settings import Settings

log = logging.getLogger(__name__)
CHATML = (
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + "
    "'\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)


_PARAMS_LOCK = threading.Lock()
PROBE = (
    "import sys; from llama_cpp import Llama; "
    "llm = Llama(model_path=sys.argv[1], n_ctx=64, verbose=False); llm.eval(llm.tokenize(b'Hello there, world'))"
)


def extra_buffers_usable(gguf_path: Path, cache_dir: Path) -> bool:
    """Whether llama.cpp's extra CPU buffer types (weight repacking, AMX tiles) work on this machine.

    A virtual machine can advertise AMX while the hypervisor does not enable its tile state: llama.cpp then dies
    with SIGILL/SIGSEGV at the first decode, taking the process with it. So the first start tries them in a child
    process; the verdict is cached per CPU and llama-cpp-python version.
    """
    from importlib.metadata import version

    flags = next((line for line in _cpuinfo().splitlines() if line.startswith("flags")), "")
    key = hashlib.sha256(f"{flags}|{version('llama-cpp-python')}".encode()).hexdigest()[:16]
    verdict_file = cache_dir / f"llama-cpp-extra-buffers-{key}.json"
    if verdict_file.is_file():
        return bool(json.loads(verdict_file.read_text())["usable"])
    try:
        probe = subprocess.run([sys.executable, "-c", PROBE, str(gguf_path)], capture_output=True, timeout=300)
        usable = probe.returncode == 0
    except subprocess.TimeoutExpired:
        usable = False
    if not usable:
        log.warning("llama.cpp's extra CPU buffer types crash on this machine; serving without them")
    cache_dir.mkdir(parents=True, exist_ok=True)
    verdict_file.write_text(json.dumps({"usable": usable}))
    return usable


def _cpuinfo() -> str:
    try:
        return Path("/proc/cpuinfo").read_text()
    except OSError:
        return ""


@contextlib.contextmanager
def _without_extra_buffers() -> Iterator[None]:
    """``Llama()`` has no argument for ``use_extra_bufts``; it reads llama.cpp's default model parameters, so
    swap that function while one model loads."""
    import llama_cpp
    from llama_cpp import llama as llama_module

    original = llama_cpp.llama_model_default_params

    def defaults() -> Any:
        params = original()
        params.use_extra_bufts = False
        return params

    with _PARAMS_LOCK:
        llama_module.llama_cpp.llama_model_default_params = defaults
        try:
            yield
        finally:
            llama_module.llama_cpp.llama_model_default_params = original


def log_softmax_at(logits: Any, token: int) -> float:
    """log p(token) from one row of raw logits (numpy), computed stably: exponentials in the logits' own float32,
    their sum in float64 (a float64 copy of the 49k-entry row cost 0.4 ms a token, 5 % of a decode step)."""
    import numpy as np

    row = np.asarray(logits)
    top = row.max()
    return float(row[token] - top) - float(np.log(np.exp(row - top).sum(dtype=np.float64)))


class LlamaCppGenerator:
    """``chatbot.protocols.Generator`` served by llama.cpp from a GGUF file."""

    def __init__(self, settings: Settings, gguf_path: Path, *, base_model: str, adapter_version: str | None) -> None:
        self.settings = settings
        self.gguf_path = Path(gguf_path)
        self.base_model = base_model
        self.adapter_version = adapter_version
        self.backend = "llama-cpp"
        self._lock = threading.Lock()
        self.llm = self._load()
        self.template = self.llm.metadata.get("tokenizer.chat_template") or CHATML
        self.stop_ids = self._stop_ids()

    def _load(self) -> Any:
        try:
            from llama_cpp import Llama
        except ImportError as exc:  # pragma: no cover - llama-cpp-python is a dependency
            raise ModelLoadError(f"llama-cpp-python is not installed: {exc}") from exc
        s = self.settings
        usable = extra_buffers_usable(self.gguf_path, s.models_dir)
        threads = s.llm_threads or os.cpu_count() or 1
        try:
            with contextlib.nullcontext() if usable else _without_extra_buffers():
                return Llama(
                    model_path=str(self.gguf_path),
                    n_ctx=s.context_window,
                    n_batch=512,
                    # llama-cpp-python defaults to half the cores: one thread on a 2-core machine, which decodes 37
                    # tokens/s against 58 with two (docs/inference.md)
                    n_threads=threads,
                    n_threads_batch=threads,
                    n_gpu_layers=-1 if s.device != "cpu" else 0,  # offloads when built with a GPU back end
                    verbose=False,
                )
        except (ValueError, RuntimeError, OSError) as exc:
            raise ModelLoadError(f"llama.cpp cannot load {self.gguf_path}: {exc}") from exc

    def _stop_ids(self) -> set[int]:
        import llama_cpp

        vocab = self.llm._model.vocab
        ids = {self.llm.token_eos()}
        im_end = self.llm.tokenize(b"<|im_end|>", add_bos=False, special=True)
        if len(im_end) == 1:
            ids.add(im_end[0])
        eog = {t for t in range(self.llm.n_vocab()) if llama_cpp.llama_vocab_is_eog(vocab, t)}
        return {t for t in ids if t >= 0} | eog

    # --- protocol ------------------------------------------------------------------------------------------
    def tokenize_text(self, text: str) -> list[int]:
        """Token ids of plain text (special-token spellings stay text)."""
        return list(self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def count_tokens(self, text: str) -> int:
        return len(self.tokenize_text(text))

    def encode(self, messages: Sequence[Message]) -> list[int]:
        """Prompt token ids; only the chat template's own markup can be special tokens."""
        first = [True]

        def markup(text: str) -> list[int]:
            add_bos, first[0] = first[0], False  # the model's BOS (if it wants one) goes before the first piece
            return self.llm.tokenize(text.encode("utf-8"), add_bos=add_bos, special=True)

        return chat_token_ids(
            self.template,
            messages,
            tokenize_markup=markup,
            tokenize_text=self.tokenize_text,
        )

    def generate(self, messages: Sequence[Message], *, max_new_tokens: int | None = None) -> Generation:
        final: Generation | None = None
        for piece in self.stream(messages, max_new_tokens=max_new_tokens):
            if isinstance(piece, Generation):
                final = piece
        assert final is not None
        return final

    def generate_batch(
        self, batch: Sequence[Sequence[Message]], *, max_new_tokens: int | None = None
    ) -> list[Generation]:
        # One context answers one prompt at a time; prompts sharing a beginning reuse its KV cache.
        return [self.generate(messages, max_new_tokens=max_new_tokens) for messages in batch]

    def stream(self, messages: Sequence[Message], *, max_new_tokens: int | None = None) -> Iterator[str | Generation]:
        prompt = self.encode(messages)
        limit = max_new_tokens or self.settings.max_new_tokens
        room = self.settings.context_window - len(prompt)
        if room < 1:
            raise ModelLoadError(
                f"the prompt has {len(prompt)} tokens; the context window is {self.settings.context_window}"
            )
        with self._lock:
            yield from self._decode(prompt, min(limit, room))

    # --- internals ---------------------------------------------------------------------------------------
    def _decode(self, prompt: list[int], limit: int) -> Iterator[str | Generation]:
        import llama_cpp

        s = self.settings
        tokens: list[int] = []
        logprobs: list[float] = []
        answer = b""  # detokenised piece by piece: llama.cpp's detokenize of a list is the pieces concatenated
        shown = ""
        finished = False
        sampling = {"temp": s.temperature, "top_p": s.top_p, "top_k": 0, "min_p": 0.0}
        # Every answer reads its whole prompt from an empty KV cache: reusing the previous chat's prefix computes the
        # rest in other batch shapes, which moved token log-probs (so confidences) by up to 0.14 with the same text.
        self.llm.reset()
        for token in self.llm.generate(prompt, repeat_penalty=s.repetition_penalty, reset=True, **sampling):
            if token in self.stop_ids:
                finished = True
                break
            raw = llama_cpp.llama_get_logits_ith(self.llm._ctx.ctx, -1)
            logprobs.append(log_softmax_at(_as_row(raw, self.llm.n_vocab()), token))
            tokens.append(token)
            answer += self.llm.detokenize([token], special=False)
            text = answer.decode("utf-8", errors="replace")
            if len(text) > len(shown) and not text.endswith("\ufffd"):  # hold back a half-decoded UTF-8 character
                yield text[len(shown) :]
                shown = text
            if len(tokens) >= limit:
                break
        yield Generation(
            text=answer.decode("utf-8", errors="replace").strip(),
            token_logprobs=logprobs,
            prompt_tokens=len(prompt),
            finished=finished,
        )


def _as_row(pointer: Any, n_vocab: int) -> Any:
    import numpy as np

    return np.ctypeslib.as_array(pointer, shape=(n_vocab,))
