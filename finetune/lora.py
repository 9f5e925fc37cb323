"""LoRA recipe (litgpt-style: one typed dataclass of hyperparameters, documented defaults) on the base LLM.

Loss is on the assistant's tokens only (prompt tokens are labelled -100), early stopping watches validation loss,
the seed is fixed. With CUDA the base is loaded in 4-bit (QLoRA, bitsandbytes); on CPU it trains in fp32.
The adapter folder is written under a temporary name and renamed into place only when complete, so a crash
never leaves a half-written adapter that looks finished.

Defaults are sized for the nightly on 2 CPU cores (see docs/nightly.md, benchmarks/lora_training.py): the chat's
own prompt shape (~330 tokens with the approved answer), LoRA on the top 10 of 30 layers only — gradients then
stop at layer 20, so backward costs a third of a full pass — and a step cap.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from chatbot.errors import BankbotError
from chatbot.settings import Settings
from finetune.dataset import SFTExample
from finetune.lora_trainer import CHECKPOINTS_DIR, run_trainer

log = logging.getLogger(__name__)
IGNORE_INDEX = -100  # labels with this value add nothing to the loss (PyTorch cross-entropy default)


@dataclass
class LoraHyperparameters:
    # LoRA adapter. The recipe sweep (docs/nightly.md, benchmarks/recipe_sweep.py) found that five projections of
    # the top 10 layers at rank 16 learn to reuse the prompt's approved answer in ~50 steps, while q/v alone at
    # rank 8 still ignored it after 40.
    r: int = 16  # rank of the update matrices
    alpha: int = 32  # scaling = alpha / r
    dropout: float = 0.05
    target_modules: tuple[str, ...] = ("q_proj", "v_proj", "o_proj", "up_proj", "down_proj")
    top_layers: int | None = 10  # adapt only the last N decoder layers (None: all); backward stops below them
    # Data shaping (must match what the prompt builder is given at dataset time)
    # The chat's prompt shape: its passages (chatbot.prompt.MAX_PASSAGES, each cut to MAX_PASSAGE_WORDS) and the
    # approved answer; the budget only bites on unusually long questions.
    max_seq_length: int = 512  # prompt + answer tokens; longer answers are cut at the end
    prompt_budget: int = 400  # token budget handed to build_messages for system + context + question
    max_sources: int = 3  # retrieved passages kept in each training prompt (= chatbot.prompt.MAX_PASSAGES)
    # Optimisation
    learning_rate: float = 2e-3
    weight_decay: float = 0.0
    batch_size: int = 8
    gradient_accumulation: int = 1
    epochs: float = 1.0
    # optimizer steps (transformers: this overrides epochs): 80 x batch 8 = 640 examples a night at ~8 s a step on
    # 2 CPU cores; the recipe sweep's loss is flat from step 40 on (benchmarks/recipe_sweep.py, docs/nightly.md)
    max_steps: int = 80
    warmup_steps: int = 5
    lr_scheduler: str = "cosine"
    # Early stopping on validation loss
    eval_steps: int = 20
    eval_max_examples: int = 48  # validation examples scored at each evaluation (keeps evals cheap)
    early_stopping_patience: int = 2
    seed: int = 1234
    qlora: bool | None = None  # None: 4-bit QLoRA when CUDA is available, plain LoRA otherwise
    extra: dict[str, Any] = field(default_factory=dict)  # free-form notes recorded with the run

    @classmethod
    def from_overrides(cls, overrides: dict[str, str]) -> LoraHyperparameters:
        """Hyperparameters from ``key=value`` strings (CLI ``--set``), each parsed as the field's type."""
        known = {f.name: f for f in fields(cls)}
        values: dict[str, Any] = {}
        for key, raw in overrides.items():
            if key not in known or key == "extra":
                raise BankbotError(f"unknown hyperparameter {key!r}; known: {', '.join(sorted(known))}")
            default = getattr(cls(), key)
            values[key] = _parse_like(raw, default, key, str(known[key].type))
        return cls(**values)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["target_modules"] = list(self.target_modules)
        return data


