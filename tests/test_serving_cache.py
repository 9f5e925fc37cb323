"""Serving-cache pruning: the most recently used adapter folders stay, the rest go, nothing else is touched."""

from __future__ import annotations

import os
import time
from pathlib import Path

from chatbot.generation import serving_cache


def _folder(root: Path, name: str, age_s: float) -> Path:
    folder = root / name
    (folder / "merged").mkdir(parents=True)
    (folder / "merged" / "model.safetensors").write_bytes(b"x")
    stamp = time.time() - age_s
    os.utime(folder, (stamp, stamp))
    return folder


def test_keeps_the_most_recently_used_and_the_one_in_use(tmp_path: Path) -> None:
    root = tmp_path / "serving"
    newest = _folder(root, "v7-0123456789-a3-aaaa", 10)
    second = _folder(root, "v7-0123456789-a2-bbbb", 20)
    old = _folder(root, "v7-0123456789-a1-cccc", 30)
    oldest_format = _folder(root, "v6-0123456789-base", 5)  # recent but an old cache format: still just a cache
    in_use = _folder(root, "v7-0123456789-base", 1_000)  # the one being served now, even if its stamp is old
    stranger = root / "notes"  # not named like a cache folder: never deleted
    stranger.mkdir()
    deleted = serving_cache.prune(root, in_use=in_use, keep=3)
    assert sorted(p.name for p in deleted) == sorted([old.name, second.name])
    assert sorted(p.name for p in root.iterdir()) == sorted([in_use.name, oldest_format.name, newest.name, "notes"])


def test_mark_used_makes_a_folder_the_most_recent(tmp_path: Path) -> None:
    root = tmp_path / "serving"
    a = _folder(root, "v7-0123456789-a1-aaaa", 100)
    b = _folder(root, "v7-0123456789-a2-bbbb", 50)
    serving_cache.mark_used(a)
    c = _folder(root, "v7-0123456789-a3-cccc", 10)
    assert [p.name for p in serving_cache.prune(root, in_use=c, keep=2)] == [b.name]
    assert a.is_dir() and c.is_dir()


def test_missing_root_is_nothing_to_do(tmp_path: Path) -> None:
    assert serving_cache.prune(tmp_path / "absent", in_use=tmp_path / "absent" / "x") == []
