"""Arguments and run function of `bankbot eval` (chatbot/commands/eval_cmd.py delegates here)."""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chatbot.app_services import AppServices
    from evals.runner import BundleSource

# Kept here (not imported from evals.suites) so `bankbot --help` loads no numpy.
DEFAULT_BATCH_SIZE = 32  # questions per answer_batch call; the pipeline generates 8 prompts at a time
# suite -> help line; `bankbot eval SUITE` subcommands (retrieval on Banking77-style CSVs is in eval_cmd.py)
SUITE_HELP = {
    "answers": "answer quality: ROUGE-L, BLEU, similarity, citations, groundedness, abstention, probe refusals",
    "calibration": "confidence calibration: ECE, Brier, AUROC, AURC; fits and stores a calibration for the chat",
    "all": "retrieval, answers and calibration on the eval set, in one report",
}


def configure(parser: argparse.ArgumentParser) -> None:
    """Options of `bankbot eval answers|calibration|all` (the suite name is the subcommand)."""
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--data",
        type=Path,
        default=None,
        help="eval set, CSV or JSONL (question, kind, expected_article or intent, reference_answer); "
        "default: evals/data/demo_eval.jsonl",
    )
    source.add_argument(
        "--from-reviews", action="store_true", help="use turns whose reviewers agreed instead of an eval file"
    )
    parser.add_argument(
        "--model",
        action="append",
        default=[],
        metavar="NAME",
        help="'base' or an adapter version from `bankbot models`; give twice to compare (default: the served model)",
    )
    parser.add_argument("--limit", type=int, default=None, metavar="N", help="only N questions (each kind kept)")
    parser.add_argument(
        "--batch-size",
        type=int,
        default=DEFAULT_BATCH_SIZE,
        metavar="N",
        help="questions per pipeline call (it generates in batches of 8)",
    )
    parser.add_argument(
        "--report", type=Path, default=None, metavar="DIR", help="report folder (default: runs/evals/<time>)"
    )
    parser.add_argument("--json", default=None, metavar="FILE", help="write the metrics JSON to FILE ('-': stdout)")
    parser.add_argument(
        "--fail-under",
        action="append",
        default=[],
        metavar="METRIC=VALUE",
        help="exit 1 when METRIC (e.g. answers.citation_accuracy) is below VALUE; repeatable",
    )
    parser.add_argument(
        "--fail-over",
        action="append",
        default=[],
        metavar="METRIC=VALUE",
        help="exit 1 when a lower-is-better METRIC (e.g. calibration.ece) is above VALUE; repeatable",
    )
    parser.add_argument("--no-record", action="store_true", help="store nothing in the database")
    parser.add_argument(
        "--no-store-calibration", action="store_true", help="do not make the fitted calibration the active one"
    )
    parser.add_argument("--bootstrap", type=int, default=1000, metavar="N", help="bootstrap resamples (comparison)")
    parser.add_argument("--seed", type=int, default=0, help="bootstrap seed")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")


def request_from_args(args: argparse.Namespace) -> Any:
    from chatbot.errors import BankbotError
    from evals.gates import parse_gates
    from evals.runner import EvalRequest

    if args.limit is not None and args.limit < 1:
        raise BankbotError("--limit must be at least 1")
    if args.batch_size < 1:
        raise BankbotError("--batch-size must be at least 1")
    if args.bootstrap < 1:
        raise BankbotError("--bootstrap must be at least 1")
    if args.suite == "retrieval" and args.model:
        raise BankbotError("--model compares generators; the retrieval suite does not use one")
    return EvalRequest(
        suite=args.suite,
        dataset=args.data,
        from_reviews=args.from_reviews,
        models=list(args.model),
        limit=args.limit,
        batch_size=args.batch_size,
        report_dir=args.report,
        record=not args.no_record,
        store_calibration=not args.no_store_calibration,
        gates=parse_gates(args.fail_under, args.fail_over),
        progress=not args.no_progress and sys.stderr.isatty(),
        bootstrap=args.bootstrap,
        seed=args.seed,
    )


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return "n/a" if math.isnan(value) else f"{value:.4f}"
    return str(value)


def print_summary(payload: dict[str, Any], out: Any) -> None:
    for label, suites in payload["models"].items():
        print(f"== {label}", file=out)
        for suite, values in suites.items():
            shown = ", ".join(f"{k}={_fmt(v)}" for k, v in values.items() if not isinstance(v, dict | list))
            print(f"{suite}: {shown}", file=out)
    for key, v in (payload.get("comparison") or {}).items():
        print(f"delta {key}: {_fmt(v['delta'])} [{_fmt(v['ci_low'])}, {_fmt(v['ci_high'])}]", file=out)


def run(args: argparse.Namespace, app_factory: Callable[[], AppServices], bundles: BundleSource) -> int:
    """``app_factory`` builds the app and ``bundles`` resolves ``--model`` names (``chatbot.commands.eval_cmd``
    passes ``chatbot.app.build_app`` and ``finetune.eval_bundles.RegistryBundles``)."""
    from evals.runner import run_evals
    from evals.scoring import json_safe

    request = request_from_args(args)  # bad flags fail before any model loads
    app = app_factory()
    outcome = run_evals(app.settings, request, app=app, bundles=bundles)
    text = json.dumps(json_safe(outcome.payload), indent=2)
    if args.json == "-":
        print(text)
    else:
        if args.json:
            Path(args.json).write_text(text + "\n", encoding="utf-8")
        print_summary(outcome.payload, sys.stdout)
    print(f"report: {outcome.report_dir / 'report.html'}", file=sys.stderr)
    for label, result in outcome.gate_results:  # one line per gate, failures marked FAIL
        print(f"bankbot eval: gate {result.line(f'{label}: ' if label else '')}", file=sys.stderr)
    return 1 if outcome.failed_gates else 0
