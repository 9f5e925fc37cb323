"""The int8-lean back end: int8 quantization, the native kernel, the lean forward and its generation loop.

The oracle is transformers itself: a copy of the tiny Llama whose linear weights are replaced by the int8 weights
dequantized must give the same logits as the lean forward (prompt pass and C++ decode steps) and the same tokens
from ``generate``. The kernel is built once per machine (``cpu_kernels.DEFAULT_DIR``).
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any
from unittest import mock

import pytest

from chatbot.generation import backends, cpu_kernels
from chatbot.generation import quality_guard as qg
from chatbot.generation.lean_decoder import Int8Matrix, LeanLlama, UnsupportedModel
from chatbot.generation.lean_generate import LeanModel, apply_repetition_penalty, filter_top_k_top_p
from tests.test_backends import CharTokenizer, _load, _metrics, tiny_dir  # noqa: F401  (tiny_dir: a fixture)


@pytest.fixture(scope="module")
def kernel() -> Any:
    return cpu_kernels.load(cpu_kernels.DEFAULT_DIR)


@pytest.fixture(scope="module")
def lean(tiny_dir: Path, kernel: Any) -> LeanModel:  # noqa: F811
    return LeanModel(LeanLlama(_load(tiny_dir), cpu_kernels.DEFAULT_DIR))


@pytest.fixture(scope="module")
def twin(tiny_dir: Path, lean: LeanModel) -> Any:  # noqa: F811
    """transformers' model with exactly the weights the lean decoder multiplies by."""
    import torch

    model = _load(tiny_dir)
    with torch.no_grad():
        for layer, weights in zip(model.model.layers, lean.decoder.layers, strict=True):
            attn, mlp = layer.self_attn, layer.mlp
            q, k, v = weights.qkv.dequantized().split(
                [attn.q_proj.out_features, attn.k_proj.out_features, attn.v_proj.out_features]
            )
            attn.q_proj.weight.copy_(q)
            attn.k_proj.weight.copy_(k)
            attn.v_proj.weight.copy_(v)
            attn.o_proj.weight.copy_(weights.o.dequantized())
            gate, up = weights.gate_up.dequantized().chunk(2)
            mlp.gate_proj.weight.copy_(gate)
            mlp.up_proj.weight.copy_(up)
            mlp.down_proj.weight.copy_(weights.down.dequantized())
        backends._untie_lm_head(model)
        model.lm_head.weight.copy_(lean.decoder.head.dequantized())
    return model


# --- pure pieces --------------------------------------------------------------------------------------------------
def test_int8_matrix_is_symmetric_per_group_of_inputs_and_stacks_layers() -> None:
    import torch

    first, second = torch.nn.Linear(2, 1, bias=False), torch.nn.Linear(2, 1, bias=False)
    with torch.no_grad():
        first.weight.copy_(torch.tensor([[1.0, -2.0]]))
        second.weight.copy_(torch.tensor([[0.5, 0.25]]))
    m = Int8Matrix.quantize(first, second)  # 2 inputs: not a multiple of 32, so one group per row
    assert torch.allclose(m.scale, torch.tensor([[2 / 127], [0.5 / 127]]))
    # 1 / (2/127) = 63.5 and 0.25 / (0.5/127) = 63.5 round half to even: 64
    assert m.weight.tolist() == [[64, -127], [127, 64]]
    wide = torch.nn.Linear(64, 1, bias=False)
    with torch.no_grad():
        wide.weight.copy_(torch.cat([torch.full((32,), 0.01), torch.full((32,), 5.0)])[None])
    grouped = Int8Matrix.quantize(wide)
    assert grouped.scale.shape == (1, 2)  # the small group keeps its own scale: exact here
    assert torch.allclose(grouped.dequantized(), wide.weight)
    with pytest.raises(UnsupportedModel, match="without bias"):
        Int8Matrix.quantize(torch.nn.Linear(2, 2))


