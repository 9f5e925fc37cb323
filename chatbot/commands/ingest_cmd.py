from __future__ import annotations

import argparse
import json
from pathlib import Path

HELP = "ingest Markdown, text, PDF and FAQ CSV files into the knowledge base (default: the demo KB)"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="*", type=Path, metavar="PATH", help="files or folders (default: demo KB)")
    parser.add_argument("--prune", action="store_true", help="remove chunks of files that no longer exist")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")


def run(args: argparse.Namespace) -> int:
    """Exit 0 when every file was ingested or unchanged, 1 when some file was skipped."""
    from chatbot.app import build_app
    from chatbot.settings import Settings
    from retrieval.ingest import ingest

    app = build_app(Settings())
    report = ingest(app.settings, app.vector_store, args.paths or None, prune=args.prune, progress=not args.no_progress)
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        print(
            f"added {report.added}, replaced {report.replaced}, unchanged {report.unchanged}, "
            f"pruned {report.pruned} files ({report.chunks} chunks written); skipped {len(report.skipped)}"
        )
        if report.examples or report.examples_removed:
            print(f"example questions from the articles: {report.examples} written, {report.examples_removed} removed")
        for path, reason in report.skipped:
            print(f"  skipped {path}: {reason}")
    return 0 if report.ok else 1
