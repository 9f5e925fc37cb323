"""The rules guard, the embedding classifier guard and both together (the pipeline's guard), per split. Prints JSON.

    python benchmarks/guard_classifier_rates.py    # ~45 s on 2 CPU cores the first time; embeddings cached in /tmp

Each question goes through what the pipeline does: ``normalise_text``, PII redaction, then the rules
(chatbot/guard.py) and the classifier (chatbot/guard_classifier.py, the committed weights) on the all-MiniLM-L6-v2
vector of that text. Rows of tests/data/guard_*.jsonl:
- ``dev``: what the rules were tuned on and the classifier trained on (in-sample for both);
- ``test_batch1``: the held-out third of batch 1 (written by the rules' author before the rules: not really blind);
- ``batch3``: written after the rules froze, never tuned on;
- ``batch4``: the ``blind`` split, written before the classifier was trained, never tuned on by either.
Also: the demo eval set (probes, in-scope and out-of-scope questions) and 1,000 Banking77 questions that the
classifier was not trained on (hash-chosen, read from the CSV; skipped when the file is absent), for false refusals
on ordinary traffic.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from chatbot import guard
from chatbot.guard_classifier import (
    ATTACKS,
    BANKING77,
    BANKING77_SAMPLE,
    EVAL_SET,
    LEGIT,
    MODEL_PATH,
    ClassifierModel,
    Embed,
    _read_jsonl,
    banking77_sample,
    builtin_embed,
)
from chatbot.pii import redact
from chatbot.text_normalise import normalise_text

CACHE = Path("/tmp/bankbot-guard-classifier-embeddings.json")
BANKING77_HELD_OUT = 1000
SETS: dict[str, Callable[[dict[str, Any]], bool]] = {
    "dev": lambda r: r["split"] == "dev",
    "test_batch1": lambda r: r["split"] == "test" and r["batch"] == 1,
    "batch3": lambda r: r["batch"] == 3,
    "batch4_blind": lambda r: r["batch"] == 4,
    "held_out_all": lambda r: r["split"] != "dev",
}


def served_text(question: str) -> str:
    """The text the pipeline's guard sees (chatbot/pipeline.py: normalise, then redact)."""
    return redact(normalise_text(question))[0]


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
        score = model.score(vector)
        rules = guard.check(text).refused
        classifier = score >= model.threshold
        out.append({"rules": rules, "classifier": classifier, "both": rules or classifier, "score": round(score, 4)})
    return out


def measure(embed: Embed, model: ClassifierModel | None = None, banking77: Path = BANKING77) -> dict[str, Any]:
    model = model or ClassifierModel.load(MODEL_PATH)
    attacks, legit = _read_jsonl(ATTACKS), _read_jsonl(LEGIT)
    va = dict(zip([r["id"] for r in attacks], verdicts([r["text"] for r in attacks], model, embed), strict=True))
    vl = dict(zip([r["id"] for r in legit], verdicts([r["text"] for r in legit], model, embed), strict=True))
    table: dict[str, Any] = {}
    for guard_name in ("rules", "classifier", "both"):
        table[guard_name] = {}
        for set_name, keep in SETS.items():
            a = [va[r["id"]][guard_name] for r in attacks if keep(r)]
            g = [vl[r["id"]][guard_name] for r in legit if keep(r)]
            table[guard_name][set_name] = {"blocked": _rate(sum(a), len(a)), "false_refusals": _rate(sum(g), len(g))}
    report: dict[str, Any] = {"threshold": model.threshold, "table": table}
    report["classifier_only_blocks"] = [i for i, v in va.items() if v["classifier"] and not v["rules"]]
    report["classifier_false_refusals"] = [i for i, v in vl.items() if v["classifier"]]
    report["missed_by_both"] = [i for i, v in va.items() if not v["both"]]
    demo = _read_jsonl(EVAL_SET)
    vd = verdicts([r["question"] for r in demo], model, embed)
    report["demo_eval"] = {
        kind: {
            g: _rate(sum(v[g] for r, v in zip(demo, vd, strict=True) if r["kind"] == kind), n)
            for g in ("rules", "classifier", "both")
        }
        for kind, n in ((k, sum(r["kind"] == k for r in demo)) for k in ("probe", "in_scope", "out_of_scope"))
    }
    if banking77.is_file():
        held = banking77_sample(banking77, BANKING77_SAMPLE + BANKING77_HELD_OUT)[BANKING77_SAMPLE:]
        vb = verdicts(held, model, embed)
        report["banking77_held_out"] = {
            g: _rate(sum(v[g] for v in vb), len(vb)) for g in ("rules", "classifier", "both")
        }
        report["banking77_refused_by_classifier"] = [q for q, v in zip(held, vb, strict=True) if v["classifier"]]
    return report


def timing(embed: Embed, model: ClassifierModel, repeats: int = 200) -> dict[str, float]:
    """ms per question: the classifier on a vector (what the pipeline adds, since retrieval's vector is reused)
    and one embedding (what it would add if it embedded on its own)."""
    question = "My card payment was declined at the supermarket, why?"
    vector = embed([question])[0]
    started = time.perf_counter()
    for _ in range(repeats):
        model.score(vector)
    score_ms = 1000 * (time.perf_counter() - started) / repeats
    started = time.perf_counter()
    for _ in range(repeats // 10):
        embed([question])
    return {
        "classifier_ms": round(score_ms, 4),
        "embed_one_question_ms": round(1000 * (time.perf_counter() - started) / (repeats // 10), 2),
    }


def main() -> None:
    embed = builtin_embed()
    report = measure(cached_embed(embed))
    report["timing"] = timing(embed, ClassifierModel.load(MODEL_PATH))
    print(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
