"""Fine-tuned embedders in tests, made to serve the way the product does: a night re-embeds the collections for its
embedder and records it as a candidate (``retrieval.embedder_registry.prepare_embedder``), its candidate bundle
names it (``finetune.registry.record_embedder``), and only that bundle's promotion
(``finetune.registry.promote_version``) makes it the production embedder."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from chatbot.model_loading import embedder_source
from chatbot.settings import Settings
from finetune import registry
from retrieval.embedder_registry import prepare_embedder
from tests.nightly_support import record_night


def fine_tuned_folder(root: Path, version: str) -> Path:
    """Stands in for a fine-tuned embedder: the packaged model's files, linked (not copied: 88 MB) into
    ``root/embedders/<version>``, with an ``embedder.json`` of its own."""
    folder = root / "embedders" / version
    source = embedder_source(Settings(data_dir=Path("/nonexistent")))
    shutil.copytree(source, folder, copy_function=os.symlink)
    (folder / "embedder.json").write_text(json.dumps({"version": version}))
    return folder


def name_fine_tuned_embedder(app: Any, bundle: str, embedder_version: str) -> Path:
    """The night's embedder won: a folder standing in for it under the artifact root, the app's collections (every
    snapshot: write the bundle's first) re-embedded for it, its 'candidate' row recorded and the candidate bundle
    ``bundle`` naming it, as ``finetune.embedder`` and ``finetune.nightly`` do. Returns the folder."""
    folder = fine_tuned_folder(app.settings.effective_artifact_root, embedder_version)
    prepare_embedder(app.settings, folder, source_version=app.embedder_version, engine=app.engine)
    registry.record_embedder(app, bundle, embedder_version=embedder_version, summary={"won": True})
    return folder


def serve_fine_tuned_embedder(app: Any, embedder_version: str, *, bundle: str | None = None) -> Path:
    """Make a fine-tuned embedder the production one: a night's bundle (``bundle``, default named after the
    embedder) recorded with the embedder prepared and named, then promoted. Returns the embedder's folder."""
    bundle = bundle or f"bundle-{embedder_version}"
    record_night(app, bundle)
    folder = name_fine_tuned_embedder(app, bundle, embedder_version)
    registry.promote_version(app, bundle, by="test")
    return folder
