"""Ingestion into a real Chroma folder with the real embedder: idempotence, replacement, pruning, bad files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from retrieval.ingest import ingest, stored_files
from retrieval.vector_store import open_vector_store
from tests.conftest import make_settings

ARTICLE = """---
id: {id}
title: {title}
intent: {id}
gold_answer: "{answer}"
---
# {title}

{answer}

## Details
{details}
"""

FAQ = (
    "question,answer,category\n"
    "Can I pay with my watch?,Yes: add the card to Apple Pay.,apple_pay\n"
    "Is there a fee?,No.,\n"
)


def make_pdf(text: str) -> bytes:
    """A minimal one-page PDF showing ``text`` (objects and xref table written by hand, no PDF writer needed)."""
    stream = f"BT /F1 12 Tf 20 100 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 144] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def write_article(folder: Path, article_id: str, title: str, answer: str, details: str = "More text.") -> Path:
    path = folder / f"{article_id}.md"
    path.write_text(ARTICLE.format(id=article_id, title=title, answer=answer, details=details))
    return path


@pytest.fixture
def kb(tmp_path: Path) -> Path:
    folder = tmp_path / "kb"
    folder.mkdir()
    write_article(folder, "card_arrival", "Where is my card?", "Cards arrive in 5-7 working days.")
    write_article(folder, "lost_card", "Lost or stolen card", "Freeze the card in the app right away.")
    (folder / "notes.txt").write_text("Branch opening hours are 9 to 5 on weekdays.")
    (folder / "faq.csv").write_text(FAQ)
    (folder / "rates.pdf").write_bytes(make_pdf("Overdraft interest is 19.9 percent."))
    return folder


@pytest.fixture
def store(tmp_path: Path, embedder: Any) -> Any:
    return open_vector_store(make_settings(tmp_path), embedder)


def articles_in(store: Any) -> set[str]:
    return {m["article_id"] for m in store._collection.get(include=["metadatas"])["metadatas"]}


def test_ingest_reads_every_format_and_is_idempotent(tmp_path: Path, kb: Path, store: Any) -> None:
    settings = make_settings(tmp_path)
    first = ingest(settings, store, [kb], progress=False)
    assert (first.added, first.replaced, first.unchanged, first.skipped) == (5, 0, 0, [])
    assert articles_in(store) == {"card_arrival", "lost_card", "notes", "faq_1", "faq_2", "rates"}
    count = store._collection.count()
    assert count == first.chunks

    second = ingest(settings, store, [kb], progress=False)
    assert (second.added, second.replaced, second.unchanged, second.chunks) == (0, 0, 5, 0)
    assert store._collection.count() == count

    pdf_chunk = store.get(where={"article_id": "rates"})["documents"][0]
    assert "Overdraft interest is 19.9 percent." in pdf_chunk
    faq = store.get(where={"article_id": "faq_1"})
    assert faq["documents"][0] == "Can I pay with my watch?\nYes: add the card to Apple Pay."
    assert faq["metadatas"][0]["intent"] == "apple_pay"


def test_chunks_keep_headings_and_title(tmp_path: Path, kb: Path, store: Any) -> None:
    long_details = " ".join(f"Sentence number {i} about card delivery times." for i in range(120))
    write_article(kb, "card_arrival", "Where is my card?", "Cards arrive in 5-7 working days.", long_details)
    ingest(make_settings(tmp_path), store, [kb / "card_arrival.md"], progress=False)
    got = store.get(where={"article_id": "card_arrival"})
    chunks = sorted(zip(got["metadatas"], got["documents"], strict=True), key=lambda p: p[0]["chunk"])
    assert len(chunks) >= 3  # ~1,200 words cannot fit one 200-token chunk
    assert [m["chunk"] for m, _ in chunks] == list(range(len(chunks)))
    assert chunks[-1][0]["headings"] == "Where is my card? > Details"
    assert all(doc.startswith(("# Where is my card?", "Where is my card?")) for _, doc in chunks)
    tokenizer = store.embeddings.model.tokenizer
    assert max(len(tokenizer.encode(doc)) for _, doc in chunks) <= 256  # the embedder's sequence limit


def test_changed_file_replaces_its_chunks(tmp_path: Path, kb: Path, store: Any) -> None:
    settings = make_settings(tmp_path)
    ingest(settings, store, [kb], progress=False)
    write_article(kb, "lost_card", "Lost or stolen card", "Call us on the 24/7 line, then freeze the card.")
    report = ingest(settings, store, [kb], progress=False)
    assert (report.added, report.replaced, report.unchanged) == (0, 1, 4)
    docs = store.get(where={"article_id": "lost_card"})["documents"]
    assert any("24/7 line" in d for d in docs)
    assert not any("right away" in d for d in docs)


def test_prune_removes_files_that_are_gone(tmp_path: Path, kb: Path, store: Any) -> None:
    settings = make_settings(tmp_path)
    ingest(settings, store, [kb], progress=False)
    (kb / "notes.txt").unlink()
    kept = ingest(settings, store, [kb], progress=False)
    assert kept.pruned == 0 and "notes" in articles_in(store)  # without --prune nothing is deleted
    pruned = ingest(settings, store, [kb], prune=True, progress=False)
    assert pruned.pruned == 1
    assert "notes" not in articles_in(store)
    assert {"card_arrival", "lost_card"} <= articles_in(store)


def test_bad_files_are_skipped_by_name_and_the_rest_ingested(tmp_path: Path, kb: Path, store: Any) -> None:
    (kb / "broken.md").write_text("---\ntitle: [unclosed\n---\nbody\n")
    (kb / "latin1.txt").write_bytes("caf\xe9 prices".encode("latin-1"))
    (kb / "wrong.csv").write_text("q,a\nhello,world\n")
    (kb / "fake.pdf").write_bytes(b"not a pdf at all")
    # sorted after lost_card.md, which keeps the id
    (kb / "z_dup.md").write_text(ARTICLE.format(id="lost_card", title="Other", answer="x", details="y"))
    report = ingest(make_settings(tmp_path), store, [kb, tmp_path / "missing.md"], progress=False)
    reasons = {Path(p).name: r for p, r in report.skipped}
    assert set(reasons) == {"broken.md", "latin1.txt", "wrong.csv", "fake.pdf", "z_dup.md", "missing.md"}
    assert "YAML" in reasons["broken.md"]
    assert "UTF-8" in reasons["latin1.txt"]
    assert "question,answer" in reasons["wrong.csv"]
    assert "PDF" in reasons["fake.pdf"]
    assert "already comes from" in reasons["z_dup.md"]
    assert "no such file" in reasons["missing.md"]
    assert not report.ok
    assert report.added == 5
    sources = {Path(s).name for s in stored_files(store._collection)}
    assert sources == {"card_arrival.md", "lost_card.md", "notes.txt", "faq.csv", "rates.pdf"}


def test_a_file_that_turns_bad_keeps_its_old_chunks(tmp_path: Path, kb: Path, store: Any) -> None:
    settings = make_settings(tmp_path)
    ingest(settings, store, [kb], progress=False)
    (kb / "lost_card.md").write_text("---\nid: lost_card\n")  # front matter never closed
    report = ingest(settings, store, [kb], progress=False)
    assert [Path(p).name for p, _ in report.skipped] == ["lost_card.md"]
    assert "lost_card" in articles_in(store)


def test_cli_exit_code_reports_skipped_files(
    tmp_path: Path, kb: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from chatbot.cli import main

    monkeypatch.setenv("BANKBOT_DATA_DIR", str(tmp_path / "cli-data"))
    assert main(["ingest", "--no-progress", str(kb / "card_arrival.md")]) == 0
    (kb / "wrong.csv").write_text("q,a\nhello,world\n")
    assert main(["ingest", "--no-progress", str(kb / "card_arrival.md"), str(kb / "wrong.csv")]) == 1
    out = capsys.readouterr().out
    assert "unchanged 1" in out
    assert "wrong.csv" in out
