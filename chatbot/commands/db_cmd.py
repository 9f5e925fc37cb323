from __future__ import annotations

import argparse
import sys

HELP = "manage the database schema (Alembic migrations)"


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True)
    up = sub.add_parser("upgrade", help="migrate to the newest schema (default) or a given revision")
    up.add_argument("revision", nargs="?", default="head")
    down = sub.add_parser("downgrade", help="migrate down to a revision ('base' removes every table)")
    down.add_argument("revision")
    current = sub.add_parser("current", help="print the current and the newest revision")
    current.add_argument(
        "--check", action="store_true", help="exit 1 with one line unless the database is at the newest revision"
    )


def run(args: argparse.Namespace) -> int:
    from chatbot.app import build_app
    from chatbot.db import migrate
    from chatbot.db.engine import check_connection
    from chatbot.settings import mask_url

    app = build_app()
    check_connection(app.engine)
    url = mask_url(app.settings.effective_database_url)
    if args.action == "upgrade":
        # Under the migration lock: replicas or other deploy steps upgrading at the same time wait, then find it done.
        before = migrate.current_revision(app.engine)
        migrate.upgrade(app.engine, args.revision)
        print(f"database {url} at revision {migrate.current_revision(app.engine)} (was {before or 'none'})")
    elif args.action == "downgrade":
        migrate.downgrade(app.engine, args.revision)
        print(f"database {url} at revision {migrate.current_revision(app.engine) or 'base'}")
    else:
        print(f"current: {migrate.current_revision(app.engine) or 'none'}  head: {migrate.head_revision(app.engine)}")
        if args.check:
            try:
                migrate.require_head(app.engine)
            except migrate.SchemaNotAtHead as exc:
                print(f"bankbot db current: {exc}", file=sys.stderr)
                return 1
    return 0
