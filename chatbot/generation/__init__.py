"""LLM engines behind the ``chatbot.protocols.Generator`` protocol.

llama.cpp serves (the production bundle's adapter merged into the base model, exported as GGUF); transformers is
the training and reference path; a fake stands in for the model in the fast tests. With ``llm_server_url`` set, an
OpenAI-compatible server (vLLM, llama.cpp's server) generates instead.
"""

from __future__ import annotations

import logging
from typing import Any

from chatbot.protocols import Generator
from chatbot.settings import FAKE_LLM, Settings

log = logging.getLogger(__name__)


def build_generator(settings: Settings, adapter: Any = None) -> Generator:
    """The generator for ``settings.llm_model`` with the production adapter (``chatbot.registry.AdapterRef``)."""
    if settings.llm_server_url:
        # The model runs on the server; only its tokenizer and chat template (the base GGUF, no weights) load here.
        from chatbot.generation.gguf_export import base_gguf
        from chatbot.generation.openai_server import OpenAIServerGenerator
        from chatbot.model_loading import llm_label

        version = getattr(adapter, "version", None)
        return OpenAIServerGenerator(
            settings, base_gguf(settings), base_model=llm_label(settings), adapter_version=version
        )
    if settings.llm_model == FAKE_LLM:
        from chatbot.generation.fake import FakeGenerator

        return FakeGenerator(settings, adapter)
    if settings.llm_engine == "llama-cpp":
        from chatbot.generation.gguf_export import GGUFExportUnsupported, ensure_served_gguf
        from chatbot.generation.hf import merge_adapter
        from chatbot.generation.llamacpp_engine import LlamaCppGenerator
        from chatbot.model_loading import llm_label

        try:
            path = ensure_served_gguf(settings, adapter, lambda: merge_adapter(settings, adapter))
        except GGUFExportUnsupported as exc:
            log.warning("%s; serving with transformers instead (BANKBOT_LLM_ENGINE=transformers)", exc)
        else:
            version = getattr(adapter, "version", None)
            return LlamaCppGenerator(settings, path, base_model=llm_label(settings), adapter_version=version)
    from chatbot.generation.hf import HFGenerator

    return HFGenerator(settings, adapter)


__all__ = ["build_generator"]
