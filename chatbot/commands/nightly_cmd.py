from __future__ import annotations

import argparse
import json

HELP = "nightly learning job: reviewed turns -> dataset -> LoRA -> eval gate -> promote or reject"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--force", action="store_true", help="train even with fewer than min_new_examples new reviews")
    parser.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="override a LoRA hyperparameter (repeatable)"
    )
    parser.add_argument("--gate-questions", type=int, help="frozen gate set size (default: gate_eval_questions)")
    parser.add_argument("--no-indexes", action="store_true", help="do not add questions to the example/few-shot stores")
    parser.add_argument(
        "--embedder", action="store_true", help="also fine-tune the embedder (promoted only if retrieval improves)"
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")


def run(args: argparse.Namespace) -> int:
    import signal

    from chatbot.app import build_app
    from chatbot.errors import BankbotError
    from finetune.lora import LoraHyperparameters
    from finetune.nightly import NightlyOptions, run_nightly

    overrides = {}
    for item in args.set:
        if "=" not in item:
            raise BankbotError(f"--set {item!r}: expected KEY=VALUE")
        key, value = item.split("=", 1)
        overrides[key.strip()] = value.strip()
    options = NightlyOptions(
        hyperparameters=LoraHyperparameters.from_overrides(overrides),
        force=args.force,
        gate_questions=args.gate_questions,
        update_indexes=not args.no_indexes,
        train_embedder=args.embedder,
    )

    def _terminate(signum: int, frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")  # unwinds through run_nightly, which marks the run failed

    signal.signal(signal.SIGTERM, _terminate)
    app = build_app()
    app.upgrade_database()
    result = run_nightly(app, options)
    if args.json:
        print(json.dumps(result.__dict__, indent=2, default=str))
    else:
        print(f"bankbot nightly: {result.message}")
        if result.dataset_dir:
            print(f"dataset: {result.dataset_dir}")
    return 0
