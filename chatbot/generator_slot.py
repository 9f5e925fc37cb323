"""The process's one generator, shared by the app and its chat pipeline.

A model is large: a process loads one and every user of it (``BankBot.generator``, the pipeline, the start-up
warm-up) goes through this slot. It is built on first use, once even when the warm-up and a first customer ask
together, with the production bundle's adapter; ``follow_production`` swaps it whole when a promotion changed the
adapter. A generator given by the caller (tests, tools, one bundle's app) is never swapped.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from chatbot.protocols import Generator
from chatbot.settings import Settings

logger = logging.getLogger(__name__)

# The adapter is a ``chatbot.registry.AdapterRef`` (or None: the base model). The generator builders sit below the
# services layer and read only its ``version`` and ``path``, so they take it as Any.
AdapterLookup = Callable[[], Any]
GeneratorBuilder = Callable[[Settings, Any], Generator]
_UNKNOWN = object()  # the production adapter could not be read


def _build(settings: Settings, adapter: Any) -> Generator:
    from chatbot.generation import build_generator

    return build_generator(settings, adapter=adapter)


class GeneratorSlot:
    def __init__(
        self,
        settings: Settings,
        production_adapter: AdapterLookup,
        *,
        given: Generator | None = None,
        build: GeneratorBuilder = _build,
    ) -> None:
        self._settings = settings
        self._production_adapter = production_adapter
        self._build = build
        self._generator = given
        self.fixed = given is not None  # given by the caller: promotions do not change it
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        return self._generator is not None

    def get(self) -> Generator:
        with self._lock:  # the start-up warm-up and a first customer must not both load the model
            if self._generator is None:
                adapter = self._adapter(keep_current=False)
                self._generator = self._build(self._settings, None if adapter is _UNKNOWN else adapter)
            return self._generator

    def follow_production(self) -> str | None:
        """Swap the loaded model when the production adapter changed; the adapter version served afterwards (None:
        the base model, or nothing loaded yet: the first use reads the registry itself)."""
        current = self._generator
        if current is None or self.fixed:
            return current.adapter_version if current is not None else None
        adapter = self._adapter(keep_current=True)
        if adapter is not _UNKNOWN and getattr(adapter, "version", None) != current.adapter_version:
            new = self._build(self._settings, adapter)  # built before the swap: no gap in service
            self._generator = new
            logger.info("now serving adapter %s", new.adapter_version or "none (base model)")
            return new.adapter_version
        return current.adapter_version

    def _adapter(self, *, keep_current: bool) -> Any:
        try:
            return self._production_adapter()
        except Exception as exc:  # the database being down must not stop the chat
            logger.error(
                "cannot read the production adapter (%s); %s",
                exc,
                "keeping the current model" if keep_current else "serving the base model",
            )
            return _UNKNOWN