def test_repetition_penalty_and_top_k_top_p_match_transformers() -> None:
    import torch
    from transformers import RepetitionPenaltyLogitsProcessor, TopKLogitsWarper, TopPLogitsWarper

    torch.manual_seed(1)
    logits = torch.randn(3, 40)
    ids = torch.randint(0, 40, (3, 7))
    seen = torch.zeros(3, 40, dtype=torch.bool).scatter_(1, ids, True)
    expected = RepetitionPenaltyLogitsProcessor(1.3)(ids, logits.clone())
    assert torch.equal(apply_repetition_penalty(logits, seen, 1.3), expected)
    assert torch.equal(apply_repetition_penalty(logits, seen, 1.0), logits)
    expected = TopPLogitsWarper(0.8)(ids, TopKLogitsWarper(12)(ids, logits.clone()))
    assert torch.equal(filter_top_k_top_p(logits, 12, 0.8), expected)
    # exact: softmax([3, 2, 1, 0]) = .644, .237, .087, .032; top_p 0.7 keeps the two best
    kept = filter_top_k_top_p(torch.tensor([[3.0, 2.0, 1.0, 0.0]]), None, 0.7)
    assert torch.isinf(kept).tolist() == [[False, False, True, True]]


def test_kernel_matches_the_dequantized_product_for_any_row_count(kernel: Any) -> None:
    import torch

    torch.manual_seed(2)
    linear = torch.nn.Linear(96, 50, bias=False)
    m = Int8Matrix.quantize(linear)
    for rows in (1, 3, 4, 5, 8, 9, 13, 16):
        x = torch.randn(rows, 96)
        assert torch.allclose(kernel.int8_gemv(x, m.weight, m.scale), x @ m.dequantized().T, atol=1e-4)
    with pytest.raises(RuntimeError, match="int8 weight"):
        kernel.int8_gemv(torch.randn(1, 96), m.weight.float(), m.scale)


def test_a_model_of_another_architecture_is_refused() -> None:
    model = SimpleNamespace(config=SimpleNamespace(model_type="gpt2"))
    with pytest.raises(UnsupportedModel, match="Llama-architecture models, not gpt2"):
        LeanLlama(model, cpu_kernels.DEFAULT_DIR)


def test_a_missing_compiler_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CXX", "no-such-compiler")
    with pytest.raises(cpu_kernels.KernelUnavailable, match=r"no C\+\+ compiler \(no-such-compiler\)"):
        cpu_kernels.load(tmp_path)


def test_build_folder_is_keyed_by_the_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    here = cpu_kernels.build_key()
    monkeypatch.setattr(cpu_kernels, "cpu_flags", lambda: "sse2")
    assert cpu_kernels.build_key() != here


# --- against transformers -----------------------------------------------------------------------------------------
def test_prompt_pass_and_decode_steps_give_transformers_logits(lean: LeanModel, twin: Any) -> None:
    import torch

    ids = torch.arange(2, 40)[None]
    with torch.inference_mode():
        expected = twin(input_ids=ids).logits[0]
        assert torch.allclose(lean(input_ids=ids).logits[0], expected, atol=1e-4)
        decoder = lean.decoder
        cache = decoder.new_cache(1, 64)
        decoder.prefill(ids[:, :30], torch.ones(1, 30, dtype=torch.long), cache)
        key_mask = torch.full((1, 64), float("-inf"))
        key_mask[:, :30] = 0.0
        keys, values = cache.row_views()
        for position in range(30, 38):  # each step is one C++ call
            key_mask[:, position] = 0.0
            slots = torch.tensor([position])
            step = decoder.step(ids[:, position], torch.tensor([position]), slots, keys, values, key_mask)
            assert torch.allclose(step[0], expected[position], atol=1e-4)


