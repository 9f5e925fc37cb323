"""Writing a transformers Llama causal LM as a GGUF file llama.cpp loads.

The hyperparameters come from the model's config; the tokenizer and chat template are copied from the base model's
GGUF file, so llama.cpp tokenizes exactly as it does for that file. Quantizing and caching the served file is
``chatbot.generation.gguf_export``.
"""

from __future__ import annotations

import functools
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from chatbot.errors import BankbotError


class GGUFExportUnsupported(BankbotError):
    """The configured model cannot be exported to GGUF here (architecture, settings or missing base GGUF)."""


# --- the model's tensors and hyperparameters -----------------------------------------------------------------------
def write_gguf(model: Any, out_path: Path, *, metadata_from: Path, file_type: str = "F32") -> None:
    """Write a transformers Llama causal LM as a GGUF file llama.cpp loads, atomically.

    Hyperparameters come from ``model.config``; the tokenizer and chat template from the GGUF ``metadata_from``.
    """
    import gguf

    if file_type not in ("F32", "F16"):
        raise GGUFExportUnsupported(f"GGUF export writes F32 or F16, not {file_type}; quantize_gguf does the rest")
    config = model.config
    _check_supported(config)
    stat = Path(metadata_from).stat()  # size and mtime are part of the cache key: a replaced file is read again
    tokenizer_fields, base_has_output = _read_base_metadata(str(metadata_from), stat.st_size, stat.st_mtime_ns)
    tensors = _gguf_tensors(model, base_has_output)
    n_tokens = len(next(value for key, value, *_ in tokenizer_fields if key == "tokenizer.ggml.tokens"))
    if tensors["token_embd.weight"].shape[0] != n_tokens:
        raise GGUFExportUnsupported(
            f"the model has {tensors['token_embd.weight'].shape[0]} token embeddings but the tokenizer of "
            f"{Path(metadata_from).name} has {n_tokens} tokens"
        )

    def write(tmp: Path) -> None:
        writer = gguf.GGUFWriter(tmp, gguf.MODEL_ARCH_NAMES[gguf.MODEL_ARCH.LLAMA])
        _add_hyperparameters(writer, config, file_type)
        for key, value, value_type, sub_type in tokenizer_fields:
            writer.add_key_value(key, value, value_type, sub_type)
        for name, array in tensors.items():
            # llama.cpp wants norms (1-D) in F32 whatever the file type
            writer.add_tensor(name, array.astype("float16") if file_type == "F16" and array.ndim > 1 else array)
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
        writer.close()

    atomic_file(Path(out_path), write)


def _check_supported(config: Any) -> None:
    if config.model_type != "llama":
        raise GGUFExportUnsupported(f"GGUF export supports Llama-architecture models, not {config.model_type!r}")
    rope = getattr(config, "rope_parameters", None) or getattr(config, "rope_scaling", None) or {}
    if rope.get("rope_type", "default") != "default":
        raise GGUFExportUnsupported(f"GGUF export does not support rope scaling {rope.get('rope_type')!r}")
    if getattr(config, "hidden_act", "silu") != "silu":
        raise GGUFExportUnsupported(f"GGUF export supports the silu activation of Llama, not {config.hidden_act!r}")


def _add_hyperparameters(writer: Any, config: Any, file_type: str) -> None:
    import gguf

    rope = getattr(config, "rope_parameters", None) or {}
    head_dim = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads
    writer.add_context_length(config.max_position_embeddings)
    writer.add_embedding_length(config.hidden_size)
    writer.add_block_count(config.num_hidden_layers)
    writer.add_feed_forward_length(config.intermediate_size)
    writer.add_head_count(config.num_attention_heads)
    writer.add_head_count_kv(config.num_key_value_heads or config.num_attention_heads)
    writer.add_rope_freq_base(float(rope.get("rope_theta", getattr(config, "rope_theta", 10000.0))))
    writer.add_layer_norm_rms_eps(float(config.rms_norm_eps))
    writer.add_rope_dimension_count(head_dim)
    if head_dim * config.num_attention_heads != config.hidden_size:
        writer.add_key_length(head_dim)
        writer.add_value_length(head_dim)
    writer.add_vocab_size(config.vocab_size)
    ftype = gguf.LlamaFileType.ALL_F32 if file_type == "F32" else gguf.LlamaFileType.MOSTLY_F16
    writer.add_file_type(int(ftype))


