"""The LLM on a separate server: any OpenAI-compatible completions API (vLLM on a GPU, llama.cpp's server on CPU).

The prompt is built here exactly as in-process: the base model's GGUF is opened vocabulary-only (no weights) for
the tokenizer and the chat template, and messages become token ids with ``chat_token_ids``, so user and passage
text can never become control tokens. Servers that take token ids as ``prompt`` (vLLM, llama.cpp's C++
``llama-server``) get those ids. llama-cpp-python's server accepts only text, which it tokenises with special
tokens enabled: it gets the ids' text only when tokenising that text back gives the same control tokens; a
content that spells a control token is first defused (a word joiner after its first character).

Confidence needs each generated token's raw log-probability: ``logprobs: 1`` on /v1/completions returns it per
token (llama.cpp computes it from the model's logits, vLLM by default too; both before any repetition penalty,
which the settings keep off anyway).
"""

from __future__ import annotations

import contextlib
import json
import logging
import random
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from chatbot.errors import GeneratorUnavailable, ModelLoadError
from chatbot.generation.chat_tokens import chat_token_ids
from chatbot.protocols import Generation, Message
from chatbot.settings import Settings

log = logging.getLogger(__name__)
RETRY_STATUS = frozenset({429, 500, 502, 503, 504})  # the server is busy or restarting: worth another try
_TOKEN_ID = re.compile(r"^token_id:(\d+)$")  # vLLM's spelling with return_tokens_as_token_ids
WORD_JOINER = "\u2060"
MAX_PARALLEL = 4  # requests of one generate_batch in flight at once (a vLLM server batches them)


class LLMServerUnavailable(GeneratorUnavailable):
    """The LLM server did not answer (down, timing out, or failing) after the configured retries."""


def server_model_name(template: str, adapter_version: str | None) -> str:
    """The model name to request: ``{adapter}`` in the setting becomes the production adapter's version ("base"
    without one), so a vLLM server that loaded each adapter under its own name serves the promoted one."""
    return template.replace("{adapter}", adapter_version or "base")


def backoff_s(attempt: int) -> float:
    """Wait before retry ``attempt`` (1, 2, ...): exponential from 0.25 s, capped at 4 s, with jitter so replicas
    that lost the server together do not come back in step."""
    return min(4.0, 0.25 * 2 ** (attempt - 1)) * (0.5 + random.random() / 2)


def parse_logprobs(choice: dict[str, Any], stop_ids: set[int], stop_texts: set[str]) -> list[float]:
    """Per-token log-probs of one completions choice, without the stop token a server may include at the end."""
    logprobs = choice.get("logprobs") or {}
    values = [float(v) for v in logprobs.get("token_logprobs") or [] if v is not None]
    tokens = logprobs.get("tokens") or []
    if values and len(tokens) == len(values):
        last = str(tokens[-1])
        match = _TOKEN_ID.match(last)
        if (match and int(match.group(1)) in stop_ids) or last in stop_texts:
            values.pop()
    return values


