"""Training the classifier guard (chatbot/guard_classifier.py): ``python -m chatbot.guard_classifier train``.

Trained on the ``dev`` corpora of the guard (tests/data/guard_attacks.jsonl and guard_legit.jsonl, every row but the
held-out ``test`` third of batch 1, and the batch files listed in ``DEV_ATTACKS`` and ``DEV_LEGIT``), the in-scope
questions of evals/data/demo_eval.jsonl and a fixed sample of Banking77 questions read from their CSV at training time
(only their hash is stored), all as the pipeline serves them (normalised, PII-redacted). C and the threshold are chosen
by leave-one-batch-out cross-validation: each batch is written apart from the others (mostly by another author), so
scoring it with a model trained on the others is what a new attacker's phrasing looks like. The threshold keeps
out-of-batch false refusals at or under 1 % of the corpora's awkward legitimate questions and 0.5 % of ordinary ones.
No other file is read, so a batch not listed in ``DEV_ATTACKS`` stays blind; rows marked ``split: "blind"`` are
dropped unless their batch is in ``TUNED_BLIND_BATCHES``, and ``BLIND_BATCHES`` rows are always dropped.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chatbot.guard_classifier import (
    FINGERPRINT_DIMS,
    FINGERPRINT_TEXT,
    LEXICAL_BUCKETS,
    LEXICAL_NGRAMS,
    MODEL_PATH,
    Embed,
    lexical_features,
)
from chatbot.settings import BUILTIN_EMBEDDER
from chatbot.text_normalise import normalise_text

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
ATTACKS = DATA / "guard_attacks.jsonl"
LEGIT = DATA / "guard_legit.jsonl"
DEV_ATTACKS = (
    ATTACKS,
    DATA / "guard_attacks_batch5.jsonl",
    DATA / "guard_attacks_batch7.jsonl",
    DATA / "guard_attacks_batch8.jsonl",
    DATA / "guard_attacks_batch9.jsonl",
    DATA / "guard_attacks_batch10.jsonl",
    DATA / "guard_attacks_batch11.jsonl",
    DATA / "guard_attacks_batch12.jsonl",
    DATA / "guard_attacks_batch13.jsonl",
    DATA / "guard_attacks_batch14.jsonl",
)
DEV_LEGIT = (
    LEGIT,
    DATA / "guard_legit_batch5.jsonl",
    DATA / "guard_legit_batch7.jsonl",
    DATA / "guard_legit_batch8.jsonl",
    DATA / "guard_legit_batch9.jsonl",
    DATA / "guard_legit_batch10.jsonl",
    DATA / "guard_legit_batch11.jsonl",
    DATA / "guard_legit_batch12.jsonl",
    DATA / "guard_legit_batch13.jsonl",
    DATA / "guard_legit_batch14.jsonl",
)
# Committed batches held out from training because they measure the guard blind (results in docs/security.md):
# nothing trains, tunes or asserts rates on their rows, even when a file of theirs is listed by mistake.
BLIND_BATCHES = frozenset({16, 17})
# Batches whose rows keep ``split: "blind"`` (the label of the blind measurement they record) but are tuned on as dev
# rows. Any other batch's ``blind`` rows are dropped.
TUNED_BLIND_BATCHES = frozenset({5, 7, 8, 11, 12, 13, 14})
EVAL_SET = ROOT / "evals" / "data" / "demo_eval.jsonl"
BANKING77 = Path("/work/shared/data/banking77/train.csv")
BANKING77_SAMPLE = 400
C_GRID = (10.0, 30.0, 100.0)
MAX_FALSE_REFUSALS = 0.01  # share of the guard corpora's legitimate questions (out of batch) above the threshold
MAX_ORDINARY_FALSE_REFUSALS = 0.005  # the same for ordinary questions (demo eval in-scope, Banking77)


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def dev_rows(paths: Sequence[Path]) -> list[dict[str, Any]]:
    """The rows tuned on: all of these files but the held-out ``test`` third of batch 1 and any blind batch."""
    return [
        row
        for path in paths
        for row in _read_jsonl(path)
        if row["batch"] not in BLIND_BATCHES
        and (row["split"] == "dev" or (row["split"] == "blind" and row["batch"] in TUNED_BLIND_BATCHES))
    ]


def banking77_sample(path: Path = BANKING77, n: int = BANKING77_SAMPLE) -> list[str]:
    """``n`` Banking77 questions chosen by the hash of their text: the same rows on every machine and Python."""
    with open(path, newline="", encoding="utf-8") as handle:
        texts = sorted({row["text"] for row in csv.DictReader(handle)})
    return sorted(texts, key=lambda t: hashlib.sha256(t.encode()).hexdigest())[:n]


def served_text(question: str) -> str:
    """The text the pipeline's guards see and embed (chatbot/pipeline.py: normalise, then redact PII)."""
    from chatbot.pii import redact

    return redact(normalise_text(question))[0]