def _generate_kwargs(**extra: Any) -> dict[str, Any]:
    return {
        "max_new_tokens": 10,
        "repetition_penalty": 1.3,
        "eos_token_id": [0, 5],
        "pad_token_id": 0,
        "do_sample": False,
        "return_dict_in_generate": True,
        "output_logits": True,
        **extra,
    }


def test_generate_matches_transformers_on_a_left_padded_batch(lean: LeanModel, twin: Any) -> None:
    import torch

    # five rows: the kernel multiplies four rows at a time, then one
    ids = torch.tensor([[0, 0, 0, 7, 8, 9, 10, 11], [12, 13, 14, 15, 16, 17, 18, 19], [0, 30, 31, 32, 33, 34, 35, 36]])
    ids = torch.cat([ids, torch.tensor([[0, 0, 0, 0, 0, 0, 40, 41], [50, 51, 52, 53, 54, 55, 56, 57]])])
    mask = (ids != 0).long()
    puts: list[list[int]] = []
    streamer = SimpleNamespace(put=lambda v: puts.append(v.reshape(-1).tolist()), end=lambda: puts.append([]))
    out = lean.generate(input_ids=ids, attention_mask=mask, streamer=streamer, **_generate_kwargs(min_new_tokens=4))
    with torch.inference_mode():
        expected = twin.generate(input_ids=ids, attention_mask=mask, **_generate_kwargs(min_new_tokens=4))
    assert torch.equal(out.sequences, expected.sequences)
    assert len(out.logits) == len(expected.logits)
    for mine, theirs in zip(out.logits, expected.logits, strict=True):  # raw logits: the confidence input
        assert torch.allclose(mine, theirs, atol=1e-4)
    new = out.sequences[:, ids.shape[1] :]
    assert puts[0] == ids.reshape(-1).tolist() and puts[-1] == []  # prompt first, end last
    assert puts[1:-1] == new.T.tolist()  # then one token per row per step
    assert not set(new[:, :4].reshape(-1).tolist()) & {0, 5}  # min_new_tokens held the stop tokens back


def test_sampling_is_reproducible_and_unknown_arguments_are_refused(lean: LeanModel) -> None:
    import torch

    ids = torch.arange(2, 20)[None]
    kwargs = _generate_kwargs(do_sample=True, temperature=0.8, top_p=0.9, top_k=20, return_dict_in_generate=False)
    torch.manual_seed(3)
    first = lean.generate(input_ids=ids, **kwargs)
    torch.manual_seed(3)
    assert torch.equal(first, lean.generate(input_ids=ids, **kwargs))
    with pytest.raises(TypeError, match="num_beams"):
        lean.generate(input_ids=ids, num_beams=2)
    with pytest.raises(ValueError, match="exceed the int8-lean back end's 4096 positions"):
        lean.generate(input_ids=ids, max_new_tokens=5000)


# --- as a back end ------------------------------------------------------------------------------------------------
def test_auto_serves_int8_lean_when_it_passes_and_it_answers(tiny_dir: Path, tmp_path: Path, kernel: Any) -> None:  # noqa: F811
    cache_dir = backends.serving_dir(tmp_path, str(tiny_dir), None)
    qg.write_result(cache_dir, "int8-lean", _metrics())
    with mock.patch("transformers.AutoTokenizer.from_pretrained", return_value=CharTokenizer()):
        served = backends.prepare_serving(tmp_path, str(tiny_dir), None, "auto", lambda: (None, None))
    assert served.backend == "int8-lean" and not served.fast_path.enabled  # nothing to compile
    assert isinstance(served.model, LeanModel)


