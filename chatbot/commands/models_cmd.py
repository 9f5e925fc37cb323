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
        "index_snapshot": model.index_snapshot,
        "embedder_version": model.embedder_version,  # None: the configured embedder
        "calibration_id": str(model.calibration_id) if model.calibration_id else None,
        "abstain_threshold": model.abstain_threshold,
        "risk": model.risk,
        "decision": model.decision,
    }


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

    app = build_app()
    app.upgrade_database()
    who = f"cli:{getpass.getuser()}"
    if args.action == "serving":
        print(json.dumps(asdict(in_production(app)), indent=2, default=str))
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