@dataclass(frozen=True)
class TrainingSet:
    texts: list[str]  # as the pipeline serves them: normalised and PII-redacted
    labels: list[int]  # 1 = attack
    sources: list[str]  # attack / legit (the guard corpora) / in_scope / banking77 (ordinary questions)
    batches: list[int]  # the corpus batch of attack and legit rows, 0 for the ordinary questions


def training_data(banking77: Path = BANKING77) -> TrainingSet:
    """The dev rows of every batch of the guard corpora plus ordinary questions, deduplicated."""
    rows: list[tuple[str, int, str, int]] = []
    rows += [(r["text"], 1, "attack", r["batch"]) for r in dev_rows(DEV_ATTACKS)]
    rows += [(r["text"], 0, "legit", r["batch"]) for r in dev_rows(DEV_LEGIT)]
    rows += [(r["question"], 0, "in_scope", 0) for r in _read_jsonl(EVAL_SET) if r["kind"] == "in_scope"]
    rows += [(t, 0, "banking77", 0) for t in banking77_sample(banking77)]
    seen: set[str] = set()
    data = TrainingSet([], [], [], [])
    for text, label, source, batch in rows:
        served = served_text(text)
        if served not in seen:  # an attack phrased like a legitimate question would teach both labels at once
            seen.add(served)
            data.texts.append(served)
            data.labels.append(label)
            data.sources.append(source)
            data.batches.append(batch)
    return data


def data_hash(texts: Sequence[str], labels: Sequence[int]) -> str:
    payload = json.dumps([[label, text] for text, label in zip(texts, labels, strict=True)], ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()


def batch_folds(data: TrainingSet) -> list[tuple[int, Any, Any]]:
    """Leave-one-batch-out folds, (held-out batch, train rows, test rows): each corpus batch is held out in turn,
    with a hash-chosen share of the ordinary questions, so a score is always for a batch written apart from the
    rows the model learnt from (another person, another time: what a new attacker looks like)."""
    import numpy as np

    held = sorted({b for b in data.batches if b})
    group = [
        b or held[int(hashlib.sha256(t.encode()).hexdigest(), 16) % len(held)]
        for t, b in zip(data.texts, data.batches, strict=True)
    ]
    groups = np.asarray(group)
    return [(b, np.flatnonzero(groups != b), np.flatnonzero(groups == b)) for b in held]


def feature_matrix(vectors: Sequence[Sequence[float]], texts: Sequence[str]) -> Any:
    """Rows of [embedding | hashed n-grams] as one sparse matrix: what ``ClassifierModel.score`` computes."""
    import numpy as np
    from scipy.sparse import csr_matrix, hstack

    rows, cols, values = [], [], []
    for i, text in enumerate(texts):
        for k, v in lexical_features(text).items():
            rows.append(i)
            cols.append(k)
            values.append(v)
    lexical = csr_matrix((values, (rows, cols)), shape=(len(texts), LEXICAL_BUCKETS))
    return hstack([csr_matrix(np.asarray(vectors, dtype=np.float64)), lexical]).tocsr()


def fit(x: Any, y: Any, c: float) -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=c, class_weight="balanced", max_iter=5000).fit(x, y)


