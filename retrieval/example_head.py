"""A classifier over the indexed example questions, fused with the retriever's vote once there are enough of them.

The vote reads the ``EXAMPLE_K`` nearest example questions; a multinomial logistic regression over *all* of the
visible examples' embeddings (their article ids as labels) learns which directions of the embedding space mean
which article, and disagrees with the vote exactly where a few near neighbours mislead it. The vote's fused score
averaged with the head's probability is right more often than the vote alone from 300 indexed questions on and less
often below, hence ``HEAD_MIN_EXAMPLES`` (measured by benchmarks/retrieval_confidence.py on the simulation's 770
held-out Banking77 queries; figures in docs/retrieval.md).

The head is fitted from the index itself (no extra artefact to promote or roll back): whatever snapshot the index
reads — the production bundle's, or a candidate's in the gate — its head is fitted on first use and cached.
Prediction is a matrix product and a softmax in numpy; scikit-learn is needed only to fit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

HEAD_MIN_EXAMPLES = 300
HEAD_WEIGHT = 0.5  # of the head's probability in the ranking; the vote's fused score has the rest
HEAD_C = 10.0  # inverse regularisation: examples per article are few, a weak prior fits them best (measured)


@dataclass(frozen=True)
class ExampleHead:
    """A fitted head: ``predict(vector)`` -> article id -> probability (summing to 1)."""

    classes: tuple[str, ...]
    coef: Any  # numpy (n_classes, dim)
    intercept: Any  # numpy (n_classes,)

    def predict(self, vector: Sequence[float]) -> dict[str, float]:
        import numpy as np

        logits = self.coef @ np.asarray(vector, dtype=np.float64) + self.intercept
        logits -= logits.max()
        weights = np.exp(logits)
        probabilities = weights / weights.sum()
        return {article: float(p) for article, p in zip(self.classes, probabilities, strict=True)}


def fit_head(
    vectors: Sequence[Sequence[float]], article_ids: Sequence[str], *, min_examples: int = HEAD_MIN_EXAMPLES
) -> ExampleHead | None:
    """The head for these (embedding, article id) examples; None below ``min_examples`` or with fewer than three
    articles (a two-class fit has one row of weights, and with so few articles the vote alone decides)."""
    if len(vectors) != len(article_ids):
        raise ValueError(f"{len(vectors)} vectors but {len(article_ids)} article ids")
    if len(vectors) < max(min_examples, 1) or len(set(article_ids)) < 3:
        return None
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=HEAD_C, max_iter=2000).fit(np.asarray(vectors, dtype=np.float64), list(article_ids))
    return ExampleHead(
        classes=tuple(str(c) for c in model.classes_),
        coef=np.asarray(model.coef_, dtype=np.float64),
        intercept=np.asarray(model.intercept_, dtype=np.float64),
    )


def fuse_with_head(
    fused: Mapping[str, float], head: Mapping[str, float], *, weight: float = HEAD_WEIGHT
) -> dict[str, float]:
    """article id -> (1 - weight) * fused score + weight * head probability, over the articles of either, in
    [0, 1]; an empty head leaves the fused scores as they are."""
    if not head:
        return dict(fused)
    return {a: (1 - weight) * fused.get(a, 0.0) + weight * head.get(a, 0.0) for a in set(fused) | set(head)}
