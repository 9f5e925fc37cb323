"""Quality guard: a faster back end serves customers only if it answers like the fp32 model on a fixed prompt set.

A speed-up that changes answers is not a speed-up (``quantize_dynamic`` int8 is 2.6x faster here and writes
garbage). On ``GUARD_PROMPTS`` fixed RAG prompts (demo-eval questions with their KB article and two distractors,
built with the production prompt builder) the guard measures, against fp32 with the same adapter merged:

  token_agreement   teacher-forced on the fp32 answer: share of positions where the back end's next-token choice
                    (argmax of its raw logits) equals fp32's own at the same position (1.0 = identical next-token
                    decisions; robust to one early divergence). Both sides are raw argmaxes: version 1 compared
                    against the answer tokens themselves, which the repetition penalty had chosen, so even fp32
                    scored ~0.7 against itself and every back end failed
  rouge_l_vs_fp32   ROUGE-L F1 of the back end's own greedy answers against the fp32 answers
  gold_rouge_drop   mean ROUGE-L against the articles' gold answers, fp32 minus back end (task quality lost)
  logprob_shift     mean |difference| of the answer's mean token log-prob (what confidence is computed from)

``judge`` compares them with a ``Tolerance``. Results are cached per (adapter, back end) as JSON in the serving
cache folder; the tolerance is applied when reading, so changing it does not need a re-run. Metrics are pure.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

GUARD_VERSION = 2  # bump when prompts or metrics change: cached results are then recomputed
GUARD_PROMPTS = 12
GUARD_NEW_TOKENS = 64
GUARD_PROMPT_BUDGET = 420  # prompt tokens, like a typical chat turn (3 passages of ~80 words)


@dataclass(frozen=True)
class Tolerance:
    min_token_agreement: float = 0.85
    min_rouge_l_vs_fp32: float = 0.45
    max_gold_rouge_drop: float = 0.05
    max_logprob_shift: float = 0.25


@dataclass
class GuardMetrics:
    token_agreement: float
    rouge_l_vs_fp32: float
    gold_rouge_fp32: float
    gold_rouge_backend: float
    logprob_shift: float
    prompts: int
    seconds: float = 0.0
    samples: list[dict[str, str]] = field(default_factory=list)  # a few answer pairs, for a human to look at

    @property
    def gold_rouge_drop(self) -> float:
        return self.gold_rouge_fp32 - self.gold_rouge_backend


@dataclass
class GuardResult:
    backend: str
    metrics: GuardMetrics
    failures: list[str]

    @property
    def passed(self) -> bool:
        return not self.failures

    def summary(self) -> str:
        m = self.metrics
        verdict = "passed" if self.passed else "FAILED (" + "; ".join(self.failures) + ")"
        return (
            f"{self.backend} vs fp32 on {m.prompts} prompts: token agreement {m.token_agreement:.3f}, "
            f"ROUGE-L vs fp32 {m.rouge_l_vs_fp32:.3f}, gold ROUGE-L {m.gold_rouge_backend:.3f} "
            f"(fp32 {m.gold_rouge_fp32:.3f}), log-prob shift {m.logprob_shift:.3f}: {verdict}"
        )


# --- pure metrics -------------------------------------------------------------------------------------------------
def token_agreement(reference: Sequence[int], predicted: Sequence[int]) -> float:
    """Share of positions where ``predicted`` equals ``reference`` (over the reference's length; 1.0 when empty)."""
    if not reference:
        return 1.0
    same = sum(1 for i, token in enumerate(reference) if i < len(predicted) and predicted[i] == token)
    return same / len(reference)


def rouge_l(reference: str, candidate: str) -> float:
    """ROUGE-L F1 with stemming (rouge-score); 1.0 for identical texts (even with no words), 0.0 if one is empty."""
    if reference.strip() == candidate.strip():
        return 1.0
    from evals.metrics import rouge_l as eval_rouge_l  # the same scorer as the eval suite

    return eval_rouge_l(candidate, reference)


def mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def judge(metrics: GuardMetrics, tolerance: Tolerance) -> list[str]:
    """The tolerances ``metrics`` break, as short phrases (empty: the back end passes)."""
    failures = []
    if metrics.token_agreement < tolerance.min_token_agreement:
        failures.append(f"token agreement {metrics.token_agreement:.3f} < {tolerance.min_token_agreement}")
    if metrics.rouge_l_vs_fp32 < tolerance.min_rouge_l_vs_fp32:
        failures.append(f"ROUGE-L vs fp32 {metrics.rouge_l_vs_fp32:.3f} < {tolerance.min_rouge_l_vs_fp32}")
    if metrics.gold_rouge_drop > tolerance.max_gold_rouge_drop:
        failures.append(f"gold ROUGE-L drop {metrics.gold_rouge_drop:.3f} > {tolerance.max_gold_rouge_drop}")
    if metrics.logprob_shift > tolerance.max_logprob_shift:
        failures.append(f"log-prob shift {metrics.logprob_shift:.3f} > {tolerance.max_logprob_shift}")
    return failures


# --- the fixed prompt set -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class GuardCase:
    question: str
    messages: list[dict[str, str]]
    gold: str


def guard_cases(count_tokens: Any, n: int = GUARD_PROMPTS) -> list[GuardCase]:
    """``n`` demo-eval questions, each with distinct expected article, as production prompts (deterministic)."""
    from chatbot.prompt import build_messages
    from chatbot.protocols import Source
    from retrieval.kb import load_articles

    articles = load_articles()
    by_id = {a.id: i for i, a in enumerate(articles)}
    path = Path(__file__).resolve().parents[2] / "evals" / "data" / "demo_eval.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    cases: list[GuardCase] = []
    seen: set[str] = set()
    for row in rows:
        article_id = row.get("expected_article")
        if row.get("kind") != "in_scope" or article_id not in by_id or article_id in seen:
            continue
        seen.add(article_id)
        if len(seen) % 5 != 1:  # every fifth article: spread over the KB, not its first letters
            continue
        index = by_id[article_id]
        picked = [articles[(index + k) % len(articles)] for k in (0, 1, 2)]
        sources = [Source(article_id=a.id, title=a.title, score=0.5, text=a.body) for a in picked]
        messages = build_messages(
            row["question"], sources, [], [], count_tokens=count_tokens, budget=GUARD_PROMPT_BUDGET
        )
        cases.append(GuardCase(question=row["question"], messages=messages, gold=picked[0].gold_answer))
        if len(cases) == n:
            break
    return cases


# --- running models -----------------------------------------------------------------------------------------------
def _prompt_ids(tokenizer: Any, case: GuardCase) -> list[int]:
    text = tokenizer.apply_chat_template(case.messages, add_generation_prompt=True, tokenize=False)
    return list(tokenizer(text, add_special_tokens=False)["input_ids"])


def greedy_answers(
    model: Any, tokenizer: Any, cases: Sequence[GuardCase], stop_ids: Sequence[int], *, repetition_penalty: float
) -> list[list[int]]:
    """Each case's greedy answer tokens (up to the first stop token), one prompt at a time (no padding effects)."""
    import torch

    answers = []
    for case in cases:
        ids = torch.tensor([_prompt_ids(tokenizer, case)])
        with torch.inference_mode():
            out = model.generate(
                input_ids=ids,
                attention_mask=torch.ones_like(ids),
                max_new_tokens=GUARD_NEW_TOKENS,
                do_sample=False,
                temperature=None,
                top_p=None,
                top_k=None,
                repetition_penalty=repetition_penalty,
                eos_token_id=list(stop_ids),
                pad_token_id=tokenizer.pad_token_id,
            )
        tokens = out[0, ids.shape[1] :].tolist()
        end = next((i for i, t in enumerate(tokens) if t in stop_ids), len(tokens))
        answers.append(tokens[:end])
    return answers


def teacher_forced(model: Any, prompt: list[int], answer: list[int]) -> tuple[list[int], list[float]]:
    """(greedy choice, log-prob of the given answer token) at each answer position, in one forward pass."""
    import torch

    if not answer:
        return [], []
    ids = torch.tensor([prompt + answer])
    with torch.inference_mode():
        logits = model(input_ids=ids).logits[0, len(prompt) - 1 : -1].float()
    logprobs = torch.log_softmax(logits, dim=-1)
    chosen = logprobs.gather(-1, torch.tensor(answer)[:, None]).squeeze(-1)
    return logits.argmax(-1).tolist(), chosen.tolist()


@dataclass
class Reference:
    """fp32's answers on the guard prompts, cached so each further back end costs only its own run."""

    answers: list[list[int]]
    mean_logprobs: list[float]
    choices: list[list[int]]  # fp32's own teacher-forced next-token choices along each answer


def reference(model: Any, tokenizer: Any, cases: Sequence[GuardCase], stop_ids: Sequence[int], rp: float) -> Reference:
    answers = greedy_answers(model, tokenizer, cases, stop_ids, repetition_penalty=rp)
    forced = [teacher_forced(model, _prompt_ids(tokenizer, c), a) for c, a in zip(cases, answers, strict=True)]
    return Reference(answers=answers, mean_logprobs=[mean(lps) for _, lps in forced], choices=[c for c, _ in forced])


def measure(
    candidate: Any,
    tokenizer: Any,
    cases: Sequence[GuardCase],
    ref: Reference,
    stop_ids: Sequence[int],
    *,
    repetition_penalty: float,
) -> GuardMetrics:
    started = time.perf_counter()
    agreements, shifts, vs_fp32, gold_ref, gold_cand = [], [], [], [], []
    samples: list[dict[str, str]] = []
    answers = greedy_answers(candidate, tokenizer, cases, stop_ids, repetition_penalty=repetition_penalty)
    rows = zip(cases, ref.answers, ref.mean_logprobs, ref.choices, answers, strict=True)
    for case, ref_answer, ref_lp, ref_choices, answer in rows:
        choices, lps = teacher_forced(candidate, _prompt_ids(tokenizer, case), ref_answer)
        agreements.append(token_agreement(ref_choices, choices))
        shifts.append(abs(mean(lps) - ref_lp))
        ref_text = tokenizer.decode(ref_answer, skip_special_tokens=True).strip()
        text = tokenizer.decode(answer, skip_special_tokens=True).strip()
        vs_fp32.append(rouge_l(ref_text, text))
        gold_ref.append(rouge_l(case.gold, ref_text))
        gold_cand.append(rouge_l(case.gold, text))
        if len(samples) < 3:
            samples.append({"question": case.question, "fp32": ref_text, "backend": text})
    return GuardMetrics(
        token_agreement=round(mean(agreements), 4),
        rouge_l_vs_fp32=round(mean(vs_fp32), 4),
        gold_rouge_fp32=round(mean(gold_ref), 4),
        gold_rouge_backend=round(mean(gold_cand), 4),
        logprob_shift=round(mean(shifts), 4),
        prompts=len(cases),
        seconds=round(time.perf_counter() - started, 1),
        samples=samples,
    )


# --- cached results -----------------------------------------------------------------------------------------------
def result_path(cache_dir: Path, backend: str) -> Path:
    return Path(cache_dir) / "guard" / f"v{GUARD_VERSION}-{backend}.json"


def read_result(cache_dir: Path, backend: str, tolerance: Tolerance) -> GuardResult | None:
    path = result_path(cache_dir, backend)
    if not path.is_file():
        return None
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        metrics = GuardMetrics(**raw["metrics"])
    except (ValueError, KeyError, TypeError):
        return None  # unreadable: recompute rather than fail the start
    return GuardResult(backend=backend, metrics=metrics, failures=judge(metrics, tolerance))


def write_result(cache_dir: Path, backend: str, metrics: GuardMetrics) -> None:
    path = result_path(cache_dir, backend)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"backend": backend, "metrics": asdict(metrics)}, indent=1), encoding="utf-8")
    tmp.replace(path)


def read_reference(cache_dir: Path) -> Reference | None:
    path = Path(cache_dir) / "guard" / f"v{GUARD_VERSION}-fp32-reference.json"
    if not path.is_file():
        return None
    try:
        return Reference(**json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, TypeError):
        return None


def write_reference(cache_dir: Path, ref: Reference) -> None:
    path = Path(cache_dir) / "guard" / f"v{GUARD_VERSION}-fp32-reference.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(asdict(ref)), encoding="utf-8")
