"""Serving back ends for the merged LLM: dtype or torchao weight-only quantization, plus static KV cache + compile.

Why: at 135M parameters on 2 CPU cores the fixed per-token overhead (Python dispatch, many small kernels) and the
bytes of weights read per token limit decoding, not FLOPs. bf16 halves the bytes, torchao's int4 weight-only
(groups of 32, PyTorch's ``_weight_int4pack_mm_for_cpu`` kernel) quarters them again, and a static KV cache lets
``torch.compile`` fuse each decode step into a few kernels. The quantized back ends run bf16 activations: PyTorch's
CPU int4 kernel has a fast path for bf16 inputs only — with fp32 activations one 576→1536 projection took 366 ms
at prefill and 1.0 ms at decode vs 5.4 ms / 0.06 ms with bf16 (``benchmarks/linear_kernels.py``, 2026-11-21), so
keeping fp32 activations for quality is not an option. Measurements: docs/inference.md.

Everything is cached on disk per (base model, adapter version, adapter weights) under
``settings.models_dir / "serving" / <key>`` so a restart or an adapter switch costs seconds, not minutes:

  merged/               base + adapter merged (``merge_and_unload``), fp32 safetensors + tokenizer (with no
                        adapter the base model's own folder serves)
  <backend>.pt          the quantized state dict (int4: plain tensors; int8: torchao's tensor subclasses, which
                        are not all safetensors-serialisable; ``torch.load(weights_only=True)`` reads both
                        safely); quantizing takes ~15-80 s on this machine, loading it ~1 s
  guard/…json           quality-guard results (chatbot.generation.quality_guard)
  inductor/             torch.compile's kernel cache (TORCHINDUCTOR_CACHE_DIR), so a restart recompiles fast

Only the most recently used folders are kept (``serving_cache``: ~0.5 GB each, a new adapter most nights).
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chatbot.errors import BankbotError
from chatbot.generation import serving_cache
from chatbot.generation.fast_path import FastPath, use_compile_cache

log = logging.getLogger(__name__)

BACKENDS = ("fp32", "bf16", "int8-lean", "int8-weight-only", "int4-weight-only")
# Fastest first; ``auto`` serves the first of these that passes the quality guard (and can run here: int8-lean
# needs a C++ compiler and a Llama-architecture model), plain fp32 when none does. int8-lean comes first: on an AVX2
# machine (2026-12-01) it decoded at 48 tok/s against ~20 for int4 (whose CPU kernel is fast with AVX512 only).
# int8-weight-only is not a candidate: measured 12.8 s per 96-token answer with compile (decode 8.9 tok/s) against
# ~6 s for plain fp32 on this CPU (benchmarks/inference.py, 2026-11-21) — it passes the guard but is slower.
SPEED_ORDER = ("int8-lean", "int4-weight-only", "bf16")
# Served by bankbot's own int8 decoder and generation loop (lean_decoder.py, lean_generate.py), not by transformers.
LEAN = ("int8-lean",)
QUANTIZED = ("int8-weight-only", "int4-weight-only")
INT4_GROUP_SIZE = 32
# Compiled back ends read the prompt with PyTorch's fused SDPA kernel and decode with grouped-query matmuls that
# torch.compile fuses well (chatbot/generation/attention.py says why).
CACHE_FORMAT = "v10"  # bump when the layout or the conversion changes: old cache folders are then ignored
# Activation (compute) dtype per back end; weights of the quantized ones are int8/int4 either way. int4 with fp32
# activations was tried (v2) and is ~60-130x slower per projection on CPU: the int4 kernel is fast for bf16 only.
ACTIVATIONS = {
    "fp32": "fp32",
    "bf16": "bf16",
    "int8-lean": "fp32",
    "int8-weight-only": "bf16",
    "int4-weight-only": "bf16",
}
# Back ends whose output projection stays at 8 bits while the other linear layers are quantized further, as in
# llama.cpp's Q4_1 file of the same model (its token_embd is Q8_0): at 4 bits the output projection alone dropped
# the quality guard's ROUGE-L vs fp32 from 0.60 to 0.39 on SmolLM2 (docs/inference.md).
INT8_HEAD = ("int4-weight-only",)
# Back ends that read the prompt with the bf16 weights and decode with the quantized ones (dense_prefill.py):
# PyTorch's CPU int4 kernel is slow for many rows (first token 0.95 s vs 0.50 s in bf16 for a 426-token prompt).
DENSE_PREFILL = ("int4-weight-only",)

BuildMerged = Callable[[], tuple[Any, Any]]


class BackendRefused(BankbotError):
    """The requested inference back end failed the quality guard or cannot run here."""


# --- cache location -----------------------------------------------------------------------------------------------
def adapter_fingerprint(adapter: Any) -> str:
    """Version plus a hash of the adapter's weights: a re-trained adapter reusing a version string is not confused."""
    if adapter is None:
        return "base"
    digest = hashlib.sha256()
    for name in ("adapter_model.safetensors", "adapter_model.bin", "adapter_config.json"):
        path = Path(adapter.path) / name
        if path.is_file():
            digest.update(name.encode())
            digest.update(path.read_bytes())
    safe_version = "".join(c if c.isalnum() or c in "-_." else "_" for c in str(adapter.version))
    return f"{safe_version}-{digest.hexdigest()[:12]}"


