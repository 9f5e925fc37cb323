"""bankbot's own CPU kernel (``kernels/int8_gemv.cpp``), compiled once per machine with PyTorch's C++ extension
builder and cached next to the models.

Why a kernel of our own: docs/inference.md ("AVX2 machines") and the header of the C++ file. It is built with
``-march=native``, so the build folder is keyed by the CPU's instruction-set flags as well as the source and the
torch version: a cache folder shared with a machine of another kind is never loaded there. Building takes about a
minute (most of it compiling PyTorch's headers) and needs a C++ compiler, which torch.compile needs too.
"""

from __future__ import annotations

import hashlib
import logging
import os
import platform
import shutil
import threading
from pathlib import Path
from typing import Any

from chatbot.errors import BankbotError

log = logging.getLogger(__name__)

SOURCE = Path(__file__).with_name("kernels") / "int8_gemv.cpp"
DEFAULT_DIR = Path("~/.cache/bankbot/kernels").expanduser()  # settings.kernel_cache_dir's default
_lock = threading.Lock()
_loaded: dict[Path, Any] = {}


class KernelUnavailable(BankbotError):
    """The native kernel cannot be built or loaded on this machine."""


def cpu_flags() -> str:
    """The CPU's instruction-set flags (Linux), else the processor name: what ``-march=native`` compiles for."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith(("flags", "Features")):
                return " ".join(sorted(line.split(":", 1)[1].split()))
    except OSError:
        pass
    return platform.processor() or platform.machine()


def build_key() -> str:
    import torch

    digest = hashlib.sha256()
    for part in (SOURCE.read_bytes(), cpu_flags().encode(), torch.__version__.encode(), platform.machine().encode()):
        digest.update(part)
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def load(build_root: Path) -> Any:
    """The compiled extension module (``int8_gemv``), built under ``build_root`` the first time."""
    folder = Path(build_root) / f"int8_gemv-{build_key()}"
    with _lock:
        if folder in _loaded:
            return _loaded[folder]
        compiler = os.environ.get("CXX", "c++")
        if shutil.which(compiler) is None:
            raise KernelUnavailable(
                f"the int8-lean back end compiles a small C++ kernel and no C++ compiler ({compiler}) was found: "
                "install g++ (Debian: apt-get install g++) or use another back end"
            )
        from torch.utils.cpp_extension import load as load_extension

        folder.mkdir(parents=True, exist_ok=True)
        if not any(folder.glob("*.so")):
            log.info("building the int8 CPU kernel in %s (once per machine, about a minute)", folder)
        try:
            module = load_extension(
                name=f"bankbot_int8_gemv_{build_key()}",
                sources=[str(SOURCE)],
                extra_cflags=["-O3", "-march=native", "-fopenmp"],
                build_directory=str(folder),
                verbose=False,
            )
        except (RuntimeError, OSError, ImportError) as exc:
            raise KernelUnavailable(f"the int8 CPU kernel could not be built in {folder}: {exc}") from exc
        _loaded[folder] = module
        return module
