"""LLM back ends behind the ``chatbot.protocols.Generator`` protocol: transformers (+ a merged LoRA) or a fake."""

from __future__ import annotations

from typing import Any

from chatbot.protocols import Generator
from chatbot.settings import FAKE_LLM, Settings


def build_generator(settings: Settings, adapter: Any = None) -> Generator:
    """The generator for ``settings.llm_model`` with the production adapter (``finetune.registry.AdapterRef``)."""
    if settings.llm_model == FAKE_LLM:
        from chatbot.generation.fake import FakeGenerator

        return FakeGenerator(settings, adapter)
    from chatbot.generation.hf import HFGenerator

    return HFGenerator(settings, adapter)


__all__ = ["build_generator"]
