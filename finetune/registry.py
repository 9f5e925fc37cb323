"""Model registry lookups: which LoRA adapter is in production."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class AdapterRef:
    version: str
    path: Path


def production_adapter(app: Any) -> AdapterRef | None:
    """The production adapter recorded in the database, or None to serve the base model."""
    from chatbot.db import crud

    with app.session() as session:
        row = crud.production_model(session=session)
    if row is None:
        return None
    return AdapterRef(version=row.version, path=Path(row.adapter_path))
