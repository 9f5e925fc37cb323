"""How often a passage answer (the article's own sentences) is right, by the answer judge. Prints JSON.

    python benchmarks/passage_answers.py [--json FILE]

The demo eval set's in-scope questions (references: their article's approved answer), the demo knowledge base
ingested into a temporary folder, base embedder. For each question whose article the retriever returns (among its
top articles), the passage answer about that article is built two ways and judged (``evals.judge``, citing the
article): from the chunk retrieval returned, sentences chosen by shared words (up to three), and as the chat builds
it now, from the whole article (``chatbot.article_reader``) with the four sentences closest in meaning to the
question. Retrieval itself is left out: this measures what a customer reads once the article is right.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def measure() -> dict[str, Any]:
    from chatbot.app import build_app
    from chatbot.article_reader import ArticleReader
    from chatbot.passage_answer import passage_answer
    from chatbot.settings import Settings
    from evals.dataset import load_eval_set
    from evals.judge import judge
    from retrieval.ingest import ingest
    from retrieval.kb import load_articles

    bodies = {a.id: a.body for a in load_articles()}
    items = [i for i in load_eval_set() if i.kind == "in_scope" and i.reference_answer and i.expected_article]
    with tempfile.TemporaryDirectory(prefix="bankbot-passages-") as tmp:
        app = build_app(Settings(data_dir=Path(tmp), llm_model="fake"))
        ingest(app.settings, app.vector_store, None, progress=False)
        reader = ArticleReader(lambda: app.vector_store)
        right = {"chunk_shared_words": 0, "article_by_meaning": 0}
        judged = 0
        for item in items:
            doc = next(
                (d for d in app.retriever.invoke(item.question) if d.metadata["article_id"] == item.expected_article),
                None,
            )
            if doc is None:
                continue
            judged += 1
            title, article = str(doc.metadata["title"]), str(item.expected_article)
            answers = {
                "chunk_shared_words": passage_answer(
                    item.question, title=title, article_id=article, passage=doc.page_content
                ),
                "article_by_meaning": passage_answer(
                    item.question,
                    title=title,
                    article_id=article,
                    passage=reader.text(article) or doc.page_content,
                    similarity=reader.similarity,
                ),
            }
            for way, text in answers.items():
                verdict = judge(
                    text or "", [article], article, item.reference_answer, bodies.get(article), question=item.question
                )
                right[way] += int(bool(text) and verdict.right)
    return {
        "questions": len(items),
        "article_retrieved": judged,
        "right": right,
        "right_share": {way: round(n / judged, 4) if judged else None for way, n in right.items()},
    }


def main() -> None:
    from json_output import json_main  # benchmarks/json_output.py (the script's folder is on sys.path)

    json_main(__doc__, measure)


if __name__ == "__main__":
    main()