def _parse_like(raw: str, default: Any, key: str, annotation: str = "") -> Any:
    """``raw`` as the field's type; ``none`` for optional fields, ``true``/``false`` for booleans."""
    word = raw.strip().lower()
    try:
        if word == "none" and "None" in annotation:
            return None
        if isinstance(default, tuple):
            return tuple(p.strip() for p in raw.split(",") if p.strip())
        if "bool" in annotation:
            return {"true": True, "false": False}[word]
        if isinstance(default, int | float):
            return type(default)(raw)
        return int(raw) if "int" in annotation else raw
    except (ValueError, KeyError) as exc:
        raise BankbotError(f"hyperparameter {key}={raw!r}: expected a value like {default!r}") from exc


# --- tokenisation (pure given a tokenizer) -----------------------------------------------------------------
def tokenize_example(
    tokenizer: Any, messages: Sequence[dict[str, str]], max_length: int
) -> dict[str, list[int]] | None:
    """input_ids / attention_mask / labels with the prompt masked to -100, or None when the prompt alone
    leaves no room for the answer. The prompt is rendered exactly as at inference (generation prompt added)."""
    prompt_text = tokenizer.apply_chat_template(list(messages[:-1]), add_generation_prompt=True, tokenize=False)
    full_text = tokenizer.apply_chat_template(list(messages), tokenize=False)
    if not full_text.startswith(prompt_text):
        raise BankbotError("the chat template does not render the prompt as a prefix of the full conversation")
    prompt_ids = tokenizer(prompt_text, add_special_tokens=False)["input_ids"]
    answer_ids = tokenizer(full_text[len(prompt_text) :], add_special_tokens=False)["input_ids"]
    if len(prompt_ids) >= max_length - 4:
        return None
    answer_ids = answer_ids[: max_length - len(prompt_ids)]
    return {
        "input_ids": prompt_ids + answer_ids,
        "attention_mask": [1] * (len(prompt_ids) + len(answer_ids)),
        "labels": [IGNORE_INDEX] * len(prompt_ids) + answer_ids,
    }


def tokenize_all(tokenizer: Any, examples: Sequence[SFTExample], max_length: int) -> tuple[list[dict], int]:
    rows, skipped = [], 0
    for example in examples:
        row = tokenize_example(tokenizer, example.messages, max_length)
        if row is None:
            skipped += 1
        else:
            rows.append(row)
    return rows, skipped


def tokenize_splits(
    tokenizer: Any, train: Sequence[SFTExample], validation: Sequence[SFTExample], hp: LoraHyperparameters
) -> tuple[list[dict], list[dict], int]:
    """(train rows, validation rows, examples skipped as too long); validation is cut to ``eval_max_examples``."""
    train_rows, skipped_train = tokenize_all(tokenizer, train, hp.max_seq_length)
    val_rows, skipped_val = tokenize_all(tokenizer, list(validation)[: hp.eval_max_examples], hp.max_seq_length)
    if not train_rows:
        raise BankbotError(f"every training prompt is longer than max_seq_length={hp.max_seq_length}")
    return train_rows, val_rows, skipped_train + skipped_val


def padding_collator(tokenizer: Any) -> Any:
    """Pads each batch to its longest row; padded labels are IGNORE_INDEX, so padding adds nothing to the loss."""
    from transformers import DataCollatorForSeq2Seq

    return DataCollatorForSeq2Seq(tokenizer, padding=True, label_pad_token_id=IGNORE_INDEX)


# --- model --------------------------------------------------------------------------------------------------
def use_qlora(hp: LoraHyperparameters) -> bool:
    """QLoRA when asked for or (qlora None) when CUDA is present; asked for without CUDA is refused in one line."""
    import torch

    cuda = torch.cuda.is_available()
    if hp.qlora and not cuda:
        raise BankbotError("qlora=true needs a CUDA device and none is available: leave qlora unset or false on CPU")
    return cuda if hp.qlora is None else hp.qlora


def require_bitsandbytes() -> None:
    """QLoRA's 4-bit base needs bitsandbytes, which only the ``gpu`` extra installs."""
    try:
        import bitsandbytes  # noqa: F401
    except ImportError as exc:
        raise BankbotError(
            f"QLoRA on CUDA needs bitsandbytes ({exc}): pip install '.[gpu]', or train plain LoRA with qlora=false"
        ) from exc


