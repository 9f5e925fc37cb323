"""`bankbot` console script: one entry point, one module per subcommand in chatbot/commands/.

Each command module defines ``HELP``, ``configure(parser)`` and ``run(args) -> int`` and imports heavy
libraries only inside ``run``, so ``bankbot --help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

COMMANDS: tuple[str, ...] = (
    "config",
    "db",
    "users",
    "ingest",
    "ask",
    "serve",
    "nightly",
    "models",
    "eval",
    "simulate",
)


def _module_name(command: str) -> str:
    return f"chatbot.commands.{command}_cmd"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bankbot", description="Self-hosted banking support chatbot that learns from feedback."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        # A missing command module is a packaging bug: let the ImportError surface.
        module = importlib.import_module(_module_name(name))
        p = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.configure(p)
        p.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from pydantic import ValidationError

    from chatbot.errors import BankbotError

    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args._run(args) or 0)
    except BankbotError as exc:
        print(f"bankbot {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except ValidationError as exc:
        problems = "; ".join(
            f"BANKBOT_{'_'.join(str(p) for p in err['loc']).upper()}: {err['msg']}" for err in exc.errors()
        )
        print(f"bankbot {args.command}: error: invalid settings: {problems}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"bankbot {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
