"""The layer contract in pyproject.toml holds on the repo, breaks on an upward import, and covers every module;
every name docs/architecture.md puts in backticks exists."""

from __future__ import annotations

import importlib
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import grimp
from importlinter.contracts.layers import LayerField

REPO = Path(__file__).resolve().parents[1]
ARCHITECTURE_DOC = REPO / "docs" / "architecture.md"
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
# Building the graph of ~130 modules takes a second alone and a few more beside a CPU-heavy job.
LINT_DEADLINE_S = 300
DOTTED_NAME = re.compile(r"[a-z_]+(?:\.\w+)*(?:\(\))?")
FILE_NAME = re.compile(r"[\w.-]+\.(?:md|py|sh|toml)")


def _importlinter_config() -> dict[str, Any]:
    return tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]


def _layers_contract() -> dict[str, Any]:
    contracts = [c for c in _importlinter_config()["contracts"] if c["type"] == "layers"]
    assert len(contracts) == 1, "pyproject.toml declares one layers contract"
    return contracts[0]


def _layer_modules(contract: dict[str, Any]) -> list[str]:
    # import-linter's own parser, so this test sees the layers exactly as lint-imports does.
    return [tail.name for raw in contract["layers"] for tail in LayerField().parse(raw).module_tails]


def _lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    # lint-imports puts its working directory first on sys.path, so a copy of the packages there is what it reads.
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=LINT_DEADLINE_S,
        check=False,
    )


def test_the_layers_contract_holds_on_the_repo() -> None:
    result = _lint_imports(REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 1 kept, 0 broken." in result.stdout


def test_every_module_sits_in_a_layer() -> None:
    # A module in no layer is checked by nothing; the root packages' own __init__ files import nothing.
    roots = _importlinter_config()["root_packages"]
    layer_modules = _layer_modules(_layers_contract())
    graph = grimp.build_graph(*roots, cache_dir=None)
    outside = sorted(
        module
        for module in graph.modules
        if module not in roots and not any(module == top or module.startswith(top + ".") for top in layer_modules)
    )
    assert outside == []
    for root in roots:
        assert graph.find_modules_directly_imported_by(root) == set()


def _copy_packages(dest: Path) -> None:
    for package in _importlinter_config()["root_packages"]:
        shutil.copytree(REPO / package, dest / package, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    shutil.copy(REPO / "pyproject.toml", dest / "pyproject.toml")


def _import_inside_a_function(path: Path, module: str) -> None:
    code = f"\n\ndef _layer_test_probe() -> None:\n    import {module}  # noqa: F401\n"
    path.write_text(path.read_text(encoding="utf-8") + code, encoding="utf-8")


def test_an_upward_import_inside_a_function_breaks_the_contract(tmp_path: Path) -> None:
    _copy_packages(tmp_path)
    # Foundation reaching up to the UI, and retrieval reaching across to its independent sibling, the LLM engine:
    # both inside functions, where most of the hidden dependencies live.
    _import_inside_a_function(tmp_path / "chatbot" / "settings.py", "ui.server")
    _import_inside_a_function(tmp_path / "retrieval" / "kb.py", "chatbot.generation.fake")
    result = _lint_imports(tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Contracts: 0 kept, 1 broken." in result.stdout
    assert "chatbot.settings is not allowed to import ui" in result.stdout
    assert "- chatbot.settings -> ui.server" in result.stdout
    assert "retrieval is not allowed to import chatbot.generation" in result.stdout
    assert "- retrieval.kb -> chatbot.generation.fake" in result.stdout


def _resolve(dotted: str) -> object:
    """The module, class, function or attribute a dotted name points at; raises if there is none."""
    parts = dotted.removesuffix("()").split(".")
    for split in range(len(parts), 0, -1):
        module_name = ".".join(parts[:split])
        try:
            target: object = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name is not None and module_name.startswith(exc.name):
                continue  # a shorter prefix is the module and the rest are attributes
            raise
        for attribute in parts[split:]:
            target = getattr(target, attribute)
        return target
    raise ModuleNotFoundError(dotted)


def _backticked(text: str) -> list[str]:
    return re.findall(r"`([^`\n]+)`", text)


def test_every_name_in_the_architecture_page_exists() -> None:
    roots = tuple(_importlinter_config()["root_packages"])
    names = _backticked(ARCHITECTURE_DOC.read_text(encoding="utf-8"))
    code_names = [n for n in names if DOTTED_NAME.fullmatch(n) and n.split(".")[0].removesuffix("()") in roots]
    paths = [n for n in names if " " not in n and ("/" in n or FILE_NAME.fullmatch(n))]
    assert len(code_names) >= 40, "the page names the module or function of each layer and step"
    unresolved = []
    for name in code_names:
        try:
            _resolve(name)
        except (ImportError, AttributeError) as exc:
            unresolved.append(f"{name}: {exc}")
    assert unresolved == []
    assert [p for p in paths if not (REPO / p).exists()] == []


def test_the_architecture_page_lists_exactly_the_known_debts() -> None:
    named = {n for n in _backticked(ARCHITECTURE_DOC.read_text(encoding="utf-8")) if " -> " in n}
    assert named == set(_layers_contract()["ignore_imports"])