def serving_dir(models_dir: Path, base_source: str, adapter: Any) -> Path:
    base = hashlib.sha256(str(base_source).encode()).hexdigest()[:10]
    return Path(models_dir) / "serving" / f"{CACHE_FORMAT}-{base}-{adapter_fingerprint(adapter)}"


# --- merged fp32 model --------------------------------------------------------------------------------------------
def merged_dir(cache_dir: Path, build: BuildMerged) -> Path:
    """Folder of the merged fp32 model, building (and caching) it with ``build`` the first time."""
    folder = cache_dir / "merged"
    if (folder / "config.json").is_file():
        return folder
    model, tokenizer = build()

    def write(tmp: Path) -> None:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)

    serving_cache.atomic_dir(folder, write)
    return folder


def load_merged(folder: Path, dtype: str = "fp32") -> tuple[Any, Any]:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch_dtype = torch.bfloat16 if dtype == "bf16" else torch.float32
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch_dtype).eval()
    tokenizer = AutoTokenizer.from_pretrained(folder)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return model, tokenizer


# --- conversion ---------------------------------------------------------------------------------------------------
def torchao_config(backend: str) -> Any:
    """The maintained torchao weight-only config for the int8 back end (int4 quantizes with torchao too, but serves
    through ``int4_linear.Int4WeightOnlyLinear``: see that module for why)."""
    if backend == "int8-weight-only":
        from torchao.quantization import Int8WeightOnlyConfig

        return Int8WeightOnlyConfig()
    raise ValueError(f"{backend} has no torchao config here")


def convert(model: Any, backend: str) -> Any:
    """Apply ``backend`` to a merged model in place and return it: the activation dtype (``ACTIVATIONS``), then
    torchao weight-only quantization for the quantized back ends."""
    import torch

    if backend not in BACKENDS:
        raise BackendRefused(f"BANKBOT_INFERENCE_BACKEND={backend}: unknown (one of auto, {', '.join(BACKENDS)})")
    if ACTIVATIONS[backend] == "fp32":
        model = model.float()
    elif model.dtype != torch.bfloat16:
        # Cast parameters only: buffers such as RoPE's inv_freq stay fp32, as from_pretrained(dtype=bf16) keeps
        # them (a bf16 inv_freq shifts every position's rotation and costs quality).
        for param in model.parameters():
            param.data = param.data.to(torch.bfloat16)
    model = model.eval()
    if backend in QUANTIZED:
        from torchao.quantization import quantize_

        _untie_lm_head(model)  # the output projection is ~20% of the weights: quantize it, keep the embedding exact
        head = model.get_output_embeddings()
        int8_head = backend in INT8_HEAD and head is not None
        keep = head if int8_head else None  # quantized separately below
        targets = _linears(model, skip=keep)
        if backend == "int4-weight-only":
            _to_int4(model, targets, quantize=True, dense=backend in DENSE_PREFILL)
        else:
            ids = {id(m) for m in targets}
            quantize_(model, torchao_config(backend), filter_fn=lambda m, _: id(m) in ids)
        if int8_head:
            from chatbot.generation.int8_linear import Int8WeightOnlyLinear

            model.set_output_embeddings(Int8WeightOnlyLinear.from_linear(head, torch.bfloat16))
    return model


def _linears(model: Any, skip: Any = None) -> list[Any]:
    """The model's ``nn.Linear`` layers except ``skip``: what a quantized back end quantizes."""
    import torch

    return [m for m in model.modules() if isinstance(m, torch.nn.Linear) and m is not skip]


