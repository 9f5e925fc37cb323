from __future__ import annotations

import argparse
import getpass
import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

HELP = "the model registry: what serves, list, show, promote or roll back bundles (adapter, embedder, examples, ...)"


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True)
    sub.add_parser("serving", help="what serves now: the production bundle (adapter, answer mode) and embedder")
    ls = sub.add_parser("list", help="every bundle, newest first, with status, threshold, embedder and gate decision")
    ls.add_argument("--json", action="store_true")
    show = sub.add_parser("show", help="one bundle: lineage (reviewed turn ids), calibration, gate metrics")
    show.add_argument("version")
    promote = sub.add_parser(
        "promote", help="make VERSION production (the current one is retired); refits its abstention threshold"
    )
    promote.add_argument("version")
    sub.add_parser("rollback", help="retire production and bring back the previously promoted bundle as a whole")
    runs = sub.add_parser("runs", help="the latest nightly runs, newest first: status, examples, message (why failed)")
    runs.add_argument("--limit", type=int, default=20)
    runs.add_argument("--json", action="store_true")


def _row(model: Any) -> dict[str, Any]:
    """A bundle as JSON: its public fields (``ModelVersionPublic``), without the gate's metrics (``show`` adds them)."""
    from chatbot.db.models import ModelVersionPublic

    return ModelVersionPublic.model_validate(model).model_dump(mode="json")


def run_lines(runs: Any) -> list[str]:
    """One line per training run: when it started, its status, the examples it trained on and its message."""
    if not runs:
        return ["no training runs yet; run: bankbot nightly"]
    return [
        "\t".join([f"{r.started_at:%Y-%m-%d %H:%M}", r.status, f"n_train={r.n_train}", (r.message or "")[:200]])
        for r in runs
    ]


def _run_row(run: Any) -> dict[str, Any]:
    fields = ("id", "status", "base_model", "data_hash", "n_train", "n_val", "message", "started_at", "finished_at")
    return {name: getattr(run, name) for name in fields} | {"version": (run.metrics or {}).get("version")}


def threshold_text(model: Any) -> str:
    """The bundle's abstention threshold as listed: fitted, or the configured one (None)."""
    if model.abstain_threshold is None:
        return "threshold=configured"
    if model.abstain_threshold > 1.0:
        return "threshold=none-shown"
    return f"threshold={model.abstain_threshold:.3f}"


def run(args: argparse.Namespace) -> int:
    from chatbot import audit
    from chatbot.app import build_app
    from chatbot.registry import adapter_dir, get_lineage, get_model, in_production, list_models
    from finetune.bundle import get_bundle
    from finetune.registry import promote_version, rollback
    from finetune.training_runs import list_runs

    app = build_app()
    app.upgrade_database()
    who = f"cli:{getpass.getuser()}"
    if args.action == "serving":
        print(json.dumps(asdict(in_production(app)), indent=2, default=str))
        return 0
    if args.action == "runs":
        runs = list_runs(app, limit=args.limit)
        print(
            json.dumps([_run_row(r) for r in runs], indent=2, default=str) if args.json else "\n".join(run_lines(runs))
        )
        return 0
    if args.action == "list":
        models = list_models(app)
        if args.json:
            print(json.dumps([_row(m) for m in models], indent=2))
        elif not models:
            print("no bundles yet (the base model serves); run: bankbot nightly")
        else:
            for m in models:
                quality = (m.eval_metrics or {}).get("candidate", {}).get("quality")
                shown = f"{quality:.4f}" if isinstance(quality, float) else "-"
                when = f"{m.created_at:%Y-%m-%d %H:%M}"
                embedder = f"embedder={m.embedder_version or 'configured'}"
                cells = [m.version, m.status, f"quality={shown}", when, embedder, threshold_text(m), m.decision or ""]
                print("\t".join(cells))
        return 0
    if args.action == "show":
        model = get_model(app, args.version)
        detail = _row(model)
        confidence = get_bundle(app, args.version).confidence
        detail["calibration"] = {"method": confidence.method or "none", "params": dict(confidence.params)}
        detail["lineage"] = get_lineage(app, args.version)
        detail["eval_metrics"] = model.eval_metrics
        folder = adapter_dir(app.settings, model)
        detail["adapter_files"] = _adapter_files(folder) if folder is not None else {"exists": False}
        print(json.dumps(detail, indent=2, default=str))
        return 0
    if args.action == "promote":
        replaced = promote_version(app, args.version, by=who)
        audit.record(app, actor=who, action=audit.Action.promote, target=args.version, client=audit.CLI_CLIENT)
        print(f"{args.version} is production (replaced {replaced or 'the base model'}); running apps reload it")
        return 0
    retired, current = rollback(app, by=who)
    audit.record(app, actor=who, action=audit.Action.rollback, target=retired, client=audit.CLI_CLIENT)
    print(f"rolled back {retired}; production is now {current or 'the base model'}")
    return 0


def _adapter_files(folder: Path) -> dict[str, Any]:
    """hyperparameters.json and training.json from the adapter folder (self-describing artifacts)."""
    out: dict[str, Any] = {"exists": folder.is_dir()}
    for name in ("hyperparameters.json", "training.json"):
        file = folder / name
        if file.is_file():
            data = json.loads(file.read_text())
            data.pop("source_turn_ids", None)  # long; the training run row has them
            out[name] = data
    return out
