from __future__ import annotations

import argparse
import json

HELP = "print the effective settings (secrets masked); --check also verifies the database and models"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON instead of KEY = value lines")
    parser.add_argument(
        "--check", action="store_true", help="verify that the database answers and the models can be found"
    )


def run(args: argparse.Namespace) -> int:
    from chatbot.settings import Settings

    settings = Settings()
    shown = settings.masked()
    if args.json:
        print(json.dumps(shown, indent=2))
    else:
        width = max(len(k) for k in shown)
        for key, value in shown.items():
            print(f"{key:<{width}} = {value}")
    if args.check:
        check(settings)
        print("check: database reachable, models found")
    return 0


def check(settings: object) -> None:
    """Raise a BankbotError (one readable line) for an unreachable database or a missing model."""
    from chatbot.db.engine import check_connection, make_engine
    from chatbot.model_loading import check_model_settings
    from chatbot.settings import Settings

    assert isinstance(settings, Settings)
    engine = make_engine(settings.effective_database_url)
    try:
        check_connection(engine)
    finally:
        engine.dispose()
    check_model_settings(settings)
