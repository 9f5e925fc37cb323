"""Contrastive fine-tuning of the sentence embedder on labelled questions.

Each question is pulled towards another question of the same article (its article's title when it is the only one)
and away from the other pairs in the batch; in-batch "negatives" of the same article are masked out of the softmax,
so nothing pushes two questions of one article apart. Question-to-question pairs match what retrieval does with the
example index (a new question is compared with known questions); on the Banking77 dev split they beat question ->
article title pairs (docs/retrieval.md).

The result is a versioned folder ``<artifact root>/embedders/<version>/`` with ``embedder.json`` metadata (the
artifact root is shared by every replica, default the data dir). The nightly job keeps it only when the retrieval
eval improves (``train_candidate_embedder``): the candidate bundle then names it, and it serves once that bundle is
promoted (``finetune.registry.promote_version``).
"""

from __future__ import annotations

import json
import logging
import os
import random
import shutil
import tempfile
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chatbot.errors import BankbotError
from chatbot.settings import Settings

if TYPE_CHECKING:
    from chatbot.app_services import AppServices

log = logging.getLogger(__name__)

METADATA_FILE = "embedder.json"


def embedders_dir(settings: Settings) -> Path:
    return settings.effective_artifact_root / "embedders"


def new_version() -> str:
    return datetime.now(UTC).strftime("emb-%Y%m%d-%H%M%S")


def demo_article_texts() -> dict[str, str]:
    """article id -> the text a question is pulled towards: the article title.

    Titles are a few tokens, so each training step costs little more than encoding the questions; a longer
    text (title + gold answer) made steps ~4x slower on CPU.
    """
    from retrieval.kb import load_articles

    return {a.id: a.title for a in load_articles()}


def training_pairs(
    questions: Sequence[str],
    article_ids: Sequence[str],
    article_texts: Mapping[str, str],
    *,
    max_per_article: int | None = None,
    seed: int = 0,
) -> tuple[list[str], list[str], list[str]]:
    """(anchors, positives, article ids): each question whose article has a text, paired with another question
    of the same article (the article's text when it has no other), at most ``max_per_article`` anchors an
    article, shuffled deterministically."""
    if len(questions) != len(article_ids):
        raise BankbotError(f"{len(questions)} questions but {len(article_ids)} article ids")
    rng = random.Random(seed)
    known = [(q, a) for q, a in zip(questions, article_ids, strict=True) if a in article_texts]
    by_article: dict[str, list[str]] = {}
    for question, article_id in known:
        by_article.setdefault(article_id, []).append(question)
    rng.shuffle(known)
    taken: dict[str, int] = {}
    anchors, positives, labels = [], [], []
    for question, article_id in known:
        taken[article_id] = taken.get(article_id, 0) + 1
        if max_per_article is not None and taken[article_id] > max_per_article:
            continue
        others = [q for q in by_article[article_id] if q != question]
        anchors.append(question)
        positives.append(rng.choice(others) if others else article_texts[article_id])
        labels.append(article_id)
    return anchors, positives, labels


def same_article_ranking_loss(model: Any, *, scale: float = 20.0) -> Any:
    """In-batch softmax over (anchor, positive) pairs, both directions, with same-article negatives masked out."""
    import torch

    class SameArticleRankingLoss(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, sentence_features: Sequence[dict[str, Any]], labels: torch.Tensor) -> torch.Tensor:
            anchors, positives = (
                torch.nn.functional.normalize(self.model(f)["sentence_embedding"], dim=-1) for f in sentence_features
            )
            scores = anchors @ positives.T * scale
            diagonal = torch.eye(len(labels), dtype=torch.bool, device=labels.device)
            same = (labels[:, None] == labels[None, :]) & ~diagonal
            scores = scores.masked_fill(same, -1e4)
            target = torch.arange(len(labels), device=scores.device)
            cross_entropy = torch.nn.functional.cross_entropy
            return (cross_entropy(scores, target) + cross_entropy(scores.T, target)) / 2

    return SameArticleRankingLoss()


def train_embedder(
    settings: Settings,
    questions: Sequence[str],
    article_ids: Sequence[str],
    *,
    out_dir: Path | None = None,
    epochs: int = 2,
    batch_size: int = 64,
    learning_rate: float = 1e-4,
    max_seq_length: int = 64,
    max_per_article: int | None = None,
    article_texts: Mapping[str, str] | None = None,
    base_model: str | None = None,
    seed: int = 0,
) -> Path:
    """Fine-tune the active embedder (or ``base_model``) and save it as a new versioned folder; returns it."""
    texts = dict(article_texts) if article_texts is not None else demo_article_texts()
    anchors, positives, labels = training_pairs(
        questions, article_ids, texts, max_per_article=max_per_article, seed=seed
    )
    if len(anchors) < 2:
        raise BankbotError(f"embedder training needs at least 2 questions with a known article, got {len(anchors)}")
    model, source = load_base_embedder(settings, base_model, max_seq_length)
    target = out_dir or embedders_dir(settings) / new_version()
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    started = time.perf_counter()
    try:
        batch = min(batch_size, len(anchors))
        fit_embedder(
            settings,
            model,
            (anchors, positives, labels),
            work,
            epochs=epochs,
            batch_size=batch,
            learning_rate=learning_rate,
            seed=seed,
        )
        seconds = time.perf_counter() - started
        metadata: dict[str, Any] = {
            "version": target.name,
            "base_model": str(source),
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "examples": len(anchors),
            "articles": len(set(labels)),
            "epochs": epochs,
            "batch_size": batch,
            "learning_rate": learning_rate,
            "max_per_article": max_per_article,
            "loss": "same-article ranking (question -> question of the same article, same-article negatives masked)",
            "train_seconds": round(seconds, 1),
        }
        save_embedder(model, work / "model", target, metadata)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    log.info("embedder %s trained on %d questions in %.0f s", target.name, len(anchors), seconds)
    return target


