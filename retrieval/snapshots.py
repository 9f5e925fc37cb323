"""Versioned entries of a Chroma collection: which few-shot examples and example questions each bundle reads.

Every entry carries two integers in its metadata, ``since`` and ``until``: it belongs to the snapshots ``s`` with
``since <= s < until``. A night writes snapshot ``S`` (a number no bundle used before, taken when its bundle row is
recorded) as a diff against the entries still open (``until == OPEN``): an open entry the night no longer wants
gets ``until = S``, a wanted entry that is not open is added with ``since = S``. Older snapshots never change —
closing sets ``until`` to a number above them, adding uses a number above them — so a production bundle keeps
reading exactly its entries while a candidate is written and judged, a rejected candidate is never read, and a
rollback reads the older bundle's entries again. A half-written snapshot (a night killed mid-way) belongs to a
bundle that is never promoted, and the next night's diff still yields exactly the entries it wants.

Entries the nightly job does not manage (``source`` other than ``MANAGED``: labelled CSVs, hand-added examples)
are written with ``since = 0`` and stay open: every snapshot reads them. Entries written before snapshots existed
are tagged that way on first open (``tag_untagged``); snapshot 0 is therefore "before the first bundle".
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

OPEN = 2**31 - 1  # ``until`` of an entry no snapshot has removed yet
MANAGED = "reviews"  # entries the nightly job writes (and may remove) per snapshot
BATCH = 1000


@dataclass(frozen=True)
class SnapshotPlan:
    close: list[str]  # record ids to close at the new snapshot
    add: list[str]  # entry keys to add
    kept: int  # open entries the new snapshot keeps as they are


def visible_at(snapshot: int) -> dict[str, Any]:
    """Chroma ``where`` filter: the entries of one snapshot."""
    return {"$and": [{"since": {"$lte": snapshot}}, {"until": {"$gt": snapshot}}]}


def entry_key(*parts: str) -> str:
    """An entry's identity: the content that matters (an entry whose content changes is a new entry)."""
    return hashlib.sha1("\x1f".join(parts).encode("utf-8")).hexdigest()


def record_id(key: str, since: int) -> str:
    return f"{key}@{since}"


def tags(key: str, since: int, *, source: str = MANAGED) -> dict[str, Any]:
    return {"key": key, "since": since, "until": OPEN, "source": source}


def plan_snapshot(open_records: Mapping[str, str], wanted: Sequence[str]) -> SnapshotPlan:
    """From the open managed entries (record id -> key) and the keys a snapshot wants: what to close and add."""
    wanted_keys = set(wanted)
    open_keys = set(open_records.values())
    close = sorted(rid for rid, key in open_records.items() if key not in wanted_keys)
    add = [key for key in dict.fromkeys(wanted) if key not in open_keys]
    return SnapshotPlan(close=close, add=add, kept=len(open_records) - len(close))


def open_managed(collection: Any) -> dict[str, str]:
    """record id -> key of the managed entries no snapshot has closed."""
    found = collection.get(where={"$and": [{"source": MANAGED}, {"until": OPEN}]}, include=["metadatas"])
    return {rid: str((meta or {}).get("key", "")) for rid, meta in zip(found["ids"], found["metadatas"], strict=True)}


def close_records(collection: Any, record_ids: Sequence[str], snapshot: int) -> None:
    """From ``snapshot`` on these entries are gone (Chroma merges the metadata update into the entry's)."""
    for start in range(0, len(record_ids), BATCH):
        ids = list(record_ids[start : start + BATCH])
        collection.update(ids=ids, metadatas=[{"until": snapshot}] * len(ids))


def tag_untagged(collection: Any, describe: Callable[[str, Mapping[str, Any]], tuple[str, str]]) -> int:
    """Give entries written before snapshots existed ``since = 0`` and ``until = OPEN``; ``describe(document,
    metadata)`` returns their (key, source). Cheap when there is nothing to do (two counts)."""
    total = int(collection.count())
    if total == 0 or len(collection.get(where={"since": {"$gte": 0}}, include=[])["ids"]) == total:
        return 0
    found = collection.get(include=["documents", "metadatas"])
    ids, metadatas = [], []
    for rid, document, meta in zip(found["ids"], found["documents"], found["metadatas"], strict=True):
        meta = dict(meta or {})
        if "since" in meta:
            continue
        key, source = describe(document or "", meta)
        ids.append(rid)
        metadatas.append(tags(key, 0, source=source))
    for start in range(0, len(ids), BATCH):
        collection.update(ids=ids[start : start + BATCH], metadatas=metadatas[start : start + BATCH])
    return len(ids)


def count_visible(collection: Any, snapshot: int) -> int:
    return len(collection.get(where=visible_at(snapshot), include=[])["ids"])
