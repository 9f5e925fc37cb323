"""The simulation's held-out evaluation of a bot, with the code as it is now: the bot a finished run's arm left
behind (its data folder), or a fresh install. Measures a chat change (e.g. the hand-off's suggested articles) on
the bot the loop trained, without running the loop again. Prints JSON.

    python benchmarks/heldout_as_left.py --run /tmp/sim9 [--arm confidence] [--json FILE]
    python benchmarks/heldout_as_left.py --run /tmp/sim9 --fresh-install      # round 0's bot: a new data folder
    python benchmarks/heldout_as_left.py --run /tmp/sim10 --article-threshold refit        # fitted by today's code
    python benchmarks/heldout_as_left.py --run /tmp/sim10 --article-threshold configured   # the configured floor

The run's summary.json gives the questions file, seed and held-out sizes, so the questions are the run's own.
Do not point it at a run still in progress: its arm's vector store is written by that process.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

KEYS = (
    "answer_accuracy_shown",
    "coverage",
    "wrong_shown_rate",
    "generated_share",
    "answer_accuracy_shown_with_choice",
    "coverage_with_choice",
    "wrong_shown_rate_with_choice",
    "suggestions",
    "failures",
    "retrieval_accuracy_at_1",
    "retrieval_recall_at_5",
    "answers_n",
)


def stored_config(run: Path) -> Any:
    from evals.simulation.loop import SimulationConfig

    stored = json.loads((run / "summary.json").read_text())["config"]
    fields = {f.name for f in dataclasses.fields(SimulationConfig)}
    values = {k: v for k, v in stored.items() if k in fields}
    values.update(questions=Path(values["questions"]), out=run, arms=tuple(values["arms"]))
    return SimulationConfig(**values)


def measure(run: Path, arm: str, fresh_install: bool, article_threshold: str = "as-left") -> dict[str, Any]:
    from chatbot.settings import Settings
    from evals.simulation.loop import arm_settings, evaluate, gold_by_intent, open_app, plan_questions

    config = stored_config(run)
    with tempfile.TemporaryDirectory(prefix="heldout-") as scratch:
        settings = arm_settings(Settings(), Path(scratch) if fresh_install else run, arm, config)
        # the converted base model of the run is reused (read-only cache)
        settings = settings.model_copy(update={"model_cache_dir": run / "model-cache"})
        app = open_app(settings, fresh=fresh_install)
        fitted = set_article_threshold(app, article_threshold)
        held, _ = evaluate(app, plan_questions(config, gold_by_intent()), config)
    report = {key: held.get(key) for key in KEYS}
    bot = "fresh install" if fresh_install else "as the run left it"
    return {"run": str(run), "arm": arm, "bot": bot, "article_threshold": fitted, **report}


def set_article_threshold(app: Any, how: str) -> float | None:
    """The production bundle's article threshold for this measurement, in memory only (the run's rows are left as
    they are): ``as-left`` keeps the bundle's, ``refit`` fits it again with the code as it is now
    (``finetune.bundle.fit_article_threshold`` on the run's reviewed spot check), ``configured`` drops it (the
    configured floors alone)."""
    from finetune.bundle import fit_article_threshold

    if how == "as-left":
        return app.pipeline.calibration.article_threshold
    value = fit_article_threshold(app)[0].threshold if how == "refit" else None
    app.pipeline.calibration = dataclasses.replace(app.pipeline.calibration, article_threshold=value)
    return value


def main() -> None:
    from benchmarks.json_output import emit_json

    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--run", type=Path, required=True, help="a finished `bankbot simulate` output folder")
    parser.add_argument("--arm", default="confidence")
    parser.add_argument("--fresh-install", action="store_true", help="a new data folder instead of the arm's")
    parser.add_argument(
        "--article-threshold",
        choices=("as-left", "refit", "configured"),
        default="as-left",
        help="the bundle's fitted article certainty as the run left it, refitted now, or none (the floor)",
    )
    parser.add_argument("--json", default="-", help="output file (default: stdout)")
    args = parser.parse_args()
    emit_json(measure(args.run, args.arm, args.fresh_install, args.article_threshold), args.json)


if __name__ == "__main__":
    main()
