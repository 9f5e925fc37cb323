"""Which retrieval signals tell a wrong article, and which ranking is right most often, at the loop's index sizes.

    python benchmarks/retrieval_confidence.py --questions ../shared/data/banking77/train.csv --json -

Same split as the feedback-loop simulation (``bankbot simulate`` defaults: 20 % held out, seed 77, 770 held-out
queries), demo knowledge base ingested into a temporary folder, base embedder. Example indexes of ``--sizes``
random pool questions (default 150, 300, 600, 800: a night's to four nights' reviews), labelled with their
intent's article, on top of the articles' own ``examples:`` that ``ingest`` put into the example index (what a
fresh install's index holds; ``sizes_without_kb_examples``: the pool questions alone, as before articles listed
examples). Everything is computed on cached unit vectors with numpy, so variants compare exactly.

Reported per index size:

- ``accuracy_at_1`` of each ranking: the product's (the vote's fused score, averaged with the classification head
  of ``retrieval.example_head`` from ``example_head_min_examples`` indexed questions on), the fused score alone,
  the head alone, and the two averaged at every size;
- ``auroc`` of each candidate confidence signal for "the top article is the right one": the evidence score and
  margin the product's confidence reads today, the fused score's margin, the top article's vote share, the head's
  probability, and whether the example vote and the article search agree on the top article;
- ``fallback_gate_threshold_share_accuracy``: for thresholds of the retrieval certainty
  (``chatbot.confidence.retrieval_certainty``), the share of queries whose failed answer would become the top
  article's approved answer or passage, and how often that article is the right one. Size 0 is a fresh install.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from json_output import emit_json  # benchmarks/json_output.py (the script's folder is on sys.path)

ROOT = Path(__file__).resolve().parents[1]
RANK_SIGNAL = "relative fused margin"
# The retrieval part of the confidence's weighted mean, (top_score, margin, rank_margin) weights.
RETRIEVAL_WEIGHTS = {
    "confidence retrieval part before (0.40, 0.15, 0)": (0.40, 0.15, 0.0),
    "with rank margin (0.40, 0.15, 0.15)": (0.40, 0.15, 0.15),
    "with rank margin (0.25, 0.15, 0.30)": (0.25, 0.15, 0.30),
    "with rank margin (0.20, 0.05, 0.40)": (0.20, 0.05, 0.40),
    "rank margin in place of margin (0.40, 0, 0.15)": (0.40, 0.0, 0.15),
}
# The fallback gate: a failed answer becomes the top article's approved answer or passage only when retrieval is
# sure of that article. Each row: the share of held-out queries that pass and the top article's accuracy on them.
FALLBACK_SIGNAL = "retrieval certainty (product)"
FALLBACK_THRESHOLDS = (0.0, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7)


def _auroc(scores: list[float], right: list[bool]) -> float | None:
    import math

    from evals.metrics import auroc

    value = auroc(scores, right)
    return None if math.isnan(value) else round(value, 4)


def signals_for(
    article_scores: dict[str, float], hits: list[tuple[str, float]], head: dict[str, float], *, use_head: bool
) -> tuple[dict[str, str], dict[str, float]]:
    """(top article of each ranking, candidate confidence signals for the product ranking's top article). The
    product ranks by the vote's fused score alone, or averaged with the head when the index is big enough."""
    from chatbot.confidence import retrieval_certainty
    from retrieval.example_head import fuse_with_head
    from retrieval.retriever import evidence_scores, example_votes, fuse_scores

    fused = fuse_scores(article_scores, hits)
    product = fuse_with_head(fused, head) if use_head else fused
    ranked = sorted(product.items(), key=lambda item: (-item[1], item[0]))
    top = ranked[0][0]
    evidence = sorted(evidence_scores(article_scores, hits).values(), reverse=True)
    votes = example_votes(hits)
    article_top = max(article_scores.items(), key=lambda item: (item[1], item[0]))[0]
    vote_top = max(votes.items(), key=lambda item: (item[1], item[0]))[0] if votes else article_top
    mixed = fuse_with_head(fused, head)
    tops = {
        "product": top,
        "fused": max(fused.items(), key=lambda item: (item[1], item[0]))[0],
        "head": max(head.items(), key=lambda item: (item[1], item[0]))[0] if head else top,
        "fused + head": max(mixed.items(), key=lambda item: (item[1], item[0]))[0],
    }
    signals = {
        "evidence top (top_score today)": evidence[0] if evidence else 0.0,
        "evidence margin (margin today)": (evidence[0] - evidence[1]) if len(evidence) > 1 else 0.0,
        "fused margin": ranked[0][1] - (ranked[1][1] if len(ranked) > 1 else 0.0),
        "relative fused margin": (ranked[0][1] - (ranked[1][1] if len(ranked) > 1 else 0.0)) / max(ranked[0][1], 1e-9),
        "top vote share": votes.get(top, 0.0),
        "head probability": head.get(top, 0.0),
        "vote and article search agree": float(vote_top == article_top == top),
    }
    for name, (w_top, w_margin, w_rank) in RETRIEVAL_WEIGHTS.items():
        signals[name] = (
            w_top * signals["evidence top (top_score today)"]
            + w_margin * signals["evidence margin (margin today)"]
            + w_rank * signals[RANK_SIGNAL]
        ) / (w_top + w_margin + w_rank)
    signals[FALLBACK_SIGNAL] = retrieval_certainty(
        {
            "top_score": signals["evidence top (top_score today)"],
            "margin": signals["evidence margin (margin today)"],
            "rank_margin": signals[RANK_SIGNAL],
        }
    )
    return tops, signals


def fallback_gate(certainty: list[float], top_score: list[float], right: list[bool], min_score: float) -> list[Any]:
    """Per certainty threshold: [threshold, share passing (and top score >= min_score), accuracy among them]."""
    rows: list[Any] = []
    for threshold in FALLBACK_THRESHOLDS:
        passed = [ok for c, s, ok in zip(certainty, top_score, right, strict=True) if c >= threshold and s >= min_score]
        accuracy = round(sum(passed) / len(passed), 4) if passed else None
        rows.append([threshold, round(len(passed) / len(right), 4), accuracy])
    return rows


def query_signals(
    queries: Any, examples: Any, example_labels: list[str], article_scores: list[dict[str, float]], min_head: int
) -> Iterator[tuple[dict[str, str], dict[str, float]]]:
    """``signals_for`` of each query against one example index (unit vectors, numpy): the nearest examples' vote
    and the product's head fitted on the index (used from ``min_head`` examples on, as the product does)."""
    import numpy as np

    from retrieval.example_head import fit_head
    from retrieval.retriever import EXAMPLE_K

    sims = queries @ examples.T
    head = fit_head(examples.tolist(), example_labels, min_examples=1)  # the product's head, at every size
    for i in range(len(article_scores)):
        nearest = np.argsort(-sims[i])[:EXAMPLE_K]
        hits = [(example_labels[j], float(sims[i, j])) for j in nearest]
        head_scores = head.predict(queries[i]) if head is not None else {}
        yield signals_for(article_scores[i], hits, head_scores, use_head=len(example_labels) >= min_head)


def score_index(
    queries: Any,
    examples: Any,
    example_labels: list[str],
    article_scores: list[dict[str, float]],
    labels: list[str],
    min_head: int,
) -> dict[str, Any]:
    """Accuracy of each ranking and AUROC of each signal with one example index (unit vectors, numpy)."""
    from chatbot.settings import Settings

    tops_right: dict[str, list[bool]] = {}
    signal_values: dict[str, list[float]] = {}
    product_right: list[bool] = []
    signals_of = query_signals(queries, examples, example_labels, article_scores, min_head)
    for label, (tops, signals) in zip(labels, signals_of, strict=True):
        for name, top in tops.items():
            tops_right.setdefault(name, []).append(top == label)
        for name, value in signals.items():
            signal_values.setdefault(name, []).append(value)
        product_right.append(tops["product"] == label)
    margins = sorted(signal_values[RANK_SIGNAL])
    return {
        "rank_signal_p10_p50_p90": [round(margins[int(q * (len(margins) - 1))], 4) for q in (0.1, 0.5, 0.9)],
        "accuracy_at_1": {name: round(sum(r) / len(r), 4) for name, r in tops_right.items()},
        "auroc_top_article_right": {name: _auroc(v, product_right) for name, v in signal_values.items()},
        "fallback_gate_threshold_share_accuracy": fallback_gate(
            signal_values[FALLBACK_SIGNAL],
            signal_values["evidence top (top_score today)"],
            product_right,
            Settings().passage_min_retrieval_score,
        ),
    }


def kb_examples(app: Any) -> tuple[Any, list[str]]:
    """(unit vectors, article ids) of the example questions ``ingest`` wrote from the articles' ``examples:``: the
    entries a fresh install's example index holds, as the product stored and embedded them."""
    import numpy as np

    from retrieval.ingest import KB_SOURCE, open_example_index

    index = open_example_index(app.settings, app.vector_store)
    found = index.collection.get(where={"source": KB_SOURCE}, include=["embeddings", "metadatas"])
    vectors = np.asarray(found["embeddings"] if found["embeddings"] is not None else [], dtype=np.float32)
    return vectors.reshape(len(found["ids"]), -1), [str(meta["article_id"]) for meta in found["metadatas"]]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--questions", type=Path, required=True, help="labelled CSV (text,category), e.g. Banking77")
    parser.add_argument("--sizes", default="0,150,300,600,800", help="random pool examples per index (0: none)")
    parser.add_argument("--json", metavar="PATH", help="write the JSON report here ('-' for stdout)")
    args = parser.parse_args(argv)

    import numpy as np
    from fusion_offsets import article_scores, simulation_split  # benchmarks/fusion_offsets.py

    from chatbot.app import build_app
    from chatbot.settings import Settings
    from retrieval.embeddings import as_embeddings
    from retrieval.ingest import ingest

    gold, pool, heldout, labels = simulation_split(args.questions)
    shuffled = pool[:]
    random.Random(1).shuffle(shuffled)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    with tempfile.TemporaryDirectory(prefix="bankbot-retrieval-confidence-") as tmp:
        app = build_app(Settings(data_dir=Path(tmp)))
        ingest(app.settings, app.vector_store, None, progress=False)
        kb_vectors, kb_labels = kb_examples(app)
        embed = as_embeddings(app.embedder).embed_documents
        queries = np.asarray(embed([q.text for q in heldout]), dtype=np.float32)
        examples = np.asarray(embed([q.text for q in shuffled[: max(sizes)]]), dtype=np.float32)
        scores = article_scores(app, queries.tolist())
    min_head = Settings().example_head_min_examples
    report: dict[str, Any] = {
        "heldout_queries": len(labels),
        "kb_examples": len(kb_labels),
        "sizes": {},
        "sizes_without_kb_examples": {},
    }
    dim = queries.shape[1]
    for size in sizes:
        pool_labels = [gold[q.category][0] for q in shuffled[:size]]
        pool_vectors = examples[:size].reshape(size, dim)
        with_kb = np.concatenate([kb_vectors.reshape(-1, dim), pool_vectors])
        report["sizes"][str(size)] = score_index(queries, with_kb, kb_labels + pool_labels, scores, labels, min_head)
        if kb_labels:  # the same index without the articles' examples, as before they were listed
            report["sizes_without_kb_examples"][str(size)] = score_index(
                queries, pool_vectors, pool_labels, scores, labels, min_head
            )
    emit_json(report, args.json)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
