from __future__ import annotations

import argparse
import getpass
import json
from typing import Any

HELP = "the LoRA model registry: list, show, promote or roll back adapter versions"


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True)
    ls = sub.add_parser("list", help="every adapter version, newest first, with status and gate decision")
    ls.add_argument("--json", action="store_true")
    show = sub.add_parser("show", help="one version: lineage, gate metrics, hyperparameters")
    show.add_argument("version")
    promote = sub.add_parser("promote", help="make VERSION production (the current one is retired)")
    promote.add_argument("version")
    sub.add_parser("rollback", help="retire production and bring back the previously promoted version")


def _row(model: Any) -> dict[str, Any]:
    return {
        "version": model.version,
        "status": model.status,
        "created_at": model.created_at.isoformat() if model.created_at else None,
        "promoted_at": model.promoted_at.isoformat() if model.promoted_at else None,
        "promoted_by": model.promoted_by,
        "base_model": model.base_model,
        "training_data_hash": model.training_data_hash,
        "training_run_id": str(model.training_run_id) if model.training_run_id else None,
        "adapter_path": model.adapter_path,
        "decision": model.decision,
    }


def run(args: argparse.Namespace) -> int:
    from chatbot.app import build_app
    from finetune import registry

    app = build_app()
    app.upgrade_database()
    who = f"cli:{getpass.getuser()}"
    if args.action == "list":
        models = registry.list_models(app)
        if args.json:
            print(json.dumps([_row(m) for m in models], indent=2))
        elif not models:
            print("no adapter versions yet (the base model serves); run: bankbot nightly")
        else:
            for m in models:
                quality = (m.eval_metrics or {}).get("candidate", {}).get("quality")
                shown = f"{quality:.4f}" if isinstance(quality, float) else "-"
                print(f"{m.version}\t{m.status}\tquality={shown}\t{m.created_at:%Y-%m-%d %H:%M}\t{m.decision or ''}")
        return 0
    if args.action == "show":
        model = registry.get_model(app, args.version)
        detail = _row(model)
        detail["eval_metrics"] = model.eval_metrics
        detail["adapter_files"] = _adapter_files(model.adapter_path)
        print(json.dumps(detail, indent=2, default=str))
        return 0
    if args.action == "promote":
        replaced = registry.promote_version(app, args.version, by=who)
        print(f"{args.version} is production (replaced {replaced or 'the base model'}); running apps reload it")
        return 0
    retired, current = registry.rollback(app, by=who)
    print(f"rolled back {retired}; production is now {current or 'the base model'}")
    return 0


def _adapter_files(path: str) -> dict[str, Any]:
    """hyperparameters.json and training.json from the adapter folder (self-describing artifacts)."""
    from pathlib import Path

    folder = Path(path)
    out: dict[str, Any] = {"exists": folder.is_dir()}
    for name in ("hyperparameters.json", "training.json"):
        file = folder / name
        if file.is_file():
            data = json.loads(file.read_text())
            data.pop("source_turn_ids", None)  # long; the training run row has them
            out[name] = data
    return out
