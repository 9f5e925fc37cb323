"""Paths of shared artifacts (LoRA adapters, fine-tuned embedders) as SQL stores them: relative to the artifact root.

Replicas on several hosts share one database and mount one volume, each possibly at another path
(``settings.effective_artifact_root``). A path stored relative to the root, in posix style, names the same folder on
every one of them; an absolute path would name a folder of one host only. Absolute paths written by older releases
are still honoured when read.

Pure: paths are normalised lexically (``..`` collapsed, symlinks not followed) and nothing is read from disk, so the
result depends only on the arguments (and, for a relative root, on the working directory, as every path does).
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath
from typing import Any

from chatbot.errors import BankbotError


class ArtifactPathError(BankbotError):
    """A path that cannot be stored relative to the artifact root, or a stored reference that climbs out of it."""


def _absolute(path: str | os.PathLike[str]) -> Path:
    return Path(os.path.normpath(os.path.abspath(os.fspath(path))))


def artifact_root(settings: Any) -> Path:
    """The absolute, normalised artifact root of ``settings``."""
    return _absolute(settings.effective_artifact_root)


def relative_under(root: str | os.PathLike[str], path: str | os.PathLike[str]) -> str | None:
    """``path`` relative to ``root`` in posix style, or None when it does not lie strictly under ``root``.

    A relative ``path`` is taken relative to the working directory (how a process opens it), not to ``root``."""
    absolute_root, absolute_path = _absolute(root), _absolute(path)
    if absolute_path == absolute_root or not absolute_path.is_relative_to(absolute_root):
        return None
    return absolute_path.relative_to(absolute_root).as_posix()


def to_artifact_ref(settings: Any, path: str | os.PathLike[str]) -> str:
    """What SQL stores for the artifact at ``path``: its path relative to the artifact root, posix style.

    Refuses a path outside the root: another replica could not open it."""
    root = artifact_root(settings)
    ref = relative_under(root, path)
    if ref is None:
        raise ArtifactPathError(
            f"{os.fspath(path)} is not inside the artifact root {root} (BANKBOT_ARTIFACT_ROOT, default the data dir): "
            "other replicas could not open it; write it under the root"
        )
    return ref


def resolve_artifact(settings: Any, ref: str) -> Path:
    """The folder a stored reference names on this host: a relative reference under this host's artifact root, an
    absolute one (written by an older release) as it is. Refuses an empty reference and one that climbs out with
    ``..``."""
    if not ref or not ref.strip():
        raise ArtifactPathError("empty artifact reference")
    posix = PurePosixPath(ref)
    if posix.is_absolute():
        return Path(ref)
    if ".." in posix.parts:
        raise ArtifactPathError(f"artifact reference {ref!r} climbs out of the artifact root ('..')")
    return artifact_root(settings).joinpath(*posix.parts)