class OpenAIServerGenerator:
    """``chatbot.protocols.Generator`` whose tokens come from an OpenAI-compatible server."""

    def __init__(
        self,
        settings: Settings,
        tokenizer_gguf: Path,
        *,
        base_model: str,
        adapter_version: str | None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not settings.llm_server_url:
            raise ModelLoadError("BANKBOT_LLM_SERVER_URL is not set")
        self.settings = settings
        self.base_model = base_model
        self.adapter_version = adapter_version
        self.backend = "llm-server"
        self.model_name = server_model_name(settings.llm_server_model, adapter_version)
        self.vocab = _load_vocab(tokenizer_gguf)
        self.template = self.vocab.metadata.get("tokenizer.chat_template") or _chatml()
        self.stop_ids, self.control_ids = _special_ids(self.vocab)
        self.stop_texts = {self._piece(t) for t in self.stop_ids}
        self.ids_accepted: bool | None = None  # None: not known yet; False: the server wants text prompts
        headers = {}
        if settings.llm_server_api_key is not None:
            headers["Authorization"] = f"Bearer {settings.llm_server_api_key.get_secret_value()}"
        timeout = httpx.Timeout(settings.llm_server_timeout_s, connect=min(5.0, settings.llm_server_timeout_s))
        self.client = httpx.Client(
            base_url=settings.llm_server_url.rstrip("/"), headers=headers, timeout=timeout, transport=transport
        )
        self._mode_lock = threading.Lock()
        self._vocab_lock = threading.RLock()  # generate_batch encodes on several threads; one tokenizer serves them

    # --- tokens --------------------------------------------------------------------------------------------
    def _piece(self, token: int) -> str:
        return self.vocab.detokenize([token], special=True).decode("utf-8", errors="replace")

    def tokenize_text(self, text: str) -> list[int]:
        with self._vocab_lock:
            return list(self.vocab.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def count_tokens(self, text: str) -> int:
        return len(self.tokenize_text(text))

    def encode(self, messages: Sequence[Message]) -> list[int]:
        """Prompt token ids, as ``LlamaCppGenerator.encode``: only the template's markup can be special tokens."""
        first = [True]

        def markup(text: str) -> list[int]:
            add_bos, first[0] = first[0], False
            return list(self.vocab.tokenize(text.encode("utf-8"), add_bos=add_bos, special=True))

        with self._vocab_lock:
            return chat_token_ids(self.template, messages, tokenize_markup=markup, tokenize_text=self.tokenize_text)

    def prompt_text(self, messages: Sequence[Message]) -> str:
        """The prompt for a server that tokenises text with special tokens on, with no control token the ids lack."""
        with self._vocab_lock:
            return self._prompt_text(messages)

    def _prompt_text(self, messages: Sequence[Message]) -> str:
        ids = self.encode(messages)
        if self.vocab._model.add_bos_token() and ids[:1] == [self.vocab.token_bos()]:
            ids = ids[1:]  # the server adds its own
        text = self.vocab.detokenize(ids, special=True).decode("utf-8", errors="replace")
        if self._same_controls(ids, text):
            return text
        defused = [{"role": m["role"], "content": self.defuse(m["content"])} for m in messages]
        ids = self.encode(defused)
        if self.vocab._model.add_bos_token() and ids[:1] == [self.vocab.token_bos()]:
            ids = ids[1:]
        text = self.vocab.detokenize(ids, special=True).decode("utf-8", errors="replace")
        if not self._same_controls(ids, text):
            raise LLMServerUnavailable("the prompt cannot be sent as text without changing its control tokens")
        return text

    def defuse(self, content: str) -> str:
        """``content`` with every control-token spelling broken by a word joiner (text mode only)."""
        for token in set(self.vocab.tokenize(content.encode("utf-8"), add_bos=False, special=True)):
            if token in self.control_ids:
                spelling = self._piece(token)
                if len(spelling) > 1:
                    content = content.replace(spelling, spelling[0] + WORD_JOINER + spelling[1:])
        return content

    def _same_controls(self, ids: list[int], text: str) -> bool:
        again = self.vocab.tokenize(text.encode("utf-8"), add_bos=False, special=True)
        return [t for t in again if t in self.control_ids] == [t for t in ids if t in self.control_ids]

    # --- protocol ------------------------------------------------------------------------------------------
    def generate(self, messages: Sequence[Message], *, max_new_tokens: int | None = None) -> Generation:
        prompt, limit = self._prepared(messages, max_new_tokens)
        response = self._post(messages, self._body(messages, prompt, limit, stream=False))
        try:
            choice = response.json()["choices"][0]
            text = str(choice.get("text") or "")
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise LLMServerUnavailable(f"the LLM server sent an unreadable completion: {exc}") from exc
        return Generation(
            text=text.strip(),
            token_logprobs=parse_logprobs(choice, self.stop_ids, self.stop_texts),
            prompt_tokens=len(prompt),
            finished=choice.get("finish_reason") == "stop",
        )

    def generate_batch(
        self, batch: Sequence[Sequence[Message]], *, max_new_tokens: int | None = None
    ) -> list[Generation]:
        if len(batch) <= 1:
            return [self.generate(m, max_new_tokens=max_new_tokens) for m in batch]
        with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL, len(batch)), thread_name_prefix="llm-server") as pool:
            return list(pool.map(lambda m: self.generate(m, max_new_tokens=max_new_tokens), batch))

    def stream(self, messages: Sequence[Message], *, max_new_tokens: int | None = None) -> Iterator[str | Generation]:
        prompt, limit = self._prepared(messages, max_new_tokens)
        pieces: list[str] = []
        logprobs: list[float] = []
        finish: str | None = None
        try:
            with self._open_stream(messages, self._body(messages, prompt, limit, stream=True)) as response:
                for line in response.iter_lines():
                    if not line.startswith("data:"):
                        continue
                    data = line[5:].strip()
                    if data == "[DONE]":
                        break
                    choice = json.loads(data)["choices"][0]
                    logprobs.extend(parse_logprobs(choice, self.stop_ids, self.stop_texts))
                    finish = choice.get("finish_reason") or finish
                    if piece := str(choice.get("text") or ""):
                        pieces.append(piece)
                        yield piece
        except httpx.HTTPError as exc:
            raise LLMServerUnavailable(f"the LLM server stream broke off: {exc}") from exc
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise LLMServerUnavailable(f"the LLM server sent an unreadable stream event: {exc}") from exc
        if finish is None:  # e.g. llama-cpp-python's server ends a stream early when another request comes in
            raise LLMServerUnavailable("the LLM server ended the stream without finishing the answer")
        yield Generation(
            text="".join(pieces).strip(), token_logprobs=logprobs, prompt_tokens=len(prompt), finished=finish == "stop"
        )

    def close(self) -> None:
        self.client.close()

    # --- HTTP ----------------------------------------------------------------------------------------------
    def _prepared(self, messages: Sequence[Message], max_new_tokens: int | None) -> tuple[list[int], int]:
        prompt = self.encode(messages)
        room = self.settings.context_window - len(prompt)
        if room < 1:
            raise ModelLoadError(
                f"the prompt has {len(prompt)} tokens; the context window is {self.settings.context_window}"
            )
        return prompt, min(max_new_tokens or self.settings.max_new_tokens, room)

    def _body(self, messages: Sequence[Message], ids: list[int], limit: int, *, stream: bool) -> dict[str, Any]:
        s = self.settings
        return {
            "model": self.model_name,
            "prompt": ids if self.ids_accepted is not False else self.prompt_text(messages),
            "max_tokens": limit,
            "temperature": s.temperature,
            "top_p": s.top_p,
            "min_p": 0.0,  # top_k is left out: its "off" value differs between servers, and greedy ignores it
            "logprobs": 1,
            "stream": stream,
            "repeat_penalty": s.repetition_penalty,  # llama.cpp's name (its server's default is 1.1, not off)
            "repetition_penalty": s.repetition_penalty,  # vLLM's name
            "stop_token_ids": sorted(self.stop_ids),  # vLLM: stop on every end-of-generation token, as in-process
            "return_tokens_as_token_ids": True,  # vLLM: lets parse_logprobs recognise a trailing stop token
        }

    def _post(self, messages: Sequence[Message], body: dict[str, Any]) -> httpx.Response:
        return self._with_retries(messages, body, lambda payload: self.client.post("/v1/completions", json=payload))

    @contextlib.contextmanager
    def _open_stream(self, messages: Sequence[Message], body: dict[str, Any]) -> Iterator[httpx.Response]:
        """The streaming response, opened with the same retries as ``_post``."""

        def send(payload: dict[str, Any]) -> httpx.Response:
            response = self.client.send(self.client.build_request("POST", "/v1/completions", json=payload), stream=True)
            if response.status_code >= 400:
                response.read()  # the error text, then the connection goes back to the pool
                response.close()
            return response

        response = self._with_retries(messages, body, send)
        try:
            yield response
        finally:
            response.close()

    def _with_retries(
        self, messages: Sequence[Message], body: dict[str, Any], send: Callable[[dict[str, Any]], httpx.Response]
    ) -> httpx.Response:
        attempts = 1 + self.settings.llm_server_retries
        last = ""
        attempt = 0
        while attempt < attempts:
            attempt += 1
            try:
                response: httpx.Response = send(body)
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.RemoteProtocolError, httpx.ReadError) as exc:
                last = f"{type(exc).__name__}: {exc}"
            except httpx.TimeoutException as exc:  # the server is up but slow: another try would only add load
                raise LLMServerUnavailable(
                    f"the LLM server at {self.settings.llm_server_url} did not answer within "
                    f"{self.settings.llm_server_timeout_s:g} s ({type(exc).__name__})"
                ) from exc
            else:
                if response.status_code < 400:
                    return response
                if self._wants_text(response):
                    body["prompt"] = self.prompt_text(messages)
                    attempt -= 1  # learning the prompt format is not a failure
                    continue
                last = f"HTTP {response.status_code}: {response.text[:200]}"
                if response.status_code not in RETRY_STATUS:
                    break
            if attempt < attempts:
                time.sleep(backoff_s(attempt))
        raise LLMServerUnavailable(f"the LLM server at {self.settings.llm_server_url} failed: {last}")

    def _wants_text(self, response: httpx.Response) -> bool:
        """Whether a refusal says the server does not take token ids as the prompt (llama-cpp-python's server)."""
        # llama-cpp-python's server reports its request validation errors as HTTP 500
        if response.status_code not in (400, 422, 500) or self.ids_accepted is False:
            return False
        text = response.text.lower()
        if "prompt" not in text or not ("string" in text or "validation" in text):
            return False
        with self._mode_lock:
            self.ids_accepted = False
        log.info("the LLM server takes text prompts only; sending checked prompt text")
        return True


def _load_vocab(path: Path) -> Any:
    try:
        from llama_cpp import Llama

        return Llama(model_path=str(path), vocab_only=True, verbose=False)
    except (ImportError, ValueError, RuntimeError, OSError) as exc:
        raise ModelLoadError(f"cannot read the tokenizer from {path}: {exc}") from exc


def _special_ids(vocab: Any) -> tuple[set[int], set[int]]:
    """(end-of-generation ids, control-token ids) of the vocabulary."""
    import llama_cpp

    model_vocab = vocab._model.vocab
    stop = {t for t in range(vocab.n_vocab()) if llama_cpp.llama_vocab_is_eog(model_vocab, t)}
    stop.add(vocab.token_eos())
    control = {t for t in range(vocab.n_vocab()) if llama_cpp.llama_vocab_is_control(model_vocab, t)}
    return {t for t in stop if t >= 0}, control


def _chatml() -> str:
    from chatbot.generation.llamacpp_engine import CHATML

    return CHATML
