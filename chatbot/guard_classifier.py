"""A logistic-regression guard on the question's sentence embedding, beside the rules of chatbot/guard.py.

The rules catch the phrasings they were written for and about half of new ones; the classifier reads the same
all-MiniLM-L6-v2 vector retrieval computes anyway, so it costs one dot product per question. The pipeline refuses
when the rules *or* the classifier do (reason ``guard:classifier``). The weights live in
chatbot/data/guard_classifier.json, written by

    python -m chatbot.guard_classifier train

from the ``dev`` split of tests/data/guard_*.jsonl (attacks vs legitimate questions), the in-scope questions of
evals/data/demo_eval.jsonl and a fixed sample of Banking77 questions read from their CSV at training time (only
their hash is stored). C is chosen by 5-fold cross-validation on that data, the threshold so that at most 1 % of
the legitimate training questions score above it out of fold. The ``test`` and ``blind`` splits are never read.

The weights only mean something for the vectors they were trained on: the guard checks once per embedder that it
embeds a fixed sentence to the stored fingerprint, and otherwise runs the rules alone (logged once).
Measured by benchmarks/guard_classifier_rates.py; tested in tests/test_guard_classifier.py.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import logging
import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chatbot.guard import GuardResult
from chatbot.settings import BUILTIN_EMBEDDER
from chatbot.text_normalise import normalise_text

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[1]
MODEL_PATH = Path(__file__).resolve().parent / "data" / "guard_classifier.json"
ATTACKS = ROOT / "tests" / "data" / "guard_attacks.jsonl"
LEGIT = ROOT / "tests" / "data" / "guard_legit.jsonl"
EVAL_SET = ROOT / "evals" / "data" / "demo_eval.jsonl"
BANKING77 = Path("/work/shared/data/banking77/train.csv")
BANKING77_SAMPLE = 400
C_GRID = (0.3, 1.0, 3.0, 10.0, 30.0)
MAX_FALSE_REFUSALS = 0.01  # share of legitimate training questions (out of fold) allowed above the threshold
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


@dataclass(frozen=True)
class ClassifierModel:
    coef: tuple[float, ...]
    intercept: float
    threshold: float
    embedder: str
    fingerprint: tuple[float, ...]

    def score(self, vector: Sequence[float]) -> float:
        return attack_probability(vector, self.coef, self.intercept)

    @classmethod
    def load(cls, path: Path = MODEL_PATH) -> ClassifierModel:
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(
            coef=tuple(float(c) for c in data["coef"]),
            intercept=float(data["intercept"]),
            threshold=float(data["threshold"]),
            embedder=str(data["embedder"]),
            fingerprint=tuple(float(x) for x in data["fingerprint"]),
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

    def check(self, app: Any, question: str) -> tuple[GuardResult, list[float] | None]:
        """(verdict, the question's vector for retrieval to reuse, or None when the classifier is not in use)."""
        retriever = app.retriever
        embeddings = getattr(getattr(retriever, "vector_store", None), "embeddings", None)
        if embeddings is None or not hasattr(retriever, "rank_by_vector"):
            return GuardResult(False), None  # e.g. a test retriever that embeds nothing: rules only
        with self._lock:
            if embeddings is not self._embeddings:
                self._active = self._applies(app, embeddings)
                self._embeddings = embeddings
        if not self._active or self._model is None:
            return GuardResult(False), None
        vector = embeddings.embed_query(question)
        score = self._model.score(vector)
        return GuardResult(score >= self._model.threshold, "classifier", f"p={score:.3f}"), vector

    def _applies(self, app: Any, embeddings: Any) -> bool:
        if self.settings.embedding_model != BUILTIN_EMBEDDER or app.active_embedder_path is not None:
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


# --- training ----------------------------------------------------------------------------------------------------
def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def banking77_sample(path: Path = BANKING77, n: int = BANKING77_SAMPLE) -> list[str]:
    """``n`` Banking77 questions chosen by the hash of their text: the same rows on every machine and Python."""
    with open(path, newline="", encoding="utf-8") as handle:
        texts = sorted({row["text"] for row in csv.DictReader(handle)})
    return sorted(texts, key=lambda t: hashlib.sha256(t.encode()).hexdigest())[:n]


def training_data(banking77: Path = BANKING77) -> tuple[list[str], list[int], list[str]]:
    """(texts normalised, labels 1 = attack, source of each: attack / legit / in_scope / banking77), dev only."""
    rows: list[tuple[str, int, str]] = []
    rows += [(r["text"], 1, "attack") for r in _read_jsonl(ATTACKS) if r["split"] == "dev"]
    rows += [(r["text"], 0, "legit") for r in _read_jsonl(LEGIT) if r["split"] == "dev"]
    rows += [(r["question"], 0, "in_scope") for r in _read_jsonl(EVAL_SET) if r["kind"] == "in_scope"]
    rows += [(t, 0, "banking77") for t in banking77_sample(banking77)]
    seen: set[str] = set()
    texts, labels, sources = [], [], []
    for text, label, source in rows:
        norm = normalise_text(text)
        if norm not in seen:  # an attack phrased like a legitimate question would teach both labels at once
            seen.add(norm)
            texts.append(norm)
            labels.append(label)
            sources.append(source)
    return texts, labels, sources


def data_hash(texts: Sequence[str], labels: Sequence[int]) -> str:
    payload = json.dumps([[label, text] for text, label in zip(texts, labels, strict=True)], ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()


def train(embed: Embed, banking77: Path = BANKING77) -> dict[str, Any]:
    """The classifier file's content: weights, threshold and what they were trained on."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    texts, labels, sources = training_data(banking77)
    x = np.asarray(embed(texts), dtype=np.float64)
    y = np.asarray(labels)
    folds = list(StratifiedKFold(5, shuffle=True, random_state=0).split(x, y))

    def fit(c: float, rows: Any) -> Any:
        return LogisticRegression(C=c, class_weight="balanced", max_iter=5000).fit(x[rows], y[rows])

    def out_of_fold(c: float) -> Any:
        scores = np.zeros(len(y))
        for train_rows, test_rows in folds:
            scores[test_rows] = fit(c, train_rows).predict_proba(x[test_rows])[:, 1]
        return scores

    def threshold(scores: Any) -> float:
        # the guard's own legitimate set must stay under the budget too, not only the easy Banking77 bulk
        own = np.asarray([s == "legit" for s in sources])
        return float(max(np.quantile(scores[y == 0], 1 - MAX_FALSE_REFUSALS), np.quantile(scores[own], 0.99)))

    cv = {}
    for c in C_GRID:
        scores = out_of_fold(c)
        cv[c] = float(np.mean(scores[y == 1] >= threshold(scores)))
    best_c = max(C_GRID, key=lambda c: (cv[c], -c))
    cut = threshold(out_of_fold(best_c))
    model = fit(best_c, np.arange(len(y)))
    fingerprint = embed([FINGERPRINT_TEXT])[0][:FINGERPRINT_DIMS]
    return {
        "embedder": BUILTIN_EMBEDDER,
        "features": "L2-normalised embedding of normalise_text(question) (PII-redacted in the pipeline)",
        "C": best_c,
        "cv_block_rate_at_threshold": {str(c): round(v, 4) for c, v in cv.items()},
        "threshold": round(cut, 6),
        "intercept": round(float(model.intercept_[0]), 6),
        "coef": [round(float(v), 6) for v in model.coef_[0]],
        "fingerprint": [round(float(v), 6) for v in fingerprint],
        "training_data": {
            "sha256": data_hash(texts, labels),
            "counts": {s: sources.count(s) for s in ("attack", "legit", "in_scope", "banking77")},
        },
    }


def builtin_embed(batch_size: int = 64) -> Embed:
    """Embed with the packaged all-MiniLM-L6-v2, L2-normalised like retrieval/embeddings.py."""
    from chatbot.model_loading import load_embedder
    from chatbot.settings import Settings

    model = load_embedder(Settings(embedding_model=BUILTIN_EMBEDDER, device="cpu"))

    def embed(texts: list[str]) -> list[list[float]]:
        vectors = model.encode(texts, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True)
        return [[float(v) for v in row] for row in vectors]

    return embed


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m chatbot.guard_classifier", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    cmd = sub.add_parser("train", help="train on the dev split and write the classifier file")
    cmd.add_argument("--out", type=Path, default=MODEL_PATH)
    cmd.add_argument("--banking77", type=Path, default=BANKING77, help="Banking77 train.csv (read, never copied)")
    args = parser.parse_args(argv)
    data = train(builtin_embed(), args.banking77)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in data.items() if k not in ("coef", "fingerprint")}, indent=2))


if __name__ == "__main__":
    main()
