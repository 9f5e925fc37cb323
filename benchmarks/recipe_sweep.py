"""Does a LoRA recipe teach SmolLM2 to give the approved answer it is handed? One configuration per run.

    python benchmarks/recipe_sweep.py --json -                                    # the product's defaults
    python benchmarks/recipe_sweep.py --steps 40 --modules q_proj,v_proj --r 8 --lr 5e-4 --json out.json
    python benchmarks/recipe_sweep.py --base-only --json -                         # the untrained model

Banking77 questions (read by path, ``--questions``) are mapped to demo-KB articles by intent; the articles are split
into 60 training intents and 17 unseen ones (seeded). Training examples (8 questions per training intent) are the
chat's own prompt (``chatbot.prompt.build_messages``: the question's article and two others as passages, the
article's gold answer as the approved answer) with that answer as the target, trained with plain PyTorch + peft at
batch 8. Then greedy answers (no repetition penalty, as served) are scored on two held-out sets: 2 unseen questions
for each of the 17 unseen intents, and 1 unseen question for 20 training intents. Reported: mean ROUGE-L to the
gold answer, how many reach ROUGE-L ≥ 0.9, the answer judge's verdicts, seconds per step and the final loss.
"""

from __future__ import annotations

import argparse
import csv
import math
import random
import sys
import time
from pathlib import Path
from typing import Any

from json_output import emit_json  # benchmarks/json_output.py (the script's folder is on sys.path)

DEFAULT_QUESTIONS = Path(__file__).resolve().parents[2] / "shared" / "data" / "banking77" / "train.csv"


def split_data(path: Path, seed: int) -> tuple[dict[str, Any], list[tuple[str, str]], list[Any], list[Any]]:
    from retrieval.kb import article_id_for_intent, load_articles

    articles = {a.id: a for a in load_articles()}
    by_article: dict[str, list[str]] = {}
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            article = article_id_for_intent(row["category"])
            if article in articles:
                by_article.setdefault(article, []).append(row["text"])
    rng = random.Random(seed)
    ids = sorted(by_article)
    rng.shuffle(ids)
    unseen_ids, train_ids = ids[:17], ids[17:]
    picked = {a: rng.sample(by_article[a], 9) for a in train_ids}
    train = [(q, a) for a in train_ids for q in picked[a][:8]]
    rng.shuffle(train)
    unseen = [(rng.choice(by_article[a]), a) for a in unseen_ids for _ in range(2)]
    seen = [(picked[a][8], a) for a in train_ids[:20]]
    return articles, train, unseen, seen


def messages_for(question: str, article: str, articles: dict[str, Any], ids: list[str], rng: random.Random) -> Any:
    from chatbot.prompt import build_messages
    from chatbot.protocols import Source

    others = rng.sample([x for x in ids if x != article], 2)
    sources = [
        Source(article_id=a, title=articles[a].title, score=0.9 - 0.1 * k, text=articles[a].body)
        for k, a in enumerate([article, *others])
    ]
    approved = [{"question": "", "answer": articles[article].gold_answer}]
    return build_messages(question, sources, [], approved, count_tokens=lambda t: len(t.split()), budget=2000)


def evaluate(model: Any, tokenizer: Any, items: list[Any], articles: dict[str, Any], seed: int) -> dict[str, Any]:
    import torch
    from rouge_score import rouge_scorer

    from evals.judge import judge

    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)
    rng = random.Random(seed)
    ids = sorted(articles)
    scores, right, samples = [], 0, []
    model.eval()
    for question, article in items:
        prompt = tokenizer.apply_chat_template(
            messages_for(question, article, articles, ids, rng), add_generation_prompt=True, tokenize=False
        )
        inputs = tokenizer(prompt, return_tensors="pt", add_special_tokens=False)
        with torch.inference_mode():
            out = model.generate(**inputs, max_new_tokens=96, do_sample=False, repetition_penalty=1.0)
        answer = tokenizer.decode(out[0, inputs["input_ids"].shape[1] :], skip_special_tokens=True).strip()
        gold = articles[article].gold_answer
        scores.append(scorer.score(gold, answer)["rougeL"].fmeasure)
        right += judge(answer, [article], article, gold, question=question).right
        samples.append(answer)
    return {
        "n": len(items),
        "rouge_l": round(sum(scores) / len(scores), 4),
        "rouge_l_at_least_0_9": sum(s >= 0.9 for s in scores),
        "judge_right": right,
        "sample": samples[0][:200],
    }


