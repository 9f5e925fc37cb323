"""No module of the repo is over 350 lines and no function or method over 60; a generated file shows the check
reports both kinds of offender (and counts lines the way the limits mean)."""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import NamedTuple

REPO = Path(__file__).resolve().parents[1]
SOURCE_DIRS = ("chatbot", "retrieval", "finetune", "evals", "ui", "tests", "benchmarks", "scripts")
# Alembic writes the migrations; their length is the schema's, not a design choice.
SKIPPED_DIRS = (REPO / "chatbot" / "db" / "migrations",)
MAX_MODULE_LINES = 350
MAX_FUNCTION_LINES = 60
MODULE = "<module>"


class Offender(NamedTuple):
    path: Path
    name: str  # MODULE for the whole file, else the function's qualified name
    lines: int
    limit: int

    def __str__(self) -> str:
        where = self.path.relative_to(REPO) if self.path.is_relative_to(REPO) else self.path
        return f"{where}: {self.name} has {self.lines} lines (limit {self.limit})"


def repo_python_files() -> list[Path]:
    files = (path for folder in SOURCE_DIRS for path in (REPO / folder).rglob("*.py"))
    return sorted(
        path
        for path in files
        if ".venv" not in path.parts and not any(path.is_relative_to(skipped) for skipped in SKIPPED_DIRS)
    )


def _functions(node: ast.AST, prefix: str = "") -> Iterator[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    """Every function and method under ``node``, nested ones included, with its qualified name."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
            yield prefix + child.name, child
            yield from _functions(child, f"{prefix}{child.name}.")
        elif isinstance(child, ast.ClassDef):
            yield from _functions(child, f"{prefix}{child.name}.")
        else:
            yield from _functions(child, prefix)


def size_offenders(paths: Iterable[Path]) -> list[Offender]:
    """Modules over MAX_MODULE_LINES and functions over MAX_FUNCTION_LINES in ``paths``. A function runs from its
    ``def`` line (decorators not counted) to its last line."""
    offenders = []
    for path in paths:
        source = path.read_text(encoding="utf-8")
        module_lines = len(source.splitlines())
        if module_lines > MAX_MODULE_LINES:
            offenders.append(Offender(path, MODULE, module_lines, MAX_MODULE_LINES))
        for name, function in _functions(ast.parse(source, filename=str(path))):
            assert function.end_lineno is not None  # always set by ast.parse
            function_lines = function.end_lineno - function.lineno + 1
            if function_lines > MAX_FUNCTION_LINES:
                offenders.append(Offender(path, name, function_lines, MAX_FUNCTION_LINES))
    return offenders


def test_no_module_or_function_of_the_repo_is_over_its_limit() -> None:
    files = repo_python_files()
    # The scan reaches every kind of file, guard modules and their tests included.
    for expected in ("chatbot/guard.py", "tests/test_guard.py", "tests/test_code_size.py", "benchmarks/load.py"):
        assert REPO / expected in files, expected
    assert not [path for path in files if path.is_relative_to(REPO / "chatbot" / "db" / "migrations")]
    offenders = size_offenders(files)
    assert not offenders, "over the size limits:\n" + "\n".join(str(offender) for offender in offenders)


def _function(name: str, total_lines: int, *, indent: str = "", decorators: int = 0) -> list[str]:
    """A function of exactly ``total_lines`` lines from its ``def`` on, after ``decorators`` decorator lines."""
    head = [f"{indent}@decorator_{i}" for i in range(decorators)] + [f"{indent}def {name}() -> None:"]
    return head + [f"{indent}    x = {i}" for i in range(total_lines - 1)]


def _module(path: Path, total_lines: int, *parts: list[str]) -> Path:
    lines = [line for part in parts for line in part]
    lines += [f"y = {i}" for i in range(total_lines - len(lines))]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert len(path.read_text(encoding="utf-8").splitlines()) == total_lines
    return path


def test_the_check_reports_a_long_function_a_long_method_and_a_long_module(tmp_path: Path) -> None:
    too_big = _module(
        tmp_path / "too_big.py",
        MAX_MODULE_LINES + 1,
        _function("long", MAX_FUNCTION_LINES + 1),
        _function("decorated_but_fits", MAX_FUNCTION_LINES, decorators=3),
        ["class Holder:"],
        _function("long_method", MAX_FUNCTION_LINES + 1, indent="    "),
        _function("fits", MAX_FUNCTION_LINES),
    )
    just_fits = _module(tmp_path / "just_fits.py", MAX_MODULE_LINES, _function("fits", MAX_FUNCTION_LINES))
    assert sorted(size_offenders([too_big, just_fits])) == sorted(
        [
            Offender(too_big, MODULE, MAX_MODULE_LINES + 1, MAX_MODULE_LINES),
            Offender(too_big, "long", MAX_FUNCTION_LINES + 1, MAX_FUNCTION_LINES),
            Offender(too_big, "Holder.long_method", MAX_FUNCTION_LINES + 1, MAX_FUNCTION_LINES),
        ]
    )
    assert str(Offender(too_big, "long", 61, 60)) == f"{too_big}: long has 61 lines (limit 60)"
