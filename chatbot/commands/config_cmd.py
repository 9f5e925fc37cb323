from __future__ import annotations

import argparse
import json

HELP = "print the effective settings (secrets masked)"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON instead of KEY = value lines")


def run(args: argparse.Namespace) -> int:
    from chatbot.settings import Settings

    shown = Settings().masked()
    if args.json:
        print(json.dumps(shown, indent=2))
    else:
        width = max(len(k) for k in shown)
        for key, value in shown.items():
            print(f"{key:<{width}} = {value}")
    return 0