def test_the_guard_measures_int8_lean_against_fp32(tiny_dir: Path, lean: LeanModel) -> None:  # noqa: F811
    tok, stops = CharTokenizer(), [0]
    cases = qg.guard_cases(lambda text: len(text) // 4, n=3)
    ref = qg.reference(_load(tiny_dir), tok, cases, stops, 1.1)
    metrics = qg.measure(lean, tok, cases, ref, stops, repetition_penalty=1.1)  # generate + teacher forcing
    # int8 groups of 32 with fp32 activations stay very close to fp32 on the tiny model
    assert metrics.prompts == 3 and metrics.token_agreement >= 0.9 and metrics.logprob_shift < 0.05
    assert not qg.judge(metrics, qg.Tolerance())


def test_auto_skips_int8_lean_where_it_cannot_run(
    tiny_dir: Path,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cache_dir = backends.serving_dir(tmp_path, str(tiny_dir), None)
    qg.write_result(cache_dir, "int8-lean", _metrics())
    qg.write_result(cache_dir, "int4-weight-only", _metrics(token_agreement=0.31))
    qg.write_result(cache_dir, "bf16", _metrics())
    monkeypatch.setenv("CXX", "no-such-compiler")
    with mock.patch("transformers.AutoTokenizer.from_pretrained", return_value=CharTokenizer()):
        served = backends.prepare_serving(
            tmp_path, str(tiny_dir), None, "auto", lambda: (None, None), kernel_dir=tmp_path
        )
        assert served.backend == "bf16"
        with pytest.raises(backends.BackendRefused, match=r"int8-lean cannot run here: .*no C\+\+ compiler"):
            backends.prepare_serving(
                tmp_path, str(tiny_dir), None, "int8-lean", lambda: (None, None), kernel_dir=tmp_path
            )


# --- the real model -----------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_int8_lean_serves_smollm2_streams_and_batches_concurrent_chats(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading
    import time

    from chatbot.generation.continuous import ContinuousBatcher
    from chatbot.generation.hf import HFGenerator
    from chatbot.model_loading import llm_source
    from chatbot.protocols import Generation
    from tests.conftest import make_settings

    base = llm_source(make_settings(tmp_path, llm_model="builtin:smollm2-135m-instruct"))  # converted once, shared
    # a serving cache of its own, so the guard is measured here (on 3 prompts) and not read from another run
    settings = make_settings(
        tmp_path, llm_model=base, model_cache_dir=tmp_path / "models", inference_backend="int8-lean"
    )
    monkeypatch.setattr(qg, "GUARD_PROMPTS", 3)
    generator = HFGenerator(settings)
    assert generator.backend == "int8-lean" and isinstance(generator.model, LeanModel)
    m = generator.guard.metrics
    assert generator.guard.passed and m.prompts == 3 and m.token_agreement >= 0.85 and m.logprob_shift <= 0.25

    pieces = list(generator.stream([{"role": "user", "content": "How do I top up my account?"}], max_new_tokens=12))
    final = pieces[-1]
    assert isinstance(final, Generation) and 0 < len(final.token_logprobs) <= 12
    assert "".join(p for p in pieces[:-1] if isinstance(p, str)).strip() == final.text
    assert all(lp <= 0 for lp in final.token_logprobs)

    prompts = [[{"role": "user", "content": q}] for q in ("Say hello.", "Name a colour.", "Count to three.")]
    alone = [generator.generate(p, max_new_tokens=8) for p in prompts]
    results: dict[int, Any] = {}
    batcher = generator.batcher
    assert isinstance(batcher, ContinuousBatcher)  # int8-lean's default scheduler
    threads = [
        threading.Thread(target=lambda i=i: results.update({i: generator.generate(prompts[i], max_new_tokens=8)}))
        for i in range(3)
    ]
    with batcher._lock:  # the worker takes waiting chats under the model's lock: all three are admitted together
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 60
        while len(batcher._pending) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
    for thread in threads:
        thread.join(120)
    assert max(batcher.step_rows) == 3  # three chats, each with its own cache, in one C++ decode step
    assert batcher.reused_tokens > 0  # the chat template's shared beginning was read once
    for i, single in enumerate(alone):
        assert results[i].text == single.text
        assert results[i].token_logprobs == pytest.approx(single.token_logprobs, abs=1e-3)