def train(model: Any, tokenizer: Any, examples: list[Any], args: argparse.Namespace) -> tuple[Any, dict[str, Any]]:
    import torch
    from peft import LoraConfig, get_peft_model

    n = model.config.num_hidden_layers
    layers = list(range(n - args.top_layers, n)) if args.top_layers else None
    config = LoraConfig(
        r=args.r,
        lora_alpha=2 * args.r,
        lora_dropout=0.0,
        target_modules=args.modules.split(","),
        layers_to_transform=layers,
        task_type="CAUSAL_LM",
    )
    model = get_peft_model(model, config)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=args.lr)
    model.train()
    started, loss_value = time.perf_counter(), float("nan")
    for step in range(args.steps):
        batch = [examples[(step * args.batch + i) % len(examples)] for i in range(args.batch)]
        width = max(len(ids) for ids, _ in batch)
        pad = tokenizer.pad_token_id
        input_ids = torch.tensor([ids + [pad] * (width - len(ids)) for ids, _ in batch])
        labels = torch.tensor([lab + [-100] * (width - len(lab)) for _, lab in batch])
        mask = torch.tensor([[1] * len(ids) + [0] * (width - len(ids)) for ids, _ in batch])
        scale = min(1.0, (step + 1) / 5) * 0.5 * (1 + math.cos(math.pi * step / args.steps))  # warm-up, cosine
        for group in optimizer.param_groups:
            group["lr"] = args.lr * scale
        loss = model(input_ids=input_ids, attention_mask=mask, labels=labels).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        loss_value = float(loss.item())
    seconds = time.perf_counter() - started
    return model, {"seconds_per_step": round(seconds / max(args.steps, 1), 2), "final_loss": round(loss_value, 4)}


def main(argv: list[str] | None = None) -> int:
    from finetune.lora import LoraHyperparameters

    hp = LoraHyperparameters()
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--questions", type=Path, default=DEFAULT_QUESTIONS)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--modules", default=",".join(hp.target_modules))
    parser.add_argument("--r", type=int, default=hp.r)
    parser.add_argument("--lr", type=float, default=hp.learning_rate)
    parser.add_argument("--top-layers", type=int, default=hp.top_layers or 0, help="0: every layer")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--base-only", action="store_true", help="score the untrained model only")
    parser.add_argument("--json", metavar="PATH", help="write the JSON report here ('-' for stdout)")
    args = parser.parse_args(argv)

    import torch

    from chatbot.model_loading import load_llm
    from chatbot.settings import Settings

    torch.manual_seed(args.seed)
    articles, examples_raw, unseen, seen = split_data(args.questions, args.seed)
    model, tokenizer = load_llm(Settings())
    report: dict[str, Any] = {"config": {k: v for k, v in vars(args).items() if k not in ("json", "questions")}}
    if not args.base_only:
        rng = random.Random(args.seed + 1)
        ids = sorted(articles)
        examples = []
        for question, article in examples_raw:
            prompt = tokenizer.apply_chat_template(
                messages_for(question, article, articles, ids, rng), add_generation_prompt=True, tokenize=False
            )
            prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
            target = tokenizer(articles[article].gold_answer + "<|im_end|>", add_special_tokens=False)["input_ids"]
            examples.append((prompt_ids + target, [-100] * len(prompt_ids) + target))
        report["mean_tokens"] = round(sum(len(e[0]) for e in examples) / len(examples), 1)
        model, report["training"] = train(model, tokenizer, examples, args)
    report["unseen_intents"] = evaluate(model, tokenizer, unseen, articles, args.seed + 2)
    report["seen_intents"] = evaluate(model, tokenizer, seen, articles, args.seed + 3)
    emit_json(report, args.json)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    raise SystemExit(main())
