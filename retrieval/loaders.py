"""Read knowledge-base files (Markdown, plain text, PDF, FAQ CSV) into LangChain Documents split into chunks.

Every chunk carries ``article_id``, ``title``, ``intent``, ``chunk`` (its number within the article) and
``headings`` (the Markdown section it came from). Chunk sizes are counted in the embedder's own tokens so a
chunk is never truncated by the embedder's sequence limit.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

from langchain_core.documents import Document

from chatbot.errors import BankbotError
from retrieval.kb import BadArticle, article_id_for_intent, split_front_matter

MARKDOWN = {".md", ".markdown"}
SUPPORTED = MARKDOWN | {".txt", ".pdf", ".csv"}
HEADERS = [("#", "h1"), ("##", "h2"), ("###", "h3")]
CHUNK_TOKENS = 200  # all-MiniLM-L6-v2 reads at most 256 word pieces; the title is added to each chunk
CHUNK_OVERLAP = 32


class UnreadableFile(BankbotError):
    """A file that cannot be ingested; the message starts with its name."""


def slug(text: str) -> str:
    return article_id_for_intent(re.sub(r"[\s\-]+", "_", text)) or "untitled"


def make_splitter(tokenizer: Any, chunk_tokens: int = CHUNK_TOKENS, overlap: int = CHUNK_OVERLAP) -> Any:
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    if tokenizer is None:  # an embedder without a Hugging Face tokenizer: ~4 characters per token
        return RecursiveCharacterTextSplitter(chunk_size=chunk_tokens * 4, chunk_overlap=overlap * 4)
    return RecursiveCharacterTextSplitter.from_huggingface_tokenizer(
        tokenizer, chunk_size=chunk_tokens, chunk_overlap=overlap
    )


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise UnreadableFile(f"{path}: not UTF-8 text (byte {exc.start})") from exc
    except OSError as exc:
        raise UnreadableFile(f"{path}: cannot read it ({exc.strerror or exc.__class__.__name__})") from exc


def _markdown_docs(path: Path, splitter: Any) -> list[Document]:
    from langchain_text_splitters import MarkdownHeaderTextSplitter

    try:
        meta, body = split_front_matter(_read_text(path), path)
    except BadArticle as exc:
        raise UnreadableFile(str(exc)) from exc
    title_match = re.search(r"^#\s+(.+)$", body, re.MULTILINE)
    title = str(meta.get("title") or (title_match.group(1) if title_match else path.stem)).strip()
    article_id = str(meta.get("id") or slug(path.stem)).strip()
    if article_id != article_id_for_intent(article_id):
        raise UnreadableFile(f"{path}: id {article_id!r} must use only a-z, 0-9 and _")
    sections = MarkdownHeaderTextSplitter(HEADERS, strip_headers=False).split_text(body)
    docs: list[Document] = []
    for section in sections:
        headings = " > ".join(str(section.metadata[k]) for _, k in HEADERS if k in section.metadata)
        for piece in splitter.split_text(section.page_content):
            docs.append(Document(page_content=piece, metadata={"headings": headings}))
    return _finish(docs, article_id=article_id, title=title, intent=str(meta.get("intent") or ""), kind="markdown")


def _text_docs(path: Path, text: str, splitter: Any, kind: str) -> list[Document]:
    if not text.strip():
        raise UnreadableFile(f"{path}: no text in it")
    docs = [Document(page_content=p, metadata={"headings": ""}) for p in splitter.split_text(text)]
    return _finish(docs, article_id=slug(path.stem), title=path.stem.replace("_", " "), intent="", kind=kind)


def _pdf_text(path: Path) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(path.read_bytes()))
        return "\n\n".join((page.extract_text() or "") for page in reader.pages)
    except (PdfReadError, OSError, ValueError, KeyError) as exc:
        raise UnreadableFile(f"{path}: not a readable PDF ({str(exc).splitlines()[0] if str(exc) else exc})") from exc


def _faq_docs(path: Path) -> list[Document]:
    """One document per ``question,answer[,category]`` row; its article id is ``<file>_<row>``."""
    reader = csv.DictReader(io.StringIO(_read_text(path)))
    columns = {c.strip().lower() for c in (reader.fieldnames or [])}
    if not {"question", "answer"} <= columns:
        raise UnreadableFile(f"{path}: an FAQ CSV needs the header question,answer[,category]")
    docs: list[Document] = []
    for number, row in enumerate(reader, start=1):
        row = {str(k).strip().lower(): (v or "").strip() for k, v in row.items() if k is not None}
        if not row.get("question") or not row.get("answer"):
            raise UnreadableFile(f"{path}: row {number + 1} lacks a question or an answer")
        meta = {
            "article_id": f"{slug(path.stem)}_{number}",
            "title": row["question"],
            "intent": row.get("category", ""),
            "chunk": 0,
            "headings": "",
            "kind": "faq",
        }
        docs.append(Document(page_content=f"{row['question']}\n{row['answer']}", metadata=meta))
    if not docs:
        raise UnreadableFile(f"{path}: no rows under the header")
    return docs


def _finish(docs: list[Document], *, article_id: str, title: str, intent: str, kind: str) -> list[Document]:
    for number, doc in enumerate(docs):
        doc.metadata.update(article_id=article_id, title=title, intent=intent, chunk=number, kind=kind)
        doc.page_content = with_title(doc.page_content, title)
    return docs


def load_file(path: Path, splitter: Any) -> list[Document]:
    """The chunks of one file; raises UnreadableFile (naming the file) when it cannot be used."""
    suffix = path.suffix.lower()
    if suffix in MARKDOWN:
        return _markdown_docs(path, splitter)
    if suffix == ".txt":
        return _text_docs(path, _read_text(path), splitter, "text")
    if suffix == ".pdf":
        return _text_docs(path, _pdf_text(path), splitter, "pdf")
    if suffix == ".csv":
        return _faq_docs(path)
    raise UnreadableFile(f"{path}: unsupported file type (use {', '.join(sorted(SUPPORTED))})")


def with_title(text: str, title: str) -> str:
    """A chunk starts with its article's title, so a chunk from the middle still says what it is about."""
    return text if text.lstrip("# ").startswith(title) else f"{title}\n{text}"
