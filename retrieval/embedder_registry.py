"""Which embedder folder is active: a fine-tuned one promoted by the nightly job, or the configured model.

The pointer file ``data_dir/embedders/active.json`` names the promoted folder and its version. Promotion first
re-embeds the knowledge base and the example index into collections named after the new version, and only then
rewrites the pointer (atomically), so a running server never pairs a new embedder with old vectors.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from chatbot.settings import Settings


def pointer_file(settings: Settings) -> Path:
    return settings.data_dir / "embedders" / "active.json"


def _pointer(settings: Settings) -> dict[str, Any] | None:
    pointer = pointer_file(settings)
    if not pointer.is_file():
        return None
    data = json.loads(pointer.read_text())
    return data if isinstance(data, dict) and Path(str(data.get("path", ""))).is_dir() else None


def active_embedder(settings: Settings) -> str | None:
    """Folder of the promoted fine-tuned embedder, or None when the configured model is in use."""
    data = _pointer(settings)
    return str(data["path"]) if data else None


def active_embedder_version(settings: Settings) -> str | None:
    data = _pointer(settings)
    return str(data.get("version") or Path(str(data["path"])).name) if data else None


def write_pointer(settings: Settings, model_dir: Path, *, version: str, metrics: dict[str, Any] | None = None) -> Path:
    pointer = pointer_file(settings)
    pointer.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "path": str(model_dir.resolve()),
        "version": version,
        "promoted_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "metrics": metrics or {},
    }
    tmp = pointer.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(payload, indent=2))
    os.replace(tmp, pointer)
    return pointer


def promote_embedder(settings: Settings, model_dir: Path, *, metrics: dict[str, Any] | None = None) -> str:
    """Re-embed the active KB and example collections with ``model_dir`` and make it the active embedder.

    Returns the new version. Call it only after the retrieval eval showed the new embedder is better.
    """
    from chatbot.model_loading import load_embedder
    from retrieval.vector_store import chroma_client, copy_collection, examples_collection_name, kb_collection_name

    version = model_dir.name
    client = chroma_client(settings)
    new_model = load_embedder(settings, str(model_dir))
    old_kb = kb_collection_name(settings)
    new_kb = kb_collection_name(settings, version)
    copy_collection(client, old_kb, new_kb, new_model)
    copy_collection(client, examples_collection_name(old_kb), examples_collection_name(new_kb), new_model)
    write_pointer(settings, model_dir, version=version, metrics=metrics)
    return version
