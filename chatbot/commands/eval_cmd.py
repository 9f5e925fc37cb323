"""`bankbot eval SUITE ...`: one subcommand per eval suite, registered in SUITES (name -> configure, run)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

HELP = "run an evaluation suite (retrieval: labelled queries against the retriever)"

RETRIEVAL_COLUMNS = ("accuracy_at_1", "recall_at_5", "mrr", "latency_ms_p50", "latency_ms_p95", "n")


def configure_retrieval(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--queries", type=Path, help="labelled queries CSV: text,category (the Banking77 format)")
    parser.add_argument("--examples", type=Path, help="labelled CSV (text,category) added to a temporary example index")
    parser.add_argument(
        "--train-embedder", action="store_true", help="fine-tune the embedder on --examples first (temporary)"
    )
    parser.add_argument("--embedder", type=Path, help="evaluate this embedder folder instead of the active one")
    parser.add_argument(
        "--queries-demo", action="store_true", help="use the shipped demo eval's in-scope questions as --queries"
    )
    parser.add_argument(
        "--out-of-scope", metavar="FILE", help="questions (one a line, or 'demo') whose top score should stay low"
    )
    parser.add_argument("--json", metavar="OUT", help="write the metrics as JSON to OUT ('-' for stdout)")


def run_retrieval(args: argparse.Namespace) -> dict[str, Any]:
    from chatbot.app import build_app
    from chatbot.errors import BankbotError
    from chatbot.settings import Settings
    from evals.retrieval import RetrievalEval, demo_eval_queries, read_out_of_scope, read_queries
    from finetune.embedder import train_embedder
    from retrieval.example_index import read_labelled_csv

    if (args.queries is None) == (not args.queries_demo):
        raise BankbotError("give exactly one of --queries CSV and --queries-demo")
    task = RetrievalEval(
        read_queries(args.queries) if args.queries else demo_eval_queries(),
        read_labelled_csv(args.examples) if args.examples else None,
        train_embedder=train_embedder if args.train_embedder else None,  # training sits above the evals layer
        embedder_dir=args.embedder,
        out_of_scope=read_out_of_scope(args.out_of_scope) if args.out_of_scope else (),
    )
    app = build_app(Settings())
    app.upgrade_database()  # the retriever reads the production bundle's index snapshot from the registry
    return task.run(app)


def retrieval_table(metrics: dict[str, Any]) -> str:
    def shown(key: str) -> str:
        value = metrics[key]
        if isinstance(value, float):
            return f"{value:.1f}" if key.startswith("latency") else f"{value:.4f}"
        return str(value)

    keys = [*RETRIEVAL_COLUMNS, "top_score_p50", "oos_top_score_p50", "oos_below_threshold"]
    return "\n".join(f"{key:<20} {shown(key)}" for key in keys if key in metrics)


def configure_parity(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", default=None, metavar="NAME", help="adapter version (default: the production one)")
    parser.add_argument("--prompts", type=int, default=12, metavar="N", help="demo-eval prompts compared")
    parser.add_argument("--max-new-tokens", type=int, default=64, metavar="N")
    parser.add_argument("--json", metavar="OUT", help="write the metrics as JSON to OUT ('-' for stdout)")


def run_parity(args: argparse.Namespace) -> dict[str, Any]:
    """The served llama.cpp GGUF against the transformers reference with the same adapter (evals.engine_parity)."""
    from chatbot.app import build_app
    from chatbot.generation import build_generator
    from chatbot.settings import Settings
    from evals.engine_parity import compare

    settings = Settings()
    app = build_app(settings)
    adapter = app.production_adapter()
    if args.model is not None:
        from chatbot.registry import adapter_ref, get_model

        adapter = adapter_ref(settings, get_model(app, args.model))
    reference = build_generator(settings.model_copy(update={"llm_engine": "transformers"}), adapter=adapter)
    served = build_generator(settings.model_copy(update={"llm_engine": "llama-cpp"}), adapter=adapter)
    report = compare(reference, served, n=args.prompts, max_new_tokens=args.max_new_tokens)
    report["adapter"] = getattr(adapter, "version", None)
    report["gguf_quant"] = settings.gguf_quant
    return report


def parity_table(metrics: dict[str, Any]) -> str:
    keys = ["adapter", "gguf_quant", "prompts", "token_agreement", "exact_match", "rouge_l"]
    keys += ["judge_accuracy_reference", "judge_accuracy_served"]
    return "\n".join(f"{key:<26} {metrics[key]}" for key in keys)


# suite name -> (configure its parser, run it -> metrics dict, format a short table)
SUITES: dict[
    str,
    tuple[
        Callable[[argparse.ArgumentParser], None],
        Callable[[argparse.Namespace], dict[str, Any]],
        Callable[[dict[str, Any]], str],
    ],
] = {
    "retrieval": (configure_retrieval, run_retrieval, retrieval_table),
    "parity": (configure_parity, run_parity, parity_table),
}


def configure(parser: argparse.ArgumentParser) -> None:
    from evals import cli as engineer_suites  # answers, calibration, all (light import: no numpy)

    sub = parser.add_subparsers(dest="suite", metavar="SUITE", required=True)
    for name, (configure_suite, _, _) in SUITES.items():
        configure_suite(sub.add_parser(name, help=f"{name} eval"))
    for name, help_text in engineer_suites.SUITE_HELP.items():
        engineer_suites.configure(sub.add_parser(name, help=help_text, description=help_text))


def run(args: argparse.Namespace) -> int:
    from chatbot.app import build_app
    from evals import cli as engineer_suites
    from finetune.eval_bundles import RegistryBundles

    if args.suite in engineer_suites.SUITE_HELP:  # report folder, eval runs in the DB, --fail-under gates
        return engineer_suites.run(args, build_app, RegistryBundles())
    _, run_suite, table = SUITES[args.suite]
    metrics = run_suite(args)
    out = getattr(args, "json", None)
    text = json.dumps(metrics, indent=2)
    if out == "-":
        print(text)
    elif out:
        Path(out).write_text(text + "\n")
    # The table is for people; with JSON on stdout it goes to stderr so stdout stays parseable.
    print(table(metrics), file=sys.stderr if out == "-" else sys.stdout)
    return 0
