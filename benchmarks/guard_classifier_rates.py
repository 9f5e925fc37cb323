"""The rules guard, the embedding classifier guard and both together (the pipeline's guard), per batch. Prints JSON.

    python benchmarks/guard_classifier_rates.py    # ~60 s on 2 CPU cores the first time; embeddings cached in /tmp
    python benchmarks/guard_classifier_rates.py --attacks new_attacks.jsonl --legit new_legit.jsonl
    python benchmarks/guard_classifier_rates.py --leave-one-batch-out   # the honest estimate on the committed data

Each question goes through what the pipeline does: ``normalise_text``, PII redaction, then the rules
(chatbot/guard.py) and the classifier (chatbot/guard_classifier.py, the committed weights) on the all-MiniLM-L6-v2
vector and the n-grams of that text. Rows are reported per ``batch`` and ``split``. On the committed corpora every
batch is in-sample for the committed weights (they were trained on all ``dev`` rows), so the default report says
what is covered; a new batch passed with ``--attacks``/``--legit`` (repeatable or comma-separated) is a blind
measurement. ``--leave-one-batch-out`` retrains the classifier recipe once per batch without that batch (threshold
chosen without it too) and scores the batch: what a new attacker's phrasings would meet.
Also: the demo eval set (probes, in-scope and out-of-scope questions) and 1,000 Banking77 questions that the
classifier was not trained on (hash-chosen, read from the CSV; skipped when the file is absent), for false refusals
on ordinary traffic.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from chatbot import guard

# Run as `python benchmarks/guard_classifier_rates.py` (its folder on sys.path) or imported by the tests (the repo).
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.guard_rates import paths_argument, read_corpus
from chatbot import guard_training as gt
from chatbot.guard_classifier import MODEL_PATH, ClassifierModel, Embed
from chatbot.guard_training import (
    BANKING77,
    BANKING77_SAMPLE,
    DEV_ATTACKS,
    DEV_LEGIT,
    EVAL_SET,
    _read_jsonl,
    banking77_sample,
    builtin_embed,
    served_text,
)

CACHE = Path("/tmp/bankbot-guard-classifier-embeddings.json")
BANKING77_HELD_OUT = 1000
GUARDS = ("rules", "classifier", "both")


def cached_embed(embed: Embed, cache: Path = CACHE) -> Embed:
    """``embed`` with its vectors kept in ``cache`` (keyed by the text's hash) between runs."""
    store: dict[str, list[float]] = json.loads(cache.read_text()) if cache.is_file() else {}

    def run(texts: list[str]) -> list[list[float]]:
        keys = [hashlib.sha256(t.encode()).hexdigest() for t in texts]
        missing = sorted({k: t for k, t in zip(keys, texts, strict=True) if k not in store}.items())
        if missing:
            for (key, _), vector in zip(missing, embed([t for _, t in missing]), strict=True):
                store[key] = [round(v, 7) for v in vector]
            cache.write_text(json.dumps(store))
        return [store[k] for k in keys]

    return run


def _rate(hits: int, n: int) -> dict[str, Any]:
    return {"n": n, "refused": hits, "rate": round(hits / n, 4) if n else 0.0}


def verdicts(questions: Sequence[str], model: ClassifierModel, embed: Embed) -> list[dict[str, Any]]:
    """Per question: whether the rules, the classifier, and either of them refuse it, and the classifier score."""
    texts = [served_text(q) for q in questions]
    out = []
    for text, vector in zip(texts, embed(texts), strict=True):
        score = model.score(vector, text)
        rules = guard.check(text).refused
        classifier = score >= model.threshold
        out.append({"rules": rules, "classifier": classifier, "both": rules or classifier, "score": round(score, 4)})
    return out


def _group_table(
    attacks: list[dict[str, Any]], legit: list[dict[str, Any]], va: dict[str, Any], vl: dict[str, Any]
) -> dict[str, Any]:
    """{guard: {"all" / "split:<s>" / "batch:<b>": {blocked, false_refusals}}}."""
    groups = ["all", *sorted({f"split:{r['split']}" for r in [*attacks, *legit]})]
    groups += sorted({f"batch:{r['batch']}" for r in [*attacks, *legit]})

    def keep(row: dict[str, Any], group: str) -> bool:
        return group == "all" or group in (f"split:{row['split']}", f"batch:{row['batch']}")

    table: dict[str, Any] = {}
    for guard_name in GUARDS:
        table[guard_name] = {}
        for group in groups:
            a = [va[r["id"]][guard_name] for r in attacks if keep(r, group)]
            g = [vl[r["id"]][guard_name] for r in legit if keep(r, group)]
            table[guard_name][group] = {"blocked": _rate(sum(a), len(a)), "false_refusals": _rate(sum(g), len(g))}
    return table


def measure(
    embed: Embed,
    model: ClassifierModel | None = None,
    banking77: Path = BANKING77,
    attack_paths: Sequence[Path] = DEV_ATTACKS,
    legit_paths: Sequence[Path] = DEV_LEGIT,
) -> dict[str, Any]:
    model = model or ClassifierModel.load(MODEL_PATH)
    attacks, legit = read_corpus(attack_paths), read_corpus(legit_paths)
    va = dict(zip([r["id"] for r in attacks], verdicts([r["text"] for r in attacks], model, embed), strict=True))
    vl = dict(zip([r["id"] for r in legit], verdicts([r["text"] for r in legit], model, embed), strict=True))
    report: dict[str, Any] = {"threshold": model.threshold, "table": _group_table(attacks, legit, va, vl)}
    report["classifier_only_blocks"] = [i for i, v in va.items() if v["classifier"] and not v["rules"]]
    report["classifier_false_refusals"] = [i for i, v in vl.items() if v["classifier"]]
    report["rules_false_refusals"] = [i for i, v in vl.items() if v["rules"]]
    report["missed_by_both"] = [i for i, v in va.items() if not v["both"]]
    demo = _read_jsonl(EVAL_SET)
    vd = verdicts([r["question"] for r in demo], model, embed)
    report["demo_eval"] = {
        kind: {g: _rate(sum(v[g] for r, v in zip(demo, vd, strict=True) if r["kind"] == kind), n) for g in GUARDS}
        for kind, n in ((k, sum(r["kind"] == k for r in demo)) for k in ("probe", "in_scope", "out_of_scope"))
    }
    if banking77.is_file():
        held = banking77_sample(banking77, BANKING77_SAMPLE + BANKING77_HELD_OUT)[BANKING77_SAMPLE:]
        vb = verdicts(held, model, embed)
        report["banking77_held_out"] = {g: _rate(sum(v[g] for v in vb), len(vb)) for g in GUARDS}
        report["banking77_refused_by_classifier"] = [q for q, v in zip(held, vb, strict=True) if v["classifier"]]
    return report


def leave_one_batch_out(embed: Embed, c: float, banking77: Path = BANKING77) -> dict[str, Any]:
    """Per committed batch: the rules, and the classifier trained (C = ``c``, threshold by the inner leave-one-batch-
    out of the training recipe) without that batch, on every row of that batch (its held-out ``test`` rows too)."""
    import numpy as np

    data = gt.training_data(banking77)
    x = gt.feature_matrix(embed(data.texts), data.texts)
    y = np.asarray(data.labels)
    attacks, legit = read_corpus(DEV_ATTACKS), read_corpus(DEV_LEGIT)
    rows = [(r, 1) for r in attacks] + [(r, 0) for r in legit]
    texts = [served_text(r["text"]) for r, _ in rows]
    features = gt.feature_matrix(embed(texts), texts)
    rules = np.asarray([guard.check(t).refused for t in texts])
    labels, batches = np.asarray([label for _, label in rows]), np.asarray([r["batch"] for r, _ in rows])
    classifier = np.zeros(len(rows), dtype=bool)
    for batch, train_rows, _ in gt.batch_folds(data):
        inner = gt.TrainingSet(
            *([seq[i] for i in train_rows] for seq in (data.texts, data.labels, data.sources, data.batches))
        )
        scores = gt.out_of_batch_scores(x[train_rows], y[train_rows], gt.batch_folds(inner), c)
        cut = gt.pick_threshold(scores, y[train_rows], inner.sources)
        held = batches == batch
        classifier[held] = gt.fit(x[train_rows], y[train_rows], c).predict_proba(features[held])[:, 1] >= cut
    report: dict[str, Any] = {"C": c}
    for group in ["all", *(f"batch:{b}" for b in sorted(set(batches.tolist())))]:
        held = np.ones(len(rows), dtype=bool) if group == "all" else batches == int(group.split(":")[1])
        report[group] = {
            name: {
                "blocked": _rate(int(v[held & (labels == 1)].sum()), int((held & (labels == 1)).sum())),
                "false_refusals": _rate(int(v[held & (labels == 0)].sum()), int((held & (labels == 0)).sum())),
            }
            for name, v in (("rules", rules), ("classifier", classifier), ("both", rules | classifier))
        }
    return report


def timing(embed: Embed, model: ClassifierModel, repeats: int = 200) -> dict[str, float]:
    """ms per question: the rules, the classifier on a vector and the question's n-grams (what the pipeline adds,
    since retrieval's vector is reused) and one embedding (what it would add if it embedded on its own)."""
    question = "My card payment was declined at the supermarket, why?"
    vector = embed([question])[0]

    def ms(run: Any, n: int) -> float:
        started = time.perf_counter()
        for _ in range(n):
            run()
        return round(1000 * (time.perf_counter() - started) / n, 4)

    return {
        "rules_ms": ms(lambda: guard.check(question), repeats),
        "classifier_ms": ms(lambda: model.score(vector, question), repeats),
        "embed_one_question_ms": ms(lambda: embed([question]), repeats // 10),
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--attacks", action="append", help="attack JSONL file(s) (default: the dev corpora)")
    parser.add_argument("--legit", action="append", help="legitimate-question JSONL file(s) (default: the dev corpora)")
    parser.add_argument("--leave-one-batch-out", action="store_true", help="retrain per committed batch (~5 min)")
    parser.add_argument("--no-banking77", action="store_true", help="skip the 1,000 Banking77 questions (saves CPU)")
    args = parser.parse_args(argv)
    embed = builtin_embed()
    model = ClassifierModel.load(MODEL_PATH)
    if args.leave_one_batch_out:
        c = json.loads(MODEL_PATH.read_text(encoding="utf-8"))["C"]
        print(json.dumps(leave_one_batch_out(cached_embed(embed), c), indent=2))
        return
    attack_paths = paths_argument(args.attacks, DEV_ATTACKS[0]) if args.attacks else list(DEV_ATTACKS)
    legit_paths = paths_argument(args.legit, DEV_LEGIT[0]) if args.legit else list(DEV_LEGIT)
    banking77 = Path("/nonexistent") if args.no_banking77 else BANKING77
    report = measure(cached_embed(embed), model, banking77, attack_paths, legit_paths)
    report["timing"] = timing(embed, model)
    print(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
