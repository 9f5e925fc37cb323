"""The transformers Trainer of one LoRA run (finetune.lora.train_lora): its arguments, its callbacks (a JSON line per
log record, early stopping on validation loss) and the losses it reports.

Checkpoints are written only to pick the best one for early stopping; they live in ``CHECKPOINTS_DIR`` of the run's
work folder, which the caller removes before the adapter folder is renamed into place.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from finetune.lora import LoraHyperparameters

CHECKPOINTS_DIR = "checkpoints"
LOG_FILE = "train_log.jsonl"


class _JsonLogCallback:
    """Appends every Trainer log record (loss, eval_loss, learning rate) to train_log.jsonl as it happens."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __call__(self) -> Any:
        from transformers import TrainerCallback

        path = self.path

        class _Cb(TrainerCallback):
            def on_log(self, args: Any, state: Any, control: Any, logs: dict | None = None, **kw: Any) -> None:
                with open(path, "a", encoding="utf-8") as handle:
                    handle.write(json.dumps({"step": state.global_step, "time": time.time(), **(logs or {})}) + "\n")

        return _Cb()


def training_arguments(hp: LoraHyperparameters, work_dir: Path, *, evaluate: bool, bf16: bool) -> Any:
    """TrainingArguments of the recipe; with validation rows (``evaluate``) it evaluates and checkpoints every
    ``eval_steps`` and loads the best checkpoint at the end."""
    import torch
    from transformers import TrainingArguments

    return TrainingArguments(
        output_dir=str(work_dir / CHECKPOINTS_DIR),
        per_device_train_batch_size=hp.batch_size,
        per_device_eval_batch_size=hp.batch_size,
        gradient_accumulation_steps=hp.gradient_accumulation,
        learning_rate=hp.learning_rate,
        weight_decay=hp.weight_decay,
        num_train_epochs=hp.epochs,
        max_steps=hp.max_steps,
        warmup_steps=hp.warmup_steps,
        lr_scheduler_type=hp.lr_scheduler,
        logging_steps=1,
        eval_strategy="steps" if evaluate else "no",
        eval_steps=hp.eval_steps,
        save_strategy="steps" if evaluate else "no",
        save_steps=hp.eval_steps,
        save_total_limit=2,
        save_only_model=True,
        load_best_model_at_end=evaluate,
        metric_for_best_model="eval_loss",
        greater_is_better=False,
        seed=hp.seed,
        data_seed=hp.seed,
        train_sampling_strategy="group_by_length",  # less padding, shorter steps
        use_cpu=not torch.cuda.is_available(),
        bf16=bf16,
        report_to="none",
        remove_unused_columns=False,
        dataloader_num_workers=0,
    )


def run_trainer(
    model: Any,
    train_rows: Sequence[dict],
    val_rows: Sequence[dict],
    hp: LoraHyperparameters,
    work_dir: Path,
    *,
    data_collator: Any,
    bf16: bool,
    callbacks: Sequence[Any] = (),
) -> dict[str, Any]:
    """Train ``model`` in place (the best checkpoint is loaded back when there is validation data) and return
    train_loss, eval_loss, best_eval_loss, steps and stopped_early."""
    from transformers import EarlyStoppingCallback, Trainer

    args = training_arguments(hp, work_dir, evaluate=bool(val_rows), bf16=bf16)
    trainer_callbacks: list[Any] = [_JsonLogCallback(work_dir / LOG_FILE)(), *callbacks]
    if val_rows:
        trainer_callbacks.append(EarlyStoppingCallback(early_stopping_patience=hp.early_stopping_patience))
    trainer = Trainer(
        model=model,
        args=args,
        train_dataset=train_rows,
        eval_dataset=val_rows or None,
        data_collator=data_collator,
        callbacks=trainer_callbacks,
    )
    output = trainer.train()
    # With early stopping the best checkpoint is loaded at the end, and its loss is already known.
    best = trainer.state.best_metric
    final_eval = {"eval_loss": best} if best is not None else (trainer.evaluate() if val_rows else {})
    return {
        "train_loss": float(output.training_loss),
        "eval_loss": float(final_eval["eval_loss"]) if "eval_loss" in final_eval else None,
        "best_eval_loss": trainer.state.best_metric,
        "steps": int(trainer.state.global_step),
        "stopped_early": bool(trainer.state.global_step < trainer.state.max_steps),
    }
