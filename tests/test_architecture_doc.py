"""docs/architecture.md names modules, classes, functions and folders of the code: every one must exist, so the page
a newcomer reads first cannot drift from the code it describes."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "architecture.md"
PACKAGES = ("chatbot", "retrieval", "finetune", "evals", "ui")
ALTERNATIVES = "|".join(PACKAGES)
DOTTED = re.compile(rf"`((?:{ALTERNATIVES})(?:\.[A-Za-z_][A-Za-z0-9_]*)*)`")
FOLDER = re.compile(rf"`((?:{ALTERNATIVES})/[A-Za-z0-9_/.]*)`")


def dotted_names(text: str) -> list[str]:
    return sorted(set(DOTTED.findall(text)))


def resolve(name: str) -> object:
    """The object a dotted name denotes: the longest importable module prefix, then attributes (no model loads:
    modules import nothing heavy at import time)."""
    parts = name.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            found: object = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attribute in parts[cut:]:
            found = getattr(found, attribute)
        return found
    raise ModuleNotFoundError(name)


def test_the_pattern_finds_names_and_a_missing_one_fails() -> None:
    assert dotted_names("`chatbot.pii.redact` and `finetune.gate` but not `chatbotx.y`") == [
        "chatbot.pii.redact",
        "finetune.gate",
    ]
    with pytest.raises(AttributeError):
        resolve("chatbot.pii.no_such_function")


def test_the_doc_names_many_parts_of_the_code() -> None:
    assert len(dotted_names(DOC.read_text(encoding="utf-8"))) >= 50


@pytest.mark.parametrize("name", dotted_names(DOC.read_text(encoding="utf-8")))
def test_every_dotted_name_exists(name: str) -> None:
    resolve(name)


@pytest.mark.parametrize("folder", sorted(set(FOLDER.findall(DOC.read_text(encoding="utf-8")))))
def test_every_path_exists(folder: str) -> None:
    assert (ROOT / folder).exists(), folder
