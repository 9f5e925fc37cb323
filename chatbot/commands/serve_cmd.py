from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chatbot.app_services import AppServices

HELP = "start the web app: customer chat at /, review queue at /review, engineer dashboard at /dashboard"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", help="interface to listen on (default: settings.host, 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (default: settings.port, 7860)")
    parser.add_argument(
        "--no-ingest", action="store_true", help="do not ingest the demo knowledge base when the collection is empty"
    )


def _knowledge_base_size(app: AppServices) -> int:
    from retrieval.vector_store import store_collection

    return int(store_collection(app.vector_store).count())


def _check_port(host: str, port: int) -> None:
    """Fail in a second with one line, before the slow start, when the address is taken."""
    import socket

    from chatbot.errors import BankbotError

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise BankbotError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc


def run(args: argparse.Namespace) -> int:
    from chatbot.app import build_app
    from chatbot.errors import BankbotError
    from chatbot.settings import Settings

    settings = Settings()
    host = args.host or settings.host
    port = args.port if args.port is not None else settings.port
    if not 1 <= port <= 65535:
        raise BankbotError(f"--port must be between 1 and 65535, not {port}")
    _check_port(host, port)
    app = build_app(settings)
    app.upgrade_database()  # with migrate_on_start false: only checks the schema is at head
    if not args.no_ingest and _knowledge_base_size(app) == 0:
        from retrieval.ingest import ingest

        print("knowledge base is empty: ingesting the demo articles…", flush=True)
        report = ingest(settings, app.vector_store, None, progress=False)
        for source, why in report.skipped:
            print(f"  skipped {source}: {why}", flush=True)
        print(f"knowledge base ready: {_knowledge_base_size(app)} chunks", flush=True)

    from ui.server import serve

    shown = "localhost" if host in {"0.0.0.0", "127.0.0.1", "::"} else host
    base = f"http://{shown}:{port}"
    print(f"bankbot web app: {base}/  (review: {base}/review, dashboard: {base}/dashboard)", flush=True)
    serve(app, host=host, port=port)
    return 0
