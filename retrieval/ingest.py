"""Ingest knowledge-base files into the Chroma collection, idempotently by content hash.

Each chunk records its file (``source``, an absolute path) and the file's SHA-256 (``file_hash``). A file whose
hash is already stored is skipped; a changed file has its chunks replaced, but only once the new version has been
read and split without error (a file that turns bad keeps its old chunks); ``prune`` drops the chunks of files that
no longer exist. A bad file is reported by name and skipped, and the rest is ingested.

The ``examples:`` questions of a Markdown article go into the example index (``retrieval.example_index``, source
``kb``: entries the nightly job does not manage, read by every snapshot) under the article's id, with the vector
store's embedder. They follow their file: written when it is new, replaced when it changed, removed by ``prune``
when it is gone; an unchanged file is not touched.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chatbot.settings import Settings
from retrieval.kb import BadArticle, demo_kb_dir, front_matter_examples, split_front_matter
from retrieval.loaders import MARKDOWN, SUPPORTED, UnreadableFile, load_file, make_splitter

if TYPE_CHECKING:
    from retrieval.example_index import ExampleIndex

log = logging.getLogger(__name__)
KB_SOURCE = "kb"  # the example index's ``source`` of questions listed in articles' front matter


@dataclass
class IngestReport:
    added: int = 0  # files new to the collection
    replaced: int = 0  # files whose content changed
    unchanged: int = 0
    pruned: int = 0  # files gone from disk, removed with --prune
    chunks: int = 0  # chunks written in this run
    examples: int = 0  # example questions written to the example index in this run
    examples_removed: int = 0  # example questions of changed or pruned articles taken out of it
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
            "examples": self.examples,
            "examples_removed": self.examples_removed,
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


def article_examples(path: Path) -> tuple[str, ...] | None:
    """The ``examples:`` of a Markdown file (empty without front matter); None for other file types, which have
    none. Raises UnreadableFile naming the file when the key is not a list of questions."""
    if path.suffix.lower() not in MARKDOWN:
        return None
    try:
        meta, _ = split_front_matter(path.read_text(encoding="utf-8"), path)
        return front_matter_examples(meta, path)
    except BadArticle as exc:
        raise UnreadableFile(str(exc)) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise UnreadableFile(f"{path}: cannot read it ({exc.__class__.__name__})") from exc


def open_example_index(settings: Settings, vector_store: Any) -> ExampleIndex:
    """The example index next to the vector store's collection, embedding with the vector store's embedder: the
    collection is named after the active embedder's version, so both are the production embedder once one is
    promoted, as the retriever has them (``chatbot.app``)."""
    from retrieval.example_index import ExampleIndex
    from retrieval.vector_store import store_client, store_collection

    return ExampleIndex.open(
        settings,
        vector_store.embeddings,
        client=store_client(vector_store),
        kb_collection=store_collection(vector_store).name,
    )


class _Run:
    """One ingest run: the collection's state read once, the files brought up to date one by one."""

    def __init__(self, settings: Settings, vector_store: Any, report: IngestReport, index: ExampleIndex | None) -> None:
        self.settings = settings
        self.vector_store = vector_store
        self.report = report
        self.collection = vector_store._collection
        self.stored = stored_files(self.collection)
        self.owner = {a: src for src, entry in self.stored.items() for a in entry["articles"]}  # article -> file
        self.splitter = make_splitter(_tokenizer(vector_store))
        self._index = index

    @property
    def index(self) -> ExampleIndex:
        """Opened on first need: a run of unchanged or non-Markdown files does not touch the example index."""
        if self._index is None:
            self._index = open_example_index(self.settings, self.vector_store)
        return self._index

    def file(self, path: Path) -> None:
        source, report = str(path), self.report
        try:
            digest = file_hash(path)
        except OSError as exc:
            report.skipped.append((source, f"cannot read it ({exc.strerror or exc.__class__.__name__})"))
            return
        previous = self.stored.get(source)
        if previous is not None and previous["hash"] == digest:
            report.unchanged += 1
            return
        try:
            docs = load_file(path, self.splitter)
            questions = article_examples(path)
        except UnreadableFile as exc:
            report.skipped.append((source, str(exc).removeprefix(f"{path}: ")))
            return
        owner = self.owner
        clash = next(
            (d.metadata["article_id"] for d in docs if owner.get(d.metadata["article_id"], source) != source), None
        )
        if clash is not None:
            report.skipped.append((source, f"article id {clash!r} already comes from {owner[clash]}"))
            return
        for number, doc in enumerate(docs):
            doc.metadata.update(source=source, file_hash=digest)
            doc.id = chunk_id(source, number)
        if questions is not None and docs:
            # Before the chunks: chunks carrying the new hash mark the file as done, so a run stopped in between
            # writes the examples again next time.
            old = previous["articles"] if previous is not None else set()
            self._replace_examples(old, str(docs[0].metadata["article_id"]), questions)
        if previous is not None:
            self.collection.delete(ids=previous["ids"])
        self.vector_store.add_documents(docs, ids=[d.id for d in docs])
        owner.update({d.metadata["article_id"]: source for d in docs})
        report.chunks += len(docs)
        if previous is None:
            report.added += 1
        else:
            report.replaced += 1

    def _replace_examples(self, old_articles: set[str | None], article_id: str, questions: tuple[str, ...]) -> None:
        """The article's questions become exactly ``questions`` (its own id too: a run stopped before its chunks
        were written may have left them)."""
        from retrieval.example_index import normalise_question

        stale = {a for a in old_articles if a} | {article_id}
        self.report.examples_removed += self.index.remove(stale, source=KB_SOURCE)
        if not questions:
            return
        added = self.index.add(list(questions), [article_id] * len(questions), source=KB_SOURCE)
        self.report.examples += added
        distinct = len({normalise_question(q) for q in questions if normalise_question(q)})
        if added < distinct:
            log.warning(
                "%s: %d of its examples are already in the example index (another article's or a labelled CSV's)",
                article_id,
                distinct - added,
            )

    def prune(self) -> None:
        for source, entry in self.stored.items():
            if not Path(source).is_file():
                if Path(source).suffix.lower() in MARKDOWN:  # before the chunks, which are the record of the file
                    articles = [a for a in entry["articles"] if a]
                    self.report.examples_removed += self.index.remove(articles, source=KB_SOURCE)
                self.collection.delete(ids=entry["ids"])
                self.report.pruned += 1


def ingest(
    settings: Settings,
    vector_store: Any,
    paths: list[Path] | None,
    *,
    prune: bool = False,
    progress: bool = True,
    example_index: ExampleIndex | None = None,
) -> IngestReport:
    """Bring the collection up to date with ``paths`` (default: the demo knowledge base), and the example index
    with their articles' ``examples:`` (``example_index``: default the one next to the vector store's collection)."""
    from tqdm import tqdm

    report = IngestReport()
    files = discover(paths or [demo_kb_dir()], report)
    run = _Run(settings, vector_store, report, example_index)
    for path in tqdm(files, desc="ingest", unit="file", disable=not progress):
        run.file(path)
    if prune:
        run.prune()
    for path_text, reason in report.skipped:
        log.warning("skipped %s: %s", path_text, reason)
    return report
