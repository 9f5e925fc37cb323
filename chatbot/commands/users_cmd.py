from __future__ import annotations

import argparse
import getpass
import sys

HELP = "manage reviewer and engineer accounts"


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True)
    add = sub.add_parser("add", help="create an account (password prompted, or read from stdin)")
    add.add_argument("name")
    add.add_argument("--role", choices=["reviewer", "engineer"], required=True)
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    sub.add_parser("list", help="list accounts")


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Repeat password: "):
        from chatbot.errors import BankbotError

        raise BankbotError("the passwords differ")
    return first


def run(args: argparse.Namespace) -> int:
    from pydantic import ValidationError
    from sqlmodel import select

    from chatbot.app import build_app
    from chatbot.db import crud
    from chatbot.db.models import User, UserCreate
    from chatbot.errors import BankbotError

    app = build_app()
    app.upgrade_database()
    with app.session() as session:
        if args.action == "list":
            for user in session.exec(select(User).order_by(User.username)).all():
                print(f"{user.username}\t{user.role}\t{user.created_at:%Y-%m-%d}")
            return 0
        password = _read_password(args.password_stdin)
        try:
            user_create = UserCreate(username=args.name, role=args.role, password=password)
            user = crud.create_user(session=session, user_create=user_create)
        except ValidationError as exc:
            raise BankbotError("the password needs at least 8 characters") from exc
        except ValueError as exc:
            raise BankbotError(str(exc)) from exc
    print(f"created {user.role} {user.username}")
    return 0
