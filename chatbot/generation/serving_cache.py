"""Pruning of the serving cache (``models_dir/serving/<key>``): one folder per (base model, adapter version).

Why: each folder holds a merged fp32 copy of the model (~0.5 GB for SmolLM2 with an adapter) and the quantized
weights; the nightly job promotes a new adapter most nights, so without pruning the disk fills by ~0.5 GB a
night. Folders are only caches (everything in them is rebuilt from the base model and the adapter), so the ones
not used recently are deleted. "Used" is the folder's modification time, set each time a process serves from it;
the most recently used ``KEEP`` folders stay, which covers the production adapter, the candidate the nightly
job is evaluating and a rollback target.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)

KEEP = 3
# Only folders named like ``serving_dir`` names them are ever deleted (``v7-<hash>-<adapter>``).
_CACHE_NAME = re.compile(r"^v\d+-[0-9a-f]{10}-.+$")


def mark_used(folder: Path) -> None:
    """Record that ``folder`` is being served from now (its modification time)."""
    folder.mkdir(parents=True, exist_ok=True)
    os.utime(folder)


def prune(serving_root: Path, in_use: Path, keep: int = KEEP) -> list[Path]:
    """Delete all but the ``keep`` most recently used cache folders under ``serving_root``; never ``in_use``.

    Returns the deleted folders. A folder another process deletes first, or one that cannot be deleted, is
    skipped with a warning: pruning never fails a start.
    """
    if not serving_root.is_dir():
        return []
    folders = [p for p in serving_root.iterdir() if p.is_dir() and not p.is_symlink() and _CACHE_NAME.match(p.name)]
    folders.sort(key=_mtime, reverse=True)
    kept = {in_use.resolve()}
    deleted = []
    for folder in folders:
        if folder.resolve() in kept:
            continue
        if len(kept) < keep:
            kept.add(folder.resolve())
            continue
        try:
            shutil.rmtree(folder)
        except OSError as exc:
            log.warning("serving cache: could not delete %s: %s", folder, exc)
            continue
        deleted.append(folder)
        log.info("serving cache: deleted %s (not among the %d most recently used)", folder.name, keep)
    return deleted


def _mtime(folder: Path) -> float:
    try:
        return folder.stat().st_mtime
    except OSError:  # deleted meanwhile by another process
        return 0.0


def atomic_dir(target: Path, write: Callable[[Path], None]) -> None:
    """Write a folder under a temporary name and rename it into place: a crash leaves no half-written cache."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        write(tmp)
        os.replace(tmp, target)
    except OSError:
        if not target.exists():
            raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def atomic_file(target: Path, write: Callable[[Path], None]) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}-", dir=target.parent)
    os.close(fd)
    try:
        write(Path(name))
        os.replace(name, target)
    finally:
        Path(name).unlink(missing_ok=True)
