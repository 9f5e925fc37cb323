"""QLoRA and the `.[gpu]` extra: which recipe runs where, the one-line error without bitsandbytes, and (marker gpu,
skipped with the reason printed when there is no CUDA device) a real 2-step QLoRA run on the builtin SmolLM2."""

from __future__ import annotations

import importlib.util
import json
import sys
import tomllib
from pathlib import Path

import pytest

from chatbot.errors import BankbotError
from chatbot.settings import BUILTIN_LLM
from finetune.dataset import SFTExample
from finetune.lora import LoraHyperparameters, load_base_for_training, train_lora, use_qlora
from tests.conftest import make_settings

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def _set_cuda(monkeypatch: pytest.MonkeyPatch, available: bool) -> None:
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: available)


@pytest.mark.parametrize(
    ("cuda", "asked", "expected"),
    [(True, None, True), (False, None, False), (True, False, False), (True, True, True)],
)
def test_qlora_is_chosen_only_with_cuda(
    monkeypatch: pytest.MonkeyPatch, cuda: bool, asked: bool | None, expected: bool
) -> None:
    _set_cuda(monkeypatch, cuda)
    assert use_qlora(LoraHyperparameters(qlora=asked)) is expected


def test_qlora_asked_for_without_cuda_is_refused_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    _set_cuda(monkeypatch, False)
    with pytest.raises(BankbotError, match="qlora=true needs a CUDA device") as raised:
        use_qlora(LoraHyperparameters(qlora=True))
    assert "\n" not in str(raised.value)


def test_cuda_without_bitsandbytes_names_the_gpu_extra_before_loading_anything(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _set_cuda(monkeypatch, True)
    monkeypatch.setitem(sys.modules, "bitsandbytes", None)  # `import bitsandbytes` now raises ImportError
    settings = make_settings(tmp_path, llm_model=BUILTIN_LLM)
    with pytest.raises(BankbotError, match=r"QLoRA on CUDA needs bitsandbytes .*pip install '\.\[gpu\]'") as raised:
        load_base_for_training(settings, LoraHyperparameters())
    assert "\n" not in str(raised.value)
    assert not (tmp_path / "data").exists()  # refused before any model was read or converted


def test_the_gpu_extra_the_error_names_brings_bitsandbytes() -> None:
    extras = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]["optional-dependencies"]
    assert any(spec.replace(" ", "").startswith("bitsandbytes>=") for spec in extras["gpu"])
    assert not any("bitsandbytes" in spec for spec in extras["dev"])  # a CPU install never pulls it


def _skip_without_cuda() -> None:
    import torch

    if not torch.cuda.is_available():
        pytest.skip(
            f"no CUDA device: torch {torch.__version__} (built for CUDA {torch.version.cuda or 'none'}) sees no GPU"
        )
    if importlib.util.find_spec("bitsandbytes") is None:
        pytest.skip("CUDA is present but bitsandbytes is not installed: pip install '.[gpu]'")


def _example(n: int) -> SFTExample:
    messages = [
        {"role": "system", "content": "Answer from the context."},
        {"role": "user", "content": f"Context:\n[1] Cards\nGo to Cards > Activate.\n\nQuestion: activate card {n}?"},
        {"role": "assistant", "content": "Go to Cards > Activate [1]."},
    ]
    return SFTExample(
        turn_id=f"t{n}",
        question=f"activate card {n}?",
        messages=messages,
        verdict="approved",
        article_id="cards",
        question_hash=f"h{n}",
        pii_redacted=False,
    )


@pytest.mark.gpu
def test_two_step_qlora_on_cuda_saves_the_adapter(tmp_path: Path) -> None:
    _skip_without_cuda()
    settings = make_settings(tmp_path, llm_model=BUILTIN_LLM, device="cuda")
    hp = LoraHyperparameters(max_steps=2, batch_size=2, warmup_steps=0, eval_steps=1, top_layers=2)
    examples = [_example(n) for n in range(6)]
    result = train_lora(
        settings, train=examples[:4], validation=examples[4:], output_dir=tmp_path / "adapters" / "gpu-test", hp=hp
    )
    assert result.metrics["qlora"] is True and 1 <= result.metrics["steps"] <= 2
    assert (result.adapter_dir / "adapter_config.json").is_file()
    assert (result.adapter_dir / "adapter_model.safetensors").is_file()
    saved = json.loads((result.adapter_dir / "training.json").read_text(encoding="utf-8"))
    assert saved["metrics"]["qlora"] is True