def load_base_for_training(settings: Settings, hp: LoraHyperparameters) -> tuple[Any, Any]:
    if not use_qlora(hp):
        from chatbot.model_loading import load_llm

        return load_llm(settings)
    # QLoRA: 4-bit NF4 base, bf16 compute. bitsandbytes is only needed (and imported) on CUDA machines.
    require_bitsandbytes()
    import torch
    from peft import prepare_model_for_kbit_training
    from transformers import AutoModelForCausalLM, AutoTokenizer, BitsAndBytesConfig

    from chatbot.model_loading import llm_source

    source = llm_source(settings)
    quant = BitsAndBytesConfig(
        load_in_4bit=True,
        bnb_4bit_quant_type="nf4",
        bnb_4bit_compute_dtype=torch.bfloat16,
        bnb_4bit_use_double_quant=True,
    )
    tokenizer = AutoTokenizer.from_pretrained(source)
    model = AutoModelForCausalLM.from_pretrained(source, quantization_config=quant, device_map={"": 0})
    model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=False)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return model, tokenizer


def lora_config(hp: LoraHyperparameters, num_layers: int) -> Any:
    from peft import LoraConfig, TaskType

    layers = None
    if hp.top_layers is not None and hp.top_layers < num_layers:
        layers = list(range(num_layers - hp.top_layers, num_layers))
    return LoraConfig(
        task_type=TaskType.CAUSAL_LM,
        r=hp.r,
        lora_alpha=hp.alpha,
        lora_dropout=hp.dropout,
        target_modules=list(hp.target_modules),
        layers_to_transform=layers,
        bias="none",
    )


def load_lora_model(settings: Settings, hp: LoraHyperparameters) -> tuple[Any, Any]:
    """(base model wrapped with fresh LoRA layers in training mode, tokenizer)."""
    from peft import get_peft_model

    model, tokenizer = load_base_for_training(settings, hp)
    model.train()
    model.config.use_cache = False
    model = get_peft_model(model, lora_config(hp, int(model.config.num_hidden_layers)))
    return model, tokenizer


# --- training -------------------------------------------------------------------------------------------------
@dataclass
class TrainResult:
    adapter_dir: Path
    metrics: dict[str, Any]


def train_lora(
    settings: Settings,
    *,
    train: Sequence[SFTExample],
    validation: Sequence[SFTExample],
    output_dir: Path,
    hp: LoraHyperparameters,
    describe: dict[str, Any] | None = None,
    callbacks: Sequence[Any] = (),
) -> TrainResult:
    """Train an adapter and write a self-describing folder at ``output_dir`` (atomically).

    ``describe`` is written as ``data_manifest``-style lineage next to the adapter (data hash, prompt version,
    base model...). ``callbacks`` are extra transformers TrainerCallbacks (tests use one to crash mid-run)."""
    from transformers import set_seed

    if output_dir.exists():
        raise BankbotError(f"{output_dir} already exists; adapters are never overwritten")
    if not train:
        raise BankbotError("no training examples")
    set_seed(hp.seed)
    started = time.time()
    output_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{output_dir.name}-", dir=output_dir.parent))
    try:
        model, tokenizer = load_lora_model(settings, hp)
        train_rows, val_rows, skipped = tokenize_splits(tokenizer, train, validation, hp)
        qlora = use_qlora(hp)
        trained = run_trainer(
            model,
            train_rows,
            val_rows,
            hp,
            tmp,
            data_collator=padding_collator(tokenizer),
            bf16=qlora,
            callbacks=callbacks,
        )
        model.save_pretrained(str(tmp))
        shutil.rmtree(tmp / CHECKPOINTS_DIR, ignore_errors=True)
        metrics = {
            **trained,
            "n_train_tokenized": len(train_rows),
            "n_val_tokenized": len(val_rows),
            "skipped_too_long": skipped,
            "seconds": round(time.time() - started, 1),
            "qlora": qlora,
        }
        write_recipe_files(tmp, hp, tokenizer, describe or {}, metrics)
        os.replace(tmp, output_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return TrainResult(adapter_dir=output_dir, metrics=metrics)


def write_recipe_files(
    adapter_dir: Path, hp: LoraHyperparameters, tokenizer: Any, describe: dict[str, Any], metrics: dict[str, Any]
) -> None:
    """What makes the adapter folder self-describing: its hyperparameters, lineage with the run's metrics, and the
    prompt version and chat template it was trained on."""
    _write_json(adapter_dir / "hyperparameters.json", hp.to_json())
    _write_json(adapter_dir / "training.json", {**describe, "metrics": metrics})
    _write_json(
        adapter_dir / "prompt.json",
        {"prompt_version": describe.get("prompt_version"), "chat_template": tokenizer.chat_template},
    )


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=True, default=str), encoding="utf-8")
