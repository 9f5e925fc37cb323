"""The article page a passage answer links to: chunks joined back, Markdown rendered safely, the route over HTTP."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from chatbot.app import build_app
from retrieval.article_text import join_chunks
from retrieval.ingest import ingest
from retrieval.kb import demo_kb_dir
from tests.conftest import make_settings
from ui.articles import article_html


def test_join_chunks_drops_added_titles_and_repeated_overlaps() -> None:
    chunks = [
        "# Fees\n\nSending money in pounds is free for everyone.",
        "Fees\nmoney in pounds is free for everyone. Abroad it costs 1 %.",  # the title line, then the overlap
        "Fees\n## Limits\n\nUp to £10,000 a day.",  # no overlap: a new section
    ]
    assert join_chunks(chunks, "Fees") == (
        "# Fees\n\nSending money in pounds is free for everyone. Abroad it costs 1 %."
        "\n\n## Limits\n\nUp to £10,000 a day."
    )
    assert join_chunks(["Fees\nthe end", "the end of it"], "Fees") == "Fees\nthe end\n\nthe end of it"  # < 20 chars


def test_article_html_renders_the_markdown_subset_and_escapes_text() -> None:
    text = (
        "# Fees\n\nPay **nothing** <script>x</script>.\n\n## Steps\n1. Open the app.\n2. Tap Pay.\n\n"
        "- UK: free\n\n| Where | Fee |\n|---|---|\n| EEA | 1 % |\n"
    )
    page = article_html("Fees", text)
    body = page[page.index("<main>") + len("<main>") : page.index("</main>")].strip()
    assert body.splitlines() == [
        "<h1>Fees</h1>",
        "<p>Pay nothing &lt;script&gt;x&lt;/script&gt;.</p>",
        "<h3>Steps</h3>",
        "<ol>",
        "<li>Open the app.</li>",
        "<li>Tap Pay.</li>",
        "</ol>",
        "<ul>",
        "<li>UK: free</li>",
        "</ul>",
        "<table>",
        "<tr><th>Where</th><th>Fee</th></tr>",
        "<tr><td>EEA</td><td>1 %</td></tr>",
        "</table>",
    ]
    assert "<title>Fees — Bramblecove Bank help</title>" in page
    assert '<a href="/">Back to the support chat</a>' in page


def test_the_article_route_serves_an_ingested_article(tmp_path: Path, embedder: Any) -> None:
    from fastapi.testclient import TestClient

    from ui.server import create_server

    app = build_app(make_settings(tmp_path), embedder=embedder)
    app.upgrade_database()
    report = ingest(app.settings, app.vector_store, [demo_kb_dir() / "activate_my_card.md"], progress=False)
    assert report.added == 1
    with TestClient(create_server(app)) as client:
        page = client.get("/articles/activate_my_card")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert "<h1>Activating my new card</h1>" in page.text
        assert "<li>Open the Bramblecove app and go to Cards &gt; Activate.</li>" in page.text
        assert "Activating my new card</p>" not in page.text  # the title line ingestion adds is not repeated
        assert client.get("/articles/no_such_article").status_code == 404
        assert client.get("/articles/Bad-Id").status_code == 404
