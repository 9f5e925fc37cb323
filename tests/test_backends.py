"""Inference back ends and the quality guard.

Fast tests run a tiny randomly initialised Llama built here (2 layers, hidden 64) through the real conversion
(torch dtypes, torchao quantization), the on-disk cache and the guard's metrics; the slow test uses SmolLM2.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from chatbot.generation import attention, backends
from chatbot.generation import quality_guard as qg
from chatbot.generation.fast_path import FastPath


# --- pure functions -----------------------------------------------------------------------------------------------
def test_token_agreement_counts_matching_positions_over_reference_length() -> None:
    assert qg.token_agreement([1, 2, 3, 4], [1, 9, 3, 4]) == 0.75
    assert qg.token_agreement([1, 2, 3, 4], [1, 2]) == 0.5  # a shorter prediction misses the rest
    assert qg.token_agreement([], [5]) == 1.0


def test_rouge_l_is_lcs_f1() -> None:
    # LCS("the cat sat", "the cat sat on the mat") = 3 words: precision 3/6, recall 3/3, F1 = 2/3.
    assert qg.rouge_l("the cat sat", "the cat sat on the mat") == pytest.approx(2 / 3)
    assert qg.rouge_l("fee is free", "fee is free") == 1.0
    assert qg.rouge_l("", "") == 1.0
    assert qg.rouge_l("something", "") == 0.0


def _metrics(**kw: Any) -> qg.GuardMetrics:
    values: dict[str, Any] = {
        "token_agreement": 0.9,
        "rouge_l_vs_fp32": 0.6,
        "gold_rouge_fp32": 0.30,
        "gold_rouge_backend": 0.29,
        "logprob_shift": 0.1,
        "prompts": 12,
    }
    values.update(kw)
    return qg.GuardMetrics(**values)


def test_judge_names_each_broken_tolerance() -> None:
    tol = qg.Tolerance(min_token_agreement=0.85, min_rouge_l_vs_fp32=0.45, max_gold_rouge_drop=0.05)
    assert qg.judge(_metrics(), tol) == []
    failures = qg.judge(_metrics(token_agreement=0.5, gold_rouge_backend=0.2, logprob_shift=0.3), tol)
    assert len(failures) == 3
    assert failures[0].startswith("token agreement 0.500")
    assert failures[1].startswith("gold ROUGE-L drop 0.100")
    assert failures[2].startswith("log-prob shift 0.300")


def test_adapter_fingerprint_follows_the_weights(tmp_path: Path) -> None:
    (tmp_path / "adapter_config.json").write_text("{}")
    (tmp_path / "adapter_model.safetensors").write_bytes(b"one")
    first = backends.adapter_fingerprint(SimpleNamespace(version="v1/x", path=tmp_path))
    (tmp_path / "adapter_model.safetensors").write_bytes(b"two")
    second = backends.adapter_fingerprint(SimpleNamespace(version="v1/x", path=tmp_path))
    assert first.startswith("v1_x-") and second.startswith("v1_x-") and first != second
    assert backends.adapter_fingerprint(None) == "base"


# --- a tiny real model --------------------------------------------------------------------------------------------
VOCAB = 96


class CharTokenizer:
    """Just enough tokenizer for the guard: one token per printable character, ChatML-like template."""

    eos_token_id = 0
    pad_token_id = 0
    unk_token_id = 1

    def apply_chat_template(self, messages: Any, add_generation_prompt: bool, tokenize: bool) -> str:
        return "".join(f"<{m['role']}>{m['content'][-60:]}" for m in messages) + "<assistant>"

    def encode(self, text: str, add_special_tokens: bool = False) -> list[int]:
        return [2 + (ord(c) - 32) % (VOCAB - 2) for c in text]

    def __call__(self, text: str, add_special_tokens: bool = False) -> dict[str, list[int]]:
        return {"input_ids": self.encode(text)}

    def decode(self, ids: list[int], skip_special_tokens: bool = True) -> str:
        return "".join(chr(32 + i - 2) for i in ids if i >= 2)

    def convert_tokens_to_ids(self, token: str) -> int:
        return self.unk_token_id


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=VOCAB,
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=4096,
        tie_word_embeddings=True,
        eos_token_id=0,
        pad_token_id=0,
    )
    model = LlamaForCausalLM(config).eval()
    folder = tmp_path_factory.mktemp("tiny") / "model"
    model.save_pretrained(folder)
    return folder


def _logits(model: Any, ids: Any) -> Any:
    import torch

    with torch.inference_mode():
        return model(input_ids=ids).logits.float()


def _load(folder: Path, dtype: str = "fp32") -> Any:
    import torch
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(folder, dtype=torch.bfloat16 if dtype == "bf16" else torch.float32)


@pytest.mark.parametrize(
    ("backend", "max_error"), [("bf16", 0.05), ("int8-weight-only", 0.05), ("int4-weight-only", 0.5)]
)
def test_convert_keeps_logits_close_and_quantizes_the_lm_head(tiny_dir: Path, backend: str, max_error: float) -> None:
    import torch

    from chatbot.generation.int4_linear import Int4WeightOnlyLinear
    from chatbot.generation.int8_linear import Int8WeightOnlyLinear

    ids = torch.arange(2, 40)[None]
    reference = _logits(_load(tiny_dir), ids)
    model = backends.convert(_load(tiny_dir), backend)
    error = (_logits(model, ids) - reference).abs().max().item()
    assert error < max_error
    # the activation dtype of the back end (backends.ACTIVATIONS); a torchao tensor reports it too
    up_proj = model.model.layers[0].mlp.up_proj
    if backend in backends.DENSE_PREFILL:  # the prompt reads a bf16 copy, decode steps the quantized weight
        assert up_proj.dense.dtype == torch.bfloat16
        up_proj = up_proj.quantized
    if backend == "int4-weight-only":  # plain packed int4 buffers (int4_linear), scales in the activation dtype
        assert isinstance(up_proj, Int4WeightOnlyLinear) and up_proj.qdata.dtype == torch.uint8
        assert up_proj.scale_and_zero.dtype == torch.bfloat16
    else:
        assert up_proj.weight.dtype == (torch.bfloat16 if backends.ACTIVATIONS[backend] == "bf16" else torch.float32)
    if backend == "int8-weight-only":  # a torchao tensor subclass, not bf16
        assert type(up_proj.weight).__name__ != "Parameter" and "Tensor" in type(up_proj.weight).__name__
    if backend in backends.QUANTIZED:
        head = model.lm_head
        assert model.get_input_embeddings().weight is not getattr(head, "weight", None)  # untied: embedding exact
        if backend in backends.INT8_HEAD:  # kept at 8 bits, like llama.cpp's Q8_0 output tensor
            assert isinstance(head, Int8WeightOnlyLinear) and head.weight_int8.dtype == torch.int8
        else:
            assert "Tensor" in type(head.weight).__name__


def test_int8_linear_matches_its_dequantized_weight_and_the_float_layer() -> None:
    import torch

    from chatbot.generation.int8_linear import Int8WeightOnlyLinear

    torch.manual_seed(0)
    linear = torch.nn.Linear(64, 96, bias=False)
    layer = Int8WeightOnlyLinear.from_linear(linear, torch.bfloat16)
    weight = linear.weight.detach()
    scales = weight.abs().amax(dim=1) / 127
    assert torch.equal(layer.weight_int8, torch.round(weight / scales[:, None]).to(torch.int8))
    assert layer.weight_int8.abs().max().item() == 127  # every row uses the full range
    x = torch.randn(2, 5, 64)
    with torch.inference_mode():
        out = layer(x.to(torch.bfloat16)).float()
        exact = x.to(torch.bfloat16).float() @ layer.dequantized().float().T
        assert out.shape == (2, 5, 96)
        assert (out - exact).abs().max().item() < 0.05  # the kernel computes with the int8 weight, bf16 rounding
        assert (out - linear(x)).abs().max().item() < 0.1  # and stays close to the float layer
    with pytest.raises(ValueError, match="no bias"):
        Int8WeightOnlyLinear.from_linear(torch.nn.Linear(4, 4))


def test_dense_prefill_linear_routes_prompts_to_the_dense_weight_and_steps_to_the_quantized_one() -> None:
    import torch

    from chatbot.generation import dense_prefill

    torch.manual_seed(0)
    dense_weight = torch.randn(4, 8)
    layer = dense_prefill.DensePrefillLinear(torch.nn.Linear(8, 4, bias=False), dense_weight)
    model = torch.nn.Sequential(layer, torch.nn.ReLU(), torch.nn.Linear(4, 4))
    prompt, step = torch.randn(2, 5, 8), torch.randn(2, 1, 8)
    assert torch.equal(layer(prompt), prompt @ dense_weight.T)
    assert torch.equal(layer(step), layer.quantized(step))
    assert not torch.equal(layer(step), step @ dense_weight.T)
    state = dense_prefill.without_dense(model.state_dict())
    assert sorted(state) == ["0.quantized.weight", "2.bias", "2.weight"]


def test_unknown_backend_is_refused_with_one_line(tiny_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(backends.BackendRefused, match="BANKBOT_INFERENCE_BACKEND=int3: unknown"):
        backends.prepare_serving(tmp_path, str(tiny_dir), None, "int3", lambda: (None, None))


def test_quantized_weights_are_cached_and_reload_identically(tiny_dir: Path, tmp_path: Path) -> None:
    import torch

    ids = torch.arange(2, 30)[None]
    first, _ = _load_backend(tmp_path, "int4-weight-only", tiny_dir)
    assert (tmp_path / "int4-weight-only.pt").is_file()
    second, _ = _load_backend(tmp_path, "int4-weight-only", tiny_dir)
    assert torch.equal(_logits(first, ids), _logits(second, ids))  # the prompt path (bf16 copies)
    assert torch.equal(_logits(first, ids[:, :1]), _logits(second, ids[:, :1]))  # one position: the int4 path
    assert not any(k.endswith(".dense") for k in torch.load(tmp_path / "int4-weight-only.pt", weights_only=True))
    # served with the attention the compiled back ends are fast with (fused prompt pass, grouped decode)
    assert first.config._attn_implementation == second.config._attn_implementation == attention.NAME


def _load_backend(cache_dir: Path, backend: str, merged: Path) -> tuple[Any, Any]:
    from unittest import mock

    # load_merged reads a tokenizer too; the tiny model has none, so hand back the character tokenizer.
    with mock.patch("transformers.AutoTokenizer.from_pretrained", return_value=CharTokenizer()):
        return backends.load_backend(cache_dir, backend, merged)


def test_merged_dir_is_built_once_then_reused(tiny_dir: Path, tmp_path: Path) -> None:
    calls = []

    class Tok:
        def save_pretrained(self, folder: Path) -> None:
            (Path(folder) / "tokenizer.json").write_text("{}")

    def build() -> tuple[Any, Any]:
        calls.append(1)
        return _load(tiny_dir), Tok()

    folder = backends.merged_dir(tmp_path, build)
    assert backends.merged_dir(tmp_path, build) == folder
    assert calls == [1] and (folder / "config.json").is_file()


def test_static_cache_path_generates_the_same_tokens(tiny_dir: Path) -> None:
    import torch

    model = backends.convert(_load(tiny_dir), "bf16")
    ids = torch.arange(2, 50)[None]
    kwargs = {"max_new_tokens": 12, "do_sample": False, "pad_token_id": 0, "eos_token_id": None}
    with torch.inference_mode():
        plain = model.generate(input_ids=ids, **kwargs)
        fast_kwargs = FastPath(model).kwargs(ids.shape[1], 12)
        # Compilation is exercised by the slow test; here the static cache alone must not change the answer.
        fast = model.generate(input_ids=ids, disable_compile=True, **fast_kwargs, **kwargs)
    assert fast_kwargs["past_key_values"].layers[0].max_cache_len == 128  # 48 + 12 tokens, one CACHE_STEP
    assert fast_kwargs["compile_config"].dynamic is True  # one graph for every cache length and batch size
    assert torch.equal(plain, fast)


def _guard_cases() -> list[qg.GuardCase]:
    return qg.guard_cases(lambda text: len(text) // 4, n=3)


def test_guard_cases_are_fixed_production_prompts() -> None:
    cases = _guard_cases()
    assert len(cases) == 3 and len({c.question for c in cases}) == 3
    assert cases == _guard_cases()  # deterministic
    assert all(c.messages[0]["role"] == "system" and c.gold for c in cases)
    assert "Question:" in cases[0].messages[-1]["content"]


def test_guard_passes_a_faithful_backend_and_refuses_a_broken_one(tiny_dir: Path) -> None:
    import torch

    tok = CharTokenizer()
    cases = _guard_cases()
    stops = [0]
    ref = qg.reference(_load(tiny_dir), tok, cases, stops, 1.0)
    assert all(len(a) > 0 for a in ref.answers)
    same = qg.measure(_load(tiny_dir), tok, cases, ref, stops, repetition_penalty=1.0)
    assert same.token_agreement == 1.0 and same.rouge_l_vs_fp32 == 1.0 and same.logprob_shift == 0.0

    broken = _load(tiny_dir)
    with torch.no_grad():
        for layer in broken.model.layers:  # what a bad quantizer does: weights scrambled
            layer.mlp.down_proj.weight.mul_(40.0)
    bad = qg.measure(broken, tok, cases, ref, stops, repetition_penalty=1.0)
    assert bad.token_agreement < 0.85
    assert qg.judge(bad, qg.Tolerance())


def test_the_same_model_agrees_fully_even_when_a_repetition_penalty_chose_the_answer(tiny_dir: Path) -> None:
    # Guard v1 compared the back end's raw argmax with the answer tokens; a repetition penalty picks some of those
    # tokens against the raw argmax, so fp32 failed against itself. Simulate such an answer: one token replaced.
    model, tok, cases, stops = _load(tiny_dir), CharTokenizer(), _guard_cases(), [0]
    plain = qg.reference(model, tok, cases, stops, 1.0)
    altered = [[a[0], a[1] + 1, *a[2:]] if len(a) > 2 else a for a in plain.answers]
    forced = [qg.teacher_forced(model, qg._prompt_ids(tok, c), a) for c, a in zip(cases, altered, strict=True)]
    ref = qg.Reference(
        answers=altered, mean_logprobs=[qg.mean(lps) for _, lps in forced], choices=[c for c, _ in forced]
    )
    assert min(qg.token_agreement(a, c) for a, c in zip(ref.answers, ref.choices, strict=True)) < 1.0  # v1's view
    same = qg.measure(model, tok, cases, ref, stops, repetition_penalty=1.0)
    assert same.token_agreement == 1.0 and same.logprob_shift == 0.0


def test_explicit_backend_failing_the_cached_guard_is_refused(tiny_dir: Path, tmp_path: Path) -> None:
    cache_dir = backends.serving_dir(tmp_path, str(tiny_dir), None)
    qg.write_result(cache_dir, "int4-weight-only", _metrics(token_agreement=0.31))
    with pytest.raises(backends.BackendRefused, match=r"int4-weight-only refused by the quality guard.*0\.310"):
        backends.prepare_serving(tmp_path, str(tiny_dir), None, "int4-weight-only", lambda: (None, None))


def test_auto_serves_the_fastest_backend_that_passes(tiny_dir: Path, tmp_path: Path) -> None:
    from unittest import mock

    cache_dir = backends.serving_dir(tmp_path, str(tiny_dir), None)
    qg.write_result(cache_dir, "int8-lean", _metrics(token_agreement=0.31))  # fails
    qg.write_result(cache_dir, "int4-weight-only", _metrics(token_agreement=0.31))  # fails
    qg.write_result(cache_dir, "bf16", _metrics())  # passes
    with mock.patch("transformers.AutoTokenizer.from_pretrained", return_value=CharTokenizer()):
        served = backends.prepare_serving(tmp_path, str(tiny_dir), None, "auto", lambda: (None, None))
    # int8-weight-only (torchao) passes guards but is slower than fp32
    assert backends.SPEED_ORDER == ("int8-lean", "int4-weight-only", "bf16")
    assert served.backend == "bf16" and served.fast_path.enabled
    assert served.guard.passed and served.guard.metrics.token_agreement == 0.9


def test_cached_guard_result_is_rejudged_with_the_current_tolerance(tmp_path: Path) -> None:
    qg.write_result(tmp_path, "bf16", _metrics(token_agreement=0.88))
    lenient = qg.read_result(tmp_path, "bf16", qg.Tolerance())
    strict = qg.read_result(tmp_path, "bf16", replace(qg.Tolerance(), min_token_agreement=0.95))
    assert lenient is not None and lenient.passed
    assert strict is not None and not strict.passed
    raw = json.loads(qg.result_path(tmp_path, "bf16").read_text())
    assert raw["metrics"]["token_agreement"] == 0.88