def out_of_batch_scores(x: Any, y: Any, folds: Sequence[tuple[int, Any, Any]], c: float) -> Any:
    """Every row's attack probability from the model trained without its batch."""
    import numpy as np

    scores = np.zeros(len(y))
    for _, train_rows, test_rows in folds:
        scores[test_rows] = fit(x[train_rows], y[train_rows], c).predict_proba(x[test_rows])[:, 1]
    return scores


def pick_threshold(scores: Any, y: Any, sources: Sequence[str]) -> float:
    """The lowest cut that keeps out-of-batch false refusals within budget, on the guard's own awkward legitimate
    questions and on ordinary traffic separately (the easy Banking77 bulk must not hide the awkward ones)."""
    import numpy as np

    own = np.asarray([s == "legit" for s in sources])
    ordinary = (y == 0) & ~own
    return float(
        max(
            np.quantile(scores[own], 1 - MAX_FALSE_REFUSALS),
            np.quantile(scores[ordinary], 1 - MAX_ORDINARY_FALSE_REFUSALS),
        )
    )


def train(embed: Embed, banking77: Path = BANKING77) -> dict[str, Any]:
    """The classifier file's content: weights, threshold and what they were trained on."""
    import numpy as np

    data = training_data(banking77)
    x = feature_matrix(embed(data.texts), data.texts)
    y = np.asarray(data.labels)
    folds = batch_folds(data)
    cv: dict[float, tuple[float, float]] = {}
    for c in C_GRID:
        scores = out_of_batch_scores(x, y, folds, c)
        cut = pick_threshold(scores, y, data.sources)
        cv[c] = (cut, float(np.mean(scores[y == 1] >= cut)))
    best_c = max(C_GRID, key=lambda c: (cv[c][1], -c))
    model = fit(x, y, best_c)
    fingerprint = embed([FINGERPRINT_TEXT])[0][:FINGERPRINT_DIMS]
    dims = x.shape[1] - LEXICAL_BUCKETS  # the embedding columns come first
    weights = model.coef_[0]
    return {
        "embedder": BUILTIN_EMBEDDER,
        "features": "L2-normalised embedding of the normalised, PII-redacted question (what the pipeline embeds) "
        "and its hashed character n-grams (lexical_features)",
        "C": best_c,
        "out_of_batch_block_rate_at_threshold": {str(c): round(v[1], 4) for c, v in cv.items()},
        "threshold": round(cv[best_c][0], 6),
        "intercept": round(float(model.intercept_[0]), 6),
        "coef": [round(float(v), 6) for v in weights[:dims]],
        "lexical": {
            "buckets": LEXICAL_BUCKETS,
            "ngrams": list(LEXICAL_NGRAMS),
            "weights": {str(k): round(float(v), 4) for k, v in enumerate(weights[dims:]) if round(float(v), 4)},
        },
        "fingerprint": [round(float(v), 6) for v in fingerprint],
        "training_data": {
            "sha256": data_hash(data.texts, data.labels),
            "counts": {s: data.sources.count(s) for s in ("attack", "legit", "in_scope", "banking77")},
            "batches": sorted({b for b in data.batches if b}),
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


def model_file_text(data: dict[str, Any]) -> str:
    """The classifier file: indented, except the thousands of n-gram weights, which go on one line."""
    weights = data["lexical"]["weights"]
    head = {**data, "lexical": {**data["lexical"], "weights": "@weights@"}}
    compact = json.dumps(weights, separators=(",", ":"))
    return json.dumps(head, indent=1).replace('"@weights@"', compact) + "\n"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m chatbot.guard_classifier", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    cmd = sub.add_parser("train", help="train on the dev split and write the classifier file")
    cmd.add_argument("--out", type=Path, default=MODEL_PATH)
    cmd.add_argument("--banking77", type=Path, default=BANKING77, help="Banking77 train.csv (read, never copied)")
    args = parser.parse_args(argv)
    data = train(builtin_embed(), args.banking77)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(model_file_text(data), encoding="utf-8")
    print(json.dumps({k: v for k, v in data.items() if k not in ("coef", "fingerprint", "lexical")}, indent=2))


if __name__ == "__main__":
    main()
