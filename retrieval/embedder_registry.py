"""Which embedder folder is active: a fine-tuned one promoted by the nightly job, or the configured model."""

from __future__ import annotations

import json
from pathlib import Path

from chatbot.settings import Settings


def pointer_file(settings: Settings) -> Path:
    return settings.data_dir / "embedders" / "active.json"


def active_embedder(settings: Settings) -> str | None:
    """Folder of the promoted fine-tuned embedder, or None when the configured model is in use."""
    pointer = pointer_file(settings)
    if not pointer.is_file():
        return None
    path = json.loads(pointer.read_text())["path"]
    return str(path) if Path(path).is_dir() else None
