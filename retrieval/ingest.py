"""Ingest knowledge-base files into the Chroma collection, idempotently by content hash.

Each chunk records its file (``source``, an absolute path) and the file's SHA-256 (``file_hash``). A file whose
hash is already stored is skipped; a changed file has its chunks replaced, but only once the new version has been
read and split without error (a file that turns bad keeps its old chunks); ``prune`` drops the chunks of files that
no longer exist. A bad file is reported by name and skipped, and the rest is ingested.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chatbot.settings import Settings
from retrieval.kb import demo_kb_dir
from retrieval.loaders import SUPPORTED, UnreadableFile, load_file, make_splitter

log = logging.getLogger(__name__)


@dataclass
class IngestReport:
    added: int = 0  # files new to the collection
    replaced: int = 0  # files whose content changed
    unchanged: int = 0
    pruned: int = 0  # files gone from disk, removed with --prune
    chunks: int = 0  # chunks written in this run
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)

    @property
    def ok(self) -> bool:
        return not self.skipped

    def to_dict(self) -> dict[str, Any]:
        return {
            "added": self.added,
            "replaced": self.replaced,
            "unchanged": self.unchanged,
            "pruned": self.pruned,
            "chunks": self.chunks,
            "skipped": [{"path": p, "reason": r} for p, r in self.skipped],
        }


def file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def chunk_id(source: str, number: int) -> str:
    return f"{hashlib.sha1(source.encode()).hexdigest()[:16]}:{number}"


def discover(paths: Iterable[Path], report: IngestReport) -> list[Path]:
    """Supported files under ``paths`` (folders are searched recursively), each once, in a stable order."""
    found: dict[Path, None] = {}
    for path in paths:
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                if child.is_file() and child.suffix.lower() in SUPPORTED and not child.name.startswith("."):
                    found[child.resolve()] = None
        elif path.is_file():
            if path.suffix.lower() in SUPPORTED:
                found[path.resolve()] = None
            else:
                report.skipped.append((str(path), f"unsupported file type (use {', '.join(sorted(SUPPORTED))})"))
        else:
            report.skipped.append((str(path), "no such file or folder"))
    return list(found)


def stored_files(collection: Any) -> dict[str, dict[str, Any]]:
    """source -> {"hash", "ids", "articles"} for everything in the collection."""
    records = collection.get(include=["metadatas"])
    files: dict[str, dict[str, Any]] = {}
    for record_id, meta in zip(records["ids"], records["metadatas"] or [], strict=False):
        meta = meta or {}
        entry = files.setdefault(
            str(meta.get("source", "")), {"hash": meta.get("file_hash"), "ids": [], "articles": set()}
        )
        entry["ids"].append(record_id)
        entry["articles"].add(meta.get("article_id"))
    return files


def _tokenizer(vector_store: Any) -> Any:
    model = getattr(vector_store.embeddings, "model", None)
    return getattr(model, "tokenizer", None)


def ingest(
    settings: Settings,
    vector_store: Any,
    paths: list[Path] | None,
    *,
    prune: bool = False,
    progress: bool = True,
) -> IngestReport:
    """Bring the collection up to date with ``paths`` (default: the demo knowledge base)."""
    from tqdm import tqdm

    report = IngestReport()
    files = discover(paths or [demo_kb_dir()], report)
    collection = vector_store._collection
    stored = stored_files(collection)
    owner = {a: src for src, entry in stored.items() for a in entry["articles"]}  # article id -> file
    splitter = make_splitter(_tokenizer(vector_store))
    for path in tqdm(files, desc="ingest", unit="file", disable=not progress):
        source = str(path)
        try:
            digest = file_hash(path)
        except OSError as exc:
            report.skipped.append((source, f"cannot read it ({exc.strerror or exc.__class__.__name__})"))
            continue
        previous = stored.get(source)
        if previous is not None and previous["hash"] == digest:
            report.unchanged += 1
            continue
        try:
            docs = load_file(path, splitter)
        except UnreadableFile as exc:
            report.skipped.append((source, str(exc).removeprefix(f"{path}: ")))
            continue
        clash = next(
            (d.metadata["article_id"] for d in docs if owner.get(d.metadata["article_id"], source) != source), None
        )
        if clash is not None:
            report.skipped.append((source, f"article id {clash!r} already comes from {owner[clash]}"))
            continue
        for number, doc in enumerate(docs):
            doc.metadata.update(source=source, file_hash=digest)
            doc.id = chunk_id(source, number)
        if previous is not None:
            collection.delete(ids=previous["ids"])
        vector_store.add_documents(docs, ids=[d.id for d in docs])
        owner.update({d.metadata["article_id"]: source for d in docs})
        report.chunks += len(docs)
        if previous is None:
            report.added += 1
        else:
            report.replaced += 1
    if prune:
        for source, entry in stored.items():
            if not Path(source).is_file():
                collection.delete(ids=entry["ids"])
                report.pruned += 1
    for path_text, reason in report.skipped:
        log.warning("skipped %s: %s", path_text, reason)
    return report
