"""A logistic-regression guard on the question's sentence embedding and n-grams, beside the rules of chatbot/guard.py.

The rules catch the phrasings they were written for and far fewer new ones; the classifier reads the same
all-MiniLM-L6-v2 vector retrieval computes anyway, plus hashed character n-grams of the folded, de-obfuscated text
(which carry spelling across languages and disguises the English-centred embedding reads poorly), so it costs one
dot product and a few hundred hash lookups per question. The pipeline refuses when the rules *or* the classifier do
(reason ``guard:classifier``). The weights live in chatbot/data/guard_classifier.json, written by

    python -m chatbot.guard_classifier train

(chatbot/guard_training.py: what it is trained on and how C and the threshold are chosen).

The weights only mean something for the vectors they were trained on: the guard checks once per embedder that it
embeds a fixed sentence to the stored fingerprint, and otherwise runs the rules alone (logged once).
Measured by benchmarks/guard_classifier_rates.py; tested in tests/test_guard_classifier.py.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import zlib
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chatbot.guard import GuardResult
from chatbot.guard_views import lexical_view
from chatbot.settings import BUILTIN_EMBEDDER

logger = logging.getLogger(__name__)

MODEL_PATH = Path(__file__).resolve().parent / "data" / "guard_classifier.json"
LEXICAL_BUCKETS = 2**14
LEXICAL_NGRAMS = (3, 4, 5)
FINGERPRINT_TEXT = "How do I activate my new card?"
FINGERPRINT_DIMS = 16
FINGERPRINT_TOLERANCE = 1e-3

Embed = Callable[[list[str]], list[list[float]]]


def attack_probability(vector: Sequence[float], coef: Sequence[float], intercept: float) -> float:
    """sigmoid(coef · vector + intercept), computed without overflow for large |z|."""
    z = intercept + math.fsum(c * v for c, v in zip(coef, vector, strict=True))
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def fingerprint_matches(vector: Sequence[float], fingerprint: Sequence[float]) -> bool:
    """Whether an embedder's vector for FINGERPRINT_TEXT starts like the training embedder's did."""
    return len(vector) >= len(fingerprint) and all(
        abs(a - b) <= FINGERPRINT_TOLERANCE for a, b in zip(vector, fingerprint, strict=False)
    )


def lexical_features(text: str) -> dict[int, float]:
    """Hashed character 3-5-grams of each word of the folded, de-obfuscated, lower-cased text, L2-normalised.

    The sentence embedding is English-centred and reads meaning; these read spelling: "instrucciones",
    "Anweisungen", "1nstruct10ns" share n-grams with the attacks they resemble, whatever the language or disguise.
    crc32 keeps the hashing the same on every machine and Python (``hash()`` is salted).
    """
    counts: Counter[int] = Counter()
    for word in lexical_view(text).split():
        padded = f" {word} "
        for n in LEXICAL_NGRAMS:
            for i in range(max(1, len(padded) - n + 1)):
                counts[zlib.crc32(padded[i : i + n].encode()) % LEXICAL_BUCKETS] += 1
    norm = math.sqrt(sum(v * v for v in counts.values())) or 1.0
    return {k: v / norm for k, v in counts.items()}


@dataclass(frozen=True)
class ClassifierModel:
    coef: tuple[float, ...]
    intercept: float
    threshold: float
    embedder: str
    fingerprint: tuple[float, ...]
    lexical: Mapping[int, float] = field(default_factory=dict)  # weight per n-gram bucket (absent: 0)

    def score(self, vector: Sequence[float], text: str = "") -> float:
        """Attack probability of a question from its embedding and, when the model has lexical weights, its text."""
        lexical = (
            math.fsum(self.lexical.get(k, 0.0) * v for k, v in lexical_features(text).items()) if self.lexical else 0.0
        )
        return attack_probability(vector, self.coef, self.intercept + lexical)

    @classmethod
    def load(cls, path: Path = MODEL_PATH) -> ClassifierModel:
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(
            coef=tuple(float(c) for c in data["coef"]),
            intercept=float(data["intercept"]),
            threshold=float(data["threshold"]),
            embedder=str(data["embedder"]),
            fingerprint=tuple(float(x) for x in data["fingerprint"]),
            lexical={int(k): float(v) for k, v in data.get("lexical", {}).get("weights", {}).items()},
        )


class ClassifierGuard:
    """The classifier half of the guard for one app; decides once per embedder whether it may run."""

    def __init__(self, settings: Any, model: ClassifierModel | None = None, path: Path = MODEL_PATH) -> None:
        self.settings = settings
        self._model = model
        self._path = path
        self._embeddings: Any = None  # the embeddings object the decision below was made for
        self._active = False
        self._lock = threading.Lock()  # concurrent first questions decide (and log) once

    def check(
        self, question: str, *, retriever: Any, active_embedder_path: Callable[[], str | None]
    ) -> tuple[GuardResult, list[float] | None]:
        """(verdict, the question's vector for retrieval to reuse, or None when the classifier is not in use).
        ``active_embedder_path`` is asked only when the retriever's embeddings change (a promoted embedder)."""
        embeddings = getattr(getattr(retriever, "vector_store", None), "embeddings", None)
        if embeddings is None or not hasattr(retriever, "rank_by_vector"):
            return GuardResult(False), None  # e.g. a test retriever that embeds nothing: rules only
        with self._lock:
            if embeddings is not self._embeddings:
                self._active = self._applies(active_embedder_path(), embeddings)
                self._embeddings = embeddings
        if not self._active or self._model is None:
            return GuardResult(False), None
        vector = embeddings.embed_query(question)
        score = self._model.score(vector, question)
        return GuardResult(score >= self._model.threshold, "classifier", f"p={score:.3f}"), vector

    def _applies(self, active_embedder_path: str | None, embeddings: Any) -> bool:
        if self.settings.embedding_model != BUILTIN_EMBEDDER or active_embedder_path is not None:
            logger.info("guard classifier off: trained for %s only; the rules guard alone runs", BUILTIN_EMBEDDER)
            return False
        try:
            self._model = self._model or ClassifierModel.load(self._path)
        except (OSError, ValueError, KeyError) as exc:
            logger.warning("guard classifier off: cannot read %s (%s); the rules guard alone runs", self._path, exc)
            return False
        if not fingerprint_matches(embeddings.embed_query(FINGERPRINT_TEXT), self._model.fingerprint):
            logger.warning("guard classifier off: the embedder's vectors differ from training; the rules alone run")
            return False
        return True


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m chatbot.guard_classifier train``: the training command lives with the training code."""
    from chatbot.guard_training import main as train_main

    train_main(argv)


if __name__ == "__main__":
    main()