def load_base_embedder(settings: Settings, base_model: str | None, max_seq_length: int) -> tuple[Any, Any]:
    """(model, its source): ``base_model``, else the promoted embedder, else the configured one."""
    from chatbot.model_loading import embedder_source, load_embedder
    from retrieval.embedder_registry import active_embedder

    source = base_model or active_embedder(settings) or embedder_source(settings)
    model = load_embedder(settings, source)
    model.max_seq_length = min(model.max_seq_length, max_seq_length)
    return model, source


def fit_embedder(
    settings: Settings,
    model: Any,
    pairs: tuple[Sequence[str], Sequence[str], Sequence[str]],
    work: Path,
    *,
    epochs: int,
    batch_size: int,
    learning_rate: float,
    seed: int,
) -> None:
    """Train ``model`` in place on ``training_pairs``' (anchors, positives, article ids) with the same-article
    ranking loss; ``work`` holds the trainer's scratch files."""
    from datasets import Dataset
    from sentence_transformers import SentenceTransformerTrainer
    from sentence_transformers.sentence_transformer.training_args import (
        BatchSamplers,
        SentenceTransformerTrainingArguments,
    )

    args = SentenceTransformerTrainingArguments(
        output_dir=str(work / "checkpoints"),
        num_train_epochs=epochs,
        per_device_train_batch_size=batch_size,
        learning_rate=learning_rate,
        warmup_steps=0.1,  # a float is a fraction of the steps in transformers 5
        batch_sampler=BatchSamplers.BATCH_SAMPLER,
        save_strategy="no",
        logging_steps=50,
        report_to="none",
        seed=seed,
        use_cpu=settings.device == "cpu",
        dataloader_num_workers=0,
        disable_tqdm=not log.isEnabledFor(logging.INFO),
    )
    anchors, positives, labels = pairs
    label_ids = {a: i for i, a in enumerate(sorted(set(labels)))}
    dataset = Dataset.from_dict({"anchor": anchors, "positive": positives, "label": [label_ids[a] for a in labels]})
    trainer = SentenceTransformerTrainer(
        model=model, args=args, train_dataset=dataset, loss=same_article_ranking_loss(model)
    )
    trainer.train()


def save_embedder(model: Any, model_dir: Path, target: Path, metadata: dict[str, Any]) -> None:
    """Save into ``model_dir`` (inside the work folder) with its metadata, then move it to ``target``, replacing
    an existing folder: the folder appears complete or not at all."""
    model.save(str(model_dir))
    (model_dir / METADATA_FILE).write_text(json.dumps(metadata, indent=2))
    if target.exists():
        shutil.rmtree(target)
    os.replace(model_dir, target)


def train_candidate_embedder(
    app: AppServices,
    questions: Sequence[str],
    article_ids: Sequence[str],
    eval_queries: Sequence[Any],
    *,
    margin: float | None = None,
    **train_options: Any,
) -> dict[str, Any]:
    """Nightly step: fine-tune on labelled questions, and keep the new embedder as a candidate only if accuracy@1 on
    ``eval_queries`` (``evals.retrieval.LabelledQuery``) beats the live retriever by more than ``margin``. A winner's
    knowledge base, example index and few-shot store are re-embedded from ``app``'s collections (every snapshot, so
    write the candidate bundle's snapshot first) and it is recorded as a 'candidate' embedder_version row
    (``retrieval.embedder_registry.prepare_embedder``); nothing serving changes: the candidate bundle names it and
    is promoted with it, or not. A loser's folder is deleted.

    Returns both metric dicts, the version and whether it won."""
    from evals.retrieval import RetrievalEval
    from retrieval.embedder_registry import prepare_embedder
    from retrieval.vector_store import article_texts_from_store, store_client

    margin = app.settings.promotion_margin if margin is None else margin
    baseline = RetrievalEval(eval_queries).run(app)
    model_dir = train_embedder(
        app.settings,
        questions,
        article_ids,
        article_texts=article_texts_from_store(app.vector_store),
        **train_options,
    )
    won = False
    try:
        candidate = RetrievalEval(eval_queries, embedder_dir=model_dir).run(app)
        if candidate["accuracy_at_1"] > baseline["accuracy_at_1"] + margin:
            client = store_client(app.vector_store)
            source = app.embedder_version
            prepare_embedder(
                app.settings, model_dir, source_version=source, metrics=candidate, engine=app.engine, client=client
            )
            won = True
    finally:
        if not won:  # lost, or failed before it was recorded: nothing will ever name the folder
            shutil.rmtree(model_dir, ignore_errors=True)
    return {"version": model_dir.name, "won": won, "baseline": baseline, "candidate": candidate}