def _to_int4(model: Any, layers: list[Any], *, quantize: bool, dense: bool) -> None:
    """Replace ``layers`` by ``Int4WeightOnlyLinear`` modules: quantized from their weights, or empty ones for a
    cached state dict to fill. With ``dense`` each keeps its bf16 weight for prompts (``DensePrefillLinear``)."""
    from chatbot.generation.dense_prefill import DensePrefillLinear
    from chatbot.generation.int4_linear import Int4WeightOnlyLinear

    def replacement(linear: Any) -> Any:
        if quantize:
            int4 = Int4WeightOnlyLinear.from_linear(linear, INT4_GROUP_SIZE, linear.weight.dtype)
        else:
            shape = (linear.in_features, linear.out_features, INT4_GROUP_SIZE, linear.weight.dtype, linear.bias)
            int4 = Int4WeightOnlyLinear(*shape)
        return DensePrefillLinear(int4, linear.weight.detach()) if dense else int4

    wanted = {id(m) for m in layers}
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if id(child) in wanted:
                setattr(parent, name, replacement(child))


def _untie_lm_head(model: Any) -> None:
    import torch

    head = model.get_output_embeddings()
    if head is not None and head.weight is model.get_input_embeddings().weight:
        head.weight = torch.nn.Parameter(head.weight.detach().clone(), requires_grad=False)
        model.config.tie_word_embeddings = False


def load_backend(cache_dir: Path, backend: str, merged: Path, kernel_dir: Path | None = None) -> tuple[Any, Any]:
    """(model, tokenizer) converted to ``backend`` from the merged fp32 folder, quantized weights from the cache;
    ``kernel_dir``: where int8-lean's native kernel is built (default ``cpu_kernels.DEFAULT_DIR``)."""
    import torch

    if backend == "fp32":
        return load_merged(merged)
    if backend in LEAN:
        from chatbot.generation.cpu_kernels import KernelUnavailable
        from chatbot.generation.lean_decoder import UnsupportedModel
        from chatbot.generation.lean_generate import load_lean

        try:
            return load_lean(merged, kernel_dir)
        except (KernelUnavailable, UnsupportedModel) as exc:
            raise BackendRefused(f"BANKBOT_INFERENCE_BACKEND=int8-lean cannot run here: {exc}") from exc
    model, tokenizer = load_merged(merged, dtype=ACTIVATIONS[backend])
    weights = cache_dir / f"{backend}.pt"
    if backend in QUANTIZED and weights.is_file():
        import torchao.quantization  # noqa: F401  (registers torchao's int8 tensors as safe to load)

        _untie_lm_head(model)
        head = model.get_output_embeddings()
        if backend in INT8_HEAD:  # the module the cached int8 head is loaded into
            from chatbot.generation.int8_linear import Int8WeightOnlyLinear

            model.set_output_embeddings(Int8WeightOnlyLinear(head.in_features, head.out_features, torch.bfloat16))
        dense_keys: set[str] = set()
        if backend == "int4-weight-only":  # empty int4 modules for the cache to fill; prompts keep the bf16 weights
            from chatbot.generation import dense_prefill

            _to_int4(model, _linears(model, skip=head), quantize=False, dense=backend in DENSE_PREFILL)
            dense_keys = {k for k in model.state_dict() if k.endswith(f".{dense_prefill.DENSE}")}
        state = torch.load(weights, weights_only=True)
        # replaces the bf16 weights by the cached quantized ones
        missing, unexpected = model.load_state_dict(state, assign=True, strict=False)
        if set(missing) != dense_keys or unexpected:
            raise BackendRefused(
                f"{weights} does not match the model (missing {missing[:3]}, unexpected "
                f"{unexpected[:3]}); delete it to quantize again"
            )
    else:
        started = time.perf_counter()
        model = convert(model, backend)
        if backend in QUANTIZED:
            from chatbot.generation.dense_prefill import without_dense

            serving_cache.atomic_file(weights, lambda tmp: torch.save(without_dense(model.state_dict()), tmp))
            log.info("quantized to %s in %.0f s (cached in %s)", backend, time.perf_counter() - started, weights)
    from chatbot.generation import attention

    model.set_attn_implementation(attention.register())
    return model.eval(), tokenizer


# --- choosing and guarding the back end ---------------------------------------------------------------------------
@dataclass
class Served:
    """What the generator serves: the converted model, which back end it is, how to call generate fast."""

    model: Any
    tokenizer: Any
    backend: str
    fast_path: FastPath
    cache_dir: Path
    guard: Any = None  # quality_guard.GuardResult of the served back end (None for fp32, the reference)


def stop_ids(model: Any, tokenizer: Any) -> list[int]:
    """End-of-answer tokens: the configured eos ids plus ChatML's <|im_end|>."""
    ids: set[int] = set()
    configured = model.generation_config.eos_token_id
    ids.update([configured] if isinstance(configured, int) else list(configured or []))
    if tokenizer.eos_token_id is not None:
        ids.add(tokenizer.eos_token_id)
    im_end = tokenizer.convert_tokens_to_ids("<|im_end|>")
    if isinstance(im_end, int) and im_end != tokenizer.unk_token_id:
        ids.add(im_end)
    return sorted(ids)


