"""How the groundedness thresholds were chosen: `python -m evals.groundedness_check` prints JSON.

Every sentence of every demo article's gold answer is judged twice: against its own article (it should be
supported) and against another article (id order shifted by 7, so a different topic; it should not). For each
threshold pair, the JSON gives the share of supported sentences in both cases. Uses the configured embedder.
"""

from __future__ import annotations

import itertools
import json
import sys
from typing import Any

import numpy as np

from evals.metrics import lexical_support, numbers_supported, sentence_supported, split_sentences

SIMILARITIES = (0.5, 0.55, 0.6, 0.65, 0.7)
LEXICAL = (0.3, 0.4, 0.5, 0.6)
SHIFT = 7


def sentence_rows(embedder: Any, articles: list[Any]) -> list[tuple[str, float, float, bool]]:
    """(own|other, best cosine similarity, lexical support, numbers supported) per gold-answer sentence."""
    gold = [split_sentences(a.gold_answer) for a in articles]
    body = [split_sentences(a.body) for a in articles]
    flat = [s for g in gold for s in g] + [s for b in body for s in b]
    vectors = np.asarray(embedder.encode(flat, batch_size=64, normalize_embeddings=True, show_progress_bar=False))
    n_gold = sum(len(g) for g in gold)
    body_owner = np.repeat(np.arange(len(articles)), [len(b) for b in body])
    rows = []
    k = 0
    for i, sentences in enumerate(gold):
        for sentence in sentences:
            for tag, j in (("own", i), ("other", (i + SHIFT) % len(articles))):
                sim = float((vectors[k] @ vectors[n_gold:][body_owner == j].T).max())
                text = articles[j].body
                rows.append((tag, sim, lexical_support(sentence, text), numbers_supported(sentence, text)))
            k += 1
    return rows


def main() -> int:
    from chatbot.model_loading import load_embedder
    from chatbot.settings import Settings
    from retrieval.kb import load_articles

    articles = load_articles()
    rows = sentence_rows(load_embedder(Settings()), articles)
    table = []
    for min_sim, min_lex in itertools.product(SIMILARITIES, LEXICAL):
        share = {}
        for tag in ("own", "other"):
            flags = [
                sentence_supported(sim, lex, num, min_similarity=min_sim, min_lexical=min_lex)
                for t, sim, lex, num in rows
                if t == tag
            ]
            share[tag] = round(sum(flags) / len(flags), 3)
        table.append(
            {
                "min_similarity": min_sim,
                "min_lexical": min_lex,
                "supported_own": share["own"],
                "supported_other": share["other"],
            }
        )
    out = {"articles": len(articles), "sentences": len(rows) // 2, "thresholds": table}
    json.dump(out, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