def _gguf_tensors(model: Any, base_has_output: bool) -> dict[str, Any]:
    """GGUF name → float32 numpy array, q/k rows in llama.cpp's rotary layout, names from gguf's own tables."""
    import gguf
    import torch

    config = model.config
    names = gguf.get_tensor_name_map(gguf.MODEL_ARCH.LLAMA, config.num_hidden_layers)
    n_heads = config.num_attention_heads
    n_kv_heads = config.num_key_value_heads or n_heads
    state = model.state_dict()
    embedding = state["model.embed_tokens.weight"]
    # A tied head is the embedding itself; llama.cpp reuses token_embd when output.weight is absent.
    tied = "lm_head.weight" not in state or torch.equal(state["lm_head.weight"], embedding)
    tensors: dict[str, Any] = {}
    for hf_name, tensor in state.items():
        if hf_name == "lm_head.weight" and tied and not base_has_output:
            continue
        name = names.get_name(hf_name, try_suffixes=(".weight", ".bias"))
        if name is None:
            raise GGUFExportUnsupported(f"GGUF export: no llama.cpp name for the tensor {hf_name!r}")
        array = tensor.detach().to(device="cpu", dtype=torch.float32).numpy()
        if hf_name.endswith(("q_proj.weight", "q_proj.bias")):
            array = rope_permute(array, n_heads)
        elif hf_name.endswith(("k_proj.weight", "k_proj.bias")):
            array = rope_permute(array, n_kv_heads)
        tensors[name] = array
    return tensors


def rope_permute(weights: Any, n_heads: int) -> Any:
    """transformers' q/k rows (rotary halves per head) → llama.cpp's (interleaved pairs per head).

    The same reshape as llama.cpp's convert_hf_to_gguf.py ``LlamaModel.permute``.
    """
    shape = weights.shape
    return weights.reshape(n_heads, 2, shape[0] // n_heads // 2, *shape[1:]).swapaxes(1, 2).reshape(shape).copy()


@functools.lru_cache(maxsize=2)
def _read_base_metadata(path: str, size: int, mtime_ns: int) -> tuple[list[tuple[str, Any, Any, Any]], bool]:
    """(every ``tokenizer.*`` field as (key, value, type, array item type), whether output.weight is present)."""
    import gguf
    import numpy as np

    reader = gguf.GGUFReader(path)
    fields = []
    for key, field in reader.fields.items():
        if not key.startswith("tokenizer."):
            continue
        value_type, sub_type = field.types[0], None
        if value_type == gguf.GGUFValueType.ARRAY:
            if len(field.types) != 2:
                raise GGUFExportUnsupported(f"{Path(path).name}: cannot copy the nested array {key}")
            sub_type = field.types[1]
            if sub_type == gguf.GGUFValueType.STRING:
                # raw bytes: a token need not be valid UTF-8 on its own
                value: Any = [field.parts[i].tobytes() for i in field.data]
            else:
                value = np.concatenate([field.parts[i] for i in field.data]).tolist()
        elif value_type == gguf.GGUFValueType.STRING:
            value = field.parts[field.data[0]].tobytes()
        else:
            value = field.parts[field.data[0]].tolist()[0]
        fields.append((key, value, value_type, sub_type))
    if not any(key == "tokenizer.ggml.tokens" for key, *_ in fields):
        raise GGUFExportUnsupported(f"{Path(path).name} has no tokenizer (tokenizer.ggml.tokens)")
    has_output = any(tensor.name == "output.weight" for tensor in reader.tensors)
    return fields, has_output


# --- files ---------------------------------------------------------------------------------------------------------
def atomic_file(target: Path, write: Callable[[Path], None]) -> None:
    """Write under a temporary name in the same folder, then rename: a crash never leaves a partial file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}-", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        write(Path(name))
        os.replace(name, target)
    finally:
        Path(name).unlink(missing_ok=True)
