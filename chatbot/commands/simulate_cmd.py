from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

HELP = "simulate customers and reviewers for some rounds and measure the bot on held-out questions"

# --quick: one tiny round for CI (a few minutes on 2 CPU cores), same code path as a full run.
QUICK: dict[str, Any] = {
    "rounds": 1,
    "per_round": 8,
    "review_budget": 6,
    "answer_subset": 6,
    "max_new_tokens": 48,
    "heldout_limit": 120,
}
# Train even on the handful of reviews of a quick round, for a few steps, and gate on a few questions.
QUICK_NIGHTLY: dict[str, Any] = {
    "force": True,
    "max_steps": 3,
    "eval_steps": 3,
    "gate_questions": 4,
    "gate_corrections": 4,
}


def configure(parser: argparse.ArgumentParser) -> None:
    from evals.simulation.loop import SimulationConfig

    d = SimulationConfig(questions=Path(), out=Path())
    parser.add_argument("--questions", type=Path, help="CSV of labelled questions (text,category)")
    parser.add_argument(
        "--merge",
        type=Path,
        nargs="+",
        metavar="RUN_DIR",
        help="instead of simulating: one report from finished runs of different arms (same questions and seed)",
    )
    parser.add_argument("--holdout-fraction", type=float, default=d.holdout_fraction, help="share held out")
    parser.add_argument("--rounds", type=int, default=None, help=f"rounds (default {d.rounds})")
    parser.add_argument("--per-round", type=int, default=None, help=f"customers a round (default {d.per_round})")
    parser.add_argument(
        "--review-budget", type=int, default=None, help=f"turns reviewed a round (default {d.review_budget})"
    )
    parser.add_argument(
        "--answer-subset", type=int, default=None, help=f"held-out questions answered (default {d.answer_subset})"
    )
    parser.add_argument("--max-new-tokens", type=int, default=None, help=f"default {d.max_new_tokens}")
    parser.add_argument(
        "--heldout-limit",
        type=int,
        default=None,
        help=f"held-out questions for retrieval (default {d.heldout_limit})",
    )
    parser.add_argument(
        "--nightly",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help=f"nightly option (force, gate_questions, gate_corrections or a LoRA hyperparameter); {d.nightly}",
    )
    parser.add_argument("--arms", default=",".join(d.arms), help="comma-separated: confidence,random")
    parser.add_argument("--seed", type=int, default=d.seed)
    parser.add_argument("--out", type=Path, default=Path("simulation-out"), help="output folder (must be new or empty)")
    parser.add_argument("--quick", action="store_true", help="tiny single round for CI (a few minutes)")
    parser.add_argument(
        "--torch-threads",
        type=int,
        default=0,
        help="torch CPU threads for the nightly LoRA (0: torch's default); llama.cpp's are BANKBOT_LLM_THREADS",
    )


def run(args: argparse.Namespace) -> int:
    from chatbot.errors import BankbotError
    from chatbot.settings import Settings
    from evals.simulation.loop import SimulationConfig, run_simulation

    out: Path = args.out
    if out.exists() and any(out.iterdir()):
        raise BankbotError(f"{out}: output folder is not empty; choose a new --out")
    if args.merge:
        return merge(args.merge, out)
    if args.questions is None:
        raise BankbotError("--questions is required (or --merge RUN_DIR ...)")
    if not args.questions.is_file():
        raise BankbotError(f"{args.questions}: no such file")
    arms = tuple(a.strip() for a in args.arms.split(",") if a.strip())
    values: dict[str, Any] = dict(QUICK) if args.quick else {}
    for key in ("rounds", "per_round", "review_budget", "answer_subset", "max_new_tokens", "heldout_limit"):
        if getattr(args, key) is not None:
            values[key] = getattr(args, key)
    nightly = dict(QUICK_NIGHTLY if args.quick else SimulationConfig(questions=Path(), out=Path()).nightly)
    for item in args.nightly:
        key, sep, raw = item.partition("=")
        if not sep:
            raise BankbotError(f"--nightly {item!r}: expected KEY=VALUE")
        nightly[key.strip()] = _value(raw.strip())
    values["nightly"] = nightly
    if args.torch_threads:
        import torch

        torch.set_num_threads(args.torch_threads)
    config = SimulationConfig(
        questions=args.questions, out=out, holdout_fraction=args.holdout_fraction, seed=args.seed, arms=arms, **values
    )
    results = run_simulation(config, Settings())
    print(f"report: {out / 'report.md'}  ({results['timing']['total_s'] / 60:.1f} min)")
    return 0


def _value(raw: str) -> Any:
    """A --nightly value as bool, int or float when it reads as one, else the string."""
    if raw.lower() in {"true", "false"}:
        return raw.lower() == "true"
    for cast in (int, float):
        try:
            return cast(raw)
        except ValueError:
            pass
    return raw


def merge(runs: list[Path], out: Path) -> int:
    import json

    from chatbot.errors import BankbotError
    from evals.simulation.merge import merge_results, rescore_run
    from evals.simulation.report import write_report

    summaries = []
    for run_dir in runs:
        path = run_dir / "summary.json"
        if not path.is_file():
            raise BankbotError(f"{path}: no such file (is {run_dir} a finished simulation?)")
        # answer metrics are recomputed from the stored answers, so a report gains metrics added since the run
        summaries.append(rescore_run(run_dir, json.loads(path.read_text(encoding="utf-8"))))
    try:
        results = merge_results(summaries)
    except ValueError as exc:
        raise BankbotError(str(exc)) from exc
    print(f"report: {write_report(out, results)}")
    return 0