def guard_backend(
    cache_dir: Path,
    backend: str,
    merged: Path,
    *,
    repetition_penalty: float,
    tolerance: Any = None,
    n: int = 0,
    kernel_dir: Path | None = None,
) -> Any:
    """The quality-guard result of ``backend`` for this adapter: from the cache, or measured (and cached) now."""
    from chatbot.generation import quality_guard as qg

    tolerance = tolerance or qg.Tolerance()
    cached = qg.read_result(cache_dir, backend, tolerance)
    if cached is not None:
        return cached
    log.info("quality guard: checking %s against fp32 (once per adapter version)", backend)
    reference_model, tokenizer = load_backend(cache_dir, "fp32", merged)
    stops = stop_ids(reference_model, tokenizer)
    cases = qg.guard_cases(lambda text: len(tokenizer.encode(text, add_special_tokens=False)), n or qg.GUARD_PROMPTS)
    ref = qg.read_reference(cache_dir)
    if ref is None or len(ref.answers) != len(cases):
        ref = qg.reference(reference_model, tokenizer, cases, stops, repetition_penalty)
        qg.write_reference(cache_dir, ref)
    del reference_model
    candidate, _ = load_backend(cache_dir, backend, merged, kernel_dir)
    metrics = qg.measure(candidate, tokenizer, cases, ref, stops, repetition_penalty=repetition_penalty)
    qg.write_result(cache_dir, backend, metrics)
    result = qg.GuardResult(backend=backend, metrics=metrics, failures=qg.judge(metrics, tolerance))
    log.info("quality guard: %s", result.summary())
    return result


def prepare_serving(
    models_dir: Path,
    base_source: str,
    adapter: Any,
    requested: str,
    build: BuildMerged,
    *,
    repetition_penalty: float = 1.1,
    tolerance: Any = None,
    kernel_dir: Path | None = None,
) -> Served:
    """Merge (cached), pick the back end (``auto``: fastest that passes the guard), convert (cached).

    An explicitly requested back end that fails the guard is refused with the guard's numbers in the message.
    """
    cache_dir = serving_dir(models_dir, base_source, adapter)
    if requested != "auto" and requested not in BACKENDS:
        raise BackendRefused(f"BANKBOT_INFERENCE_BACKEND={requested}: unknown (one of auto, {', '.join(BACKENDS)})")
    base_dir = Path(base_source)
    if requested == "fp32" and adapter is None:  # the reference itself: plain eager generate, nothing to convert
        model, tokenizer = build()
        return Served(model, tokenizer, "fp32", FastPath(model, enabled=False), cache_dir)
    serving_cache.mark_used(cache_dir)  # then keep only the most recently used adapters' folders on disk
    serving_cache.prune(cache_dir.parent, in_use=cache_dir)
    # The base model needs no merged copy: its own folder is the merged model.
    merged = base_dir if adapter is None and (base_dir / "config.json").is_file() else merged_dir(cache_dir, build)
    if requested == "fp32":
        model, tokenizer = load_merged(merged)
        return Served(model, tokenizer, "fp32", FastPath(model, enabled=False), cache_dir)
    use_compile_cache(models_dir)
    candidates = SPEED_ORDER if requested == "auto" else (requested,)
    for backend in candidates:
        try:
            result = guard_backend(
                cache_dir,
                backend,
                merged,
                repetition_penalty=repetition_penalty,
                tolerance=tolerance,
                kernel_dir=kernel_dir,
            )
            if result.passed:
                model, tokenizer = load_backend(cache_dir, backend, merged, kernel_dir)
                fast_path = FastPath(model, enabled=backend not in LEAN)  # the lean loop compiles nothing
                return Served(model, tokenizer, backend, fast_path, cache_dir, guard=result)
        except BackendRefused as exc:  # cannot run on this machine or model (e.g. no C++ compiler)
            if requested != "auto":
                raise
            log.warning("%s; trying the next back end", exc)
            continue
        if requested != "auto":
            raise BackendRefused(
                f"BANKBOT_INFERENCE_BACKEND={backend} refused by the quality guard: {result.summary()}. "
                "Use auto (fastest back end that passes) or fp32."
            )
        log.warning("quality guard: %s; trying the next back end", result.summary())
    model, tokenizer = load_backend(cache_dir, "fp32", merged)
    return Served(model, tokenizer, "fp32", FastPath(model, enabled=False), cache_dir)
