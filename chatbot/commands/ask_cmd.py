from __future__ import annotations

import argparse
import json
import sys
import uuid

HELP = "ask the chatbot one question; prints the answer, its sources, confidence and latency"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("question", help="the customer's question (quote it)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    parser.add_argument("--conversation", type=uuid.UUID, default=None, help="continue this conversation id")


def kb_is_empty(app: object) -> bool:
    from retrieval.vector_store import store_collection

    return int(store_collection(app.vector_store).count()) == 0  # type: ignore[attr-defined]


def run(args: argparse.Namespace) -> int:
    from chatbot.app import build_app
    from chatbot.errors import BankbotError, DatabaseUnavailable
    from chatbot.turn_text import validate_question

    app = build_app()
    validate_question(args.question, app.settings.max_question_chars)  # before anything slow is loaded
    try:
        app.upgrade_database()
    except DatabaseUnavailable as exc:
        # The answer does not need the database: the turn is spooled and stored once it is back.
        print(f"bankbot ask: warning: {exc}; the turn will be kept in {app.settings.spool_dir}", file=sys.stderr)
    if kb_is_empty(app):
        raise BankbotError(
            f"the knowledge base collection {app.settings.chroma_collection!r} is empty: run `bankbot ingest` first"
        )
    result = app.pipeline.answer(args.question, conversation_id=args.conversation)
    if args.json:
        print(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
        return 0
    print(result.answer)
    print()
    if result.sources:
        print("Sources:")
        for i, source in enumerate(result.sources, 1):
            marker = "*" if source.article_id in result.cited else " "
            print(f" {marker}[{i}] {source.title} ({source.article_id}, score {source.score:.2f})")
    status = "abstained (handed off to an agent)" if result.abstained else "answered"
    print(f"Confidence {result.confidence:.2f} · {status} · {result.latency_ms:.0f} ms · turn {result.turn_id}")
    return 0
