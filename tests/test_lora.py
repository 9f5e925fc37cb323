"""The LoRA recipe's pure parts: prompt masking with the real SmolLM2 tokenizer, layer selection, overrides."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from chatbot.errors import BankbotError
from chatbot.settings import Settings
from finetune.lora import IGNORE_INDEX, LoraHyperparameters, lora_config, tokenize_example
from tests.conftest import MODEL_CACHE

MESSAGES = [
    {"role": "system", "content": "Answer from the context."},
    {"role": "user", "content": "Context:\n[1] Cards\nGo to Cards > Activate.\n\nQuestion: how do I activate?"},
    {"role": "assistant", "content": "Go to Cards > Activate [1]."},
]


@pytest.fixture(scope="module")
def tokenizer() -> Any:
    from transformers import AutoTokenizer

    from chatbot.model_loading import builtin_llm_dir

    return AutoTokenizer.from_pretrained(builtin_llm_dir(Settings(data_dir=Path("/x"), model_cache_dir=MODEL_CACHE)))


def test_only_the_assistant_answer_and_end_of_turn_carry_labels(tokenizer: Any) -> None:
    row = tokenize_example(tokenizer, MESSAGES, max_length=256)
    assert row is not None
    prompt = tokenizer.apply_chat_template(MESSAGES[:-1], add_generation_prompt=True, tokenize=False)
    n_prompt = len(tokenizer(prompt, add_special_tokens=False)["input_ids"])
    assert row["labels"][:n_prompt] == [IGNORE_INDEX] * n_prompt
    learned = [t for t in row["labels"] if t != IGNORE_INDEX]
    assert tokenizer.decode(learned) == "Go to Cards > Activate [1].<|im_end|>\n"
    assert row["input_ids"][n_prompt:] == learned and len(row["attention_mask"]) == len(row["input_ids"])
    # the whole sequence is exactly the chat-template rendering of the conversation
    assert tokenizer.decode(row["input_ids"]) == tokenizer.apply_chat_template(MESSAGES, tokenize=False)


def test_long_answers_are_cut_and_prompts_without_room_are_skipped(tokenizer: Any) -> None:
    row = tokenize_example(tokenizer, MESSAGES, max_length=256)
    assert row is not None
    n_prompt = row["labels"].count(IGNORE_INDEX)
    cut = tokenize_example(tokenizer, MESSAGES, max_length=n_prompt + 5)
    assert cut is not None and len(cut["input_ids"]) == n_prompt + 5
    assert tokenize_example(tokenizer, MESSAGES, max_length=n_prompt + 3) is None


def test_top_layers_selects_the_last_layers_only() -> None:
    assert lora_config(LoraHyperparameters(top_layers=10), 30).layers_to_transform == list(range(20, 30))
    assert lora_config(LoraHyperparameters(top_layers=None), 30).layers_to_transform is None
    assert lora_config(LoraHyperparameters(top_layers=40), 30).layers_to_transform is None


def test_overrides_are_parsed_by_field_type_and_unknown_keys_are_refused() -> None:
    hp = LoraHyperparameters.from_overrides(
        {"r": "16", "learning_rate": "1e-4", "target_modules": "q_proj,k_proj", "top_layers": "none", "qlora": "false"}
    )
    assert (hp.r, hp.learning_rate, hp.target_modules, hp.top_layers, hp.qlora) == (
        16,
        1e-4,
        ("q_proj", "k_proj"),
        None,
        False,
    )
    assert LoraHyperparameters.from_overrides({"top_layers": "6"}).top_layers == 6
    with pytest.raises(BankbotError, match="unknown hyperparameter 'rank'"):
        LoraHyperparameters.from_overrides({"rank": "4"})
    with pytest.raises(BankbotError, match="r='big'"):
        LoraHyperparameters.from_overrides({"r": "big"})
