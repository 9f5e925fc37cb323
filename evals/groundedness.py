"""Groundedness: the share of an answer's sentences that the retrieved context supports, scored offline.

Method (see docs/evals.md for why): each answer sentence is embedded with the app's own sentence-transformers
embedder (all-MiniLM-L6-v2 by default) and compared by cosine similarity with every sentence of the retrieved
passages. A sentence is supported when its best match reaches ``MIN_SIMILARITY``, at least ``MIN_LEXICAL`` of its
content words occur in the context, and every number in it occurs in the context.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from evals.metrics import lexical_support, numbers_supported, sentence_supported, split_sentences

MIN_SIMILARITY = 0.55
MIN_LEXICAL = 0.5


@dataclass(frozen=True)
class Groundedness:
    score: float | None  # share of supported sentences; None when the answer has no sentence to judge
    sentences: int
    supported: int
    unsupported: list[str]


def score_groundedness(
    embedder: Any,
    answers: Sequence[str],
    contexts: Sequence[Sequence[str]],
    *,
    min_similarity: float = MIN_SIMILARITY,
    min_lexical: float = MIN_LEXICAL,
    batch_size: int = 64,
) -> list[Groundedness]:
    """One result per answer; ``contexts[i]`` are the passages retrieved for answer i. Embeds in one batch."""
    answer_sents = [split_sentences(a) for a in answers]
    context_sents = [[s for passage in ctx for s in split_sentences(passage)] for ctx in contexts]
    # The same passages come back for many questions: embed each distinct sentence once.
    unique = list(dict.fromkeys(s for group in (*answer_sents, *context_sents) for s in group))
    index = {s: i for i, s in enumerate(unique)}
    vectors = (
        np.asarray(embedder.encode(unique, batch_size=batch_size, normalize_embeddings=True, show_progress_bar=False))
        if unique
        else np.zeros((0, 1))
    )
    results = []
    for sents, ctx_sents, ctx in zip(answer_sents, context_sents, contexts, strict=True):
        a_vecs = vectors[[index[x] for x in sents]] if sents else None
        c_vecs = vectors[[index[x] for x in ctx_sents]] if ctx_sents else None
        if not sents:
            results.append(Groundedness(None, 0, 0, []))
            continue
        joined = "\n".join(ctx)
        best = (a_vecs @ c_vecs.T).max(axis=1) if a_vecs is not None and c_vecs is not None else np.zeros(len(sents))
        flags = [
            sentence_supported(
                float(sim),
                lexical_support(sent, joined),
                numbers_supported(sent, joined),
                min_similarity=min_similarity,
                min_lexical=min_lexical,
            )
            for sent, sim in zip(sents, best, strict=True)
        ]
        unsupported = [s for s, ok in zip(sents, flags, strict=True) if not ok]
        results.append(Groundedness(sum(flags) / len(flags), len(flags), sum(flags), unsupported))
    return results
