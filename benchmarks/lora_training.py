"""How long does the nightly LoRA recipe take on this machine? Prints JSON.

Builds N synthetic reviewed turns from the demo knowledge base (questions from article titles through fixed
templates, the article's gold answer as the approved answer, the article body as the retrieved source — never
eval questions), runs them through the real dataset builder and trains with the default hyperparameters
(or ``--set key=value`` overrides). Reports seconds per step, tokens per second and the projected time for the
full example count.

    python benchmarks/lora_training.py --examples 1000            # the nightly's default recipe, full run
    python benchmarks/lora_training.py --examples 1000 --set max_steps=10   # quick estimate from 10 steps
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chatbot.settings import Settings
    from finetune.dataset import BuiltDataset
    from finetune.lora import LoraHyperparameters, TrainResult

TEMPLATES = (
    "{t}?",
    "Can you help me with {l}?",
    "I have a question about {l}",
    "how does {l} work",
    "What should I know about {l}?",
    "{l} - what do I do",
    "Tell me about {l}, please.",
    "Where can I read about {l}?",
    "Quick one: {l}",
    "Need help: {l}",
    "Is there info on {l}?",
    "Explain {l} to me",
    "what's the deal with {l}",
    "Help with {l} please",
)


def synthetic_turns(n: int) -> list[Any]:
    from finetune.dataset import ReviewedTurn
    from retrieval.kb import load_articles

    articles = load_articles(None)
    turns = []
    for i in range(n):
        article = articles[i % len(articles)]
        template = TEMPLATES[(i // len(articles)) % len(TEMPLATES)]
        question = template.format(t=article.title, l=article.title.lower())
        if i >= len(articles) * len(TEMPLATES):
            question = f"{question} ({i})"  # beyond the templates, keep questions distinct
        source = {
            "id": article.id,
            "title": article.title,
            "score": 0.8,
            "chunk": 0,
            "intent": article.intent,
            "text": article.body[:1200],
        }
        turns.append(
            ReviewedTurn(
                turn_id=f"bench-{i:05d}",
                question=question,
                answer=f"{article.gold_answer} [1]",
                verdict="approve",
                sources=(source,),
                created_at=f"2026-01-01T00:{i // 60 % 60:02d}",
            )
        )
    return turns


class _StepClock:
    """Wall and process-CPU seconds of each optimizer step."""

    def __init__(self) -> None:
        self.wall: list[float] = []
        self.cpu: list[float] = []
        self._start = (0.0, 0.0)

    def callback(self) -> Any:
        from transformers import TrainerCallback

        clock = self

        class _Cb(TrainerCallback):
            def on_step_begin(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
                clock._start = (time.perf_counter(), time.process_time())

            def on_step_end(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
                clock.wall.append(time.perf_counter() - clock._start[0])
                clock.cpu.append(time.process_time() - clock._start[1])

        return _Cb()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=1000)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="hyperparameter override")
    return parser


def _build_dataset(examples: int, hp: LoraHyperparameters, tokenizer: Any) -> BuiltDataset:
    """The real dataset builder's train/validation split of ``examples`` synthetic reviewed turns."""
    from finetune.dataset import build_dataset, frozen_eval_files, read_frozen_questions

    return build_dataset(
        synthetic_turns(examples),
        frozen_questions=read_frozen_questions(frozen_eval_files()),
        count_tokens=lambda text: len(tokenizer(text, add_special_tokens=False)["input_ids"]),
        prompt_budget=hp.prompt_budget,
        max_sources=hp.max_sources,
    )


def _train(settings: Settings, dataset: BuiltDataset, hp: LoraHyperparameters) -> tuple[TrainResult, _StepClock, float]:
    """(training result, per-step clock, wall seconds including model load and evals)."""
    from finetune.lora import train_lora

    clock = _StepClock()
    with tempfile.TemporaryDirectory() as tmp:
        started = time.time()
        with contextlib.redirect_stdout(sys.stderr):  # the Trainer prints its logs; stdout is for the JSON
            result = train_lora(
                settings,
                train=dataset.train,
                validation=dataset.validation,
                output_dir=Path(tmp) / "adapter",
                hp=hp,
                callbacks=[clock.callback()],
            )
        wall = time.time() - started
    return result, clock, wall


def _report(
    examples: int,
    hp: LoraHyperparameters,
    dataset: BuiltDataset,
    tokenizer: Any,
    run: tuple[TrainResult, _StepClock, float],
    threads: int,
) -> dict[str, Any]:
    from finetune.lora import LoraHyperparameters

    result, clock, wall = run
    steps = result.metrics["steps"]
    # Median over steps (the first includes warm-up); CPU seconds are robust when other jobs share the cores.
    step_seconds = statistics.median(clock.wall[1:] or clock.wall)
    cpu_per_step = statistics.median(clock.cpu[1:] or clock.cpu)
    lengths = [len(tokenizer.apply_chat_template(e.messages, tokenize=True, return_dict=False)) for e in dataset.train]
    mean_tokens = sum(lengths) / len(lengths)
    # The recipe as the nightly runs it (default step cap and epochs) on this many examples.
    recipe = LoraHyperparameters()
    batch = recipe.batch_size * recipe.gradient_accumulation
    full_steps = min(recipe.max_steps, max(1, int(recipe.epochs * len(dataset.train) / batch)))
    return {
        "machine": f"{platform.machine()} {os.cpu_count()} cpus, torch threads {threads}",
        "examples": examples,
        "train": len(dataset.train),
        "validation": len(dataset.validation),
        "mean_tokens_per_example": round(mean_tokens, 1),
        "hyperparameters": hp.to_json(),
        "steps_run": steps,
        "seconds_per_step": round(step_seconds, 2),
        "cpu_seconds_per_step": round(cpu_per_step, 2),
        "load_average_1min": round(os.getloadavg()[0], 1),
        "projected_minutes_if_cores_idle": round(full_steps * cpu_per_step / threads / 60, 1),
        "train_tokens_per_second": round(mean_tokens * hp.batch_size * hp.gradient_accumulation / step_seconds, 1),
        "wall_seconds_incl_load_and_evals": round(wall, 1),
        "default_recipe_steps_for_this_data": full_steps,
        "projected_recipe_minutes_at_measured_wall": round(full_steps * step_seconds / 60, 1),
        "metrics": result.metrics,
    }


def main() -> None:
    args = _parser().parse_args()

    import torch

    from chatbot.model_loading import llm_source
    from chatbot.settings import Settings
    from finetune.lora import LoraHyperparameters

    hp = LoraHyperparameters.from_overrides(dict(s.split("=", 1) for s in args.set))
    settings = Settings()
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(llm_source(settings))
    dataset = _build_dataset(args.examples, hp, tokenizer)
    run = _train(settings, dataset, hp)
    report = _report(args.examples, hp, dataset, tokenizer, run, threads=torch.get_num_threads())
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
