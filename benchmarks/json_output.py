"""The one way benchmarks hand over their JSON report: to a file, or to stdout for ``--json -`` (or no --json)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def emit_json(report: Any, destination: str | None) -> None:
    text = json.dumps(report, indent=2)
    if destination and destination != "-":
        Path(destination).write_text(text + "\n", encoding="utf-8")
    else:
        print(text)


def json_main(doc: str | None, measure: Any) -> None:
    """The command line of a benchmark whose only option is ``--json``: run ``measure()`` and emit its report."""
    import argparse

    parser = argparse.ArgumentParser(description=(doc or "").splitlines()[0] if doc else None)
    parser.add_argument("--json", default="-", help="output file (default: stdout)")
    emit_json(measure(), parser.parse_args().json)
