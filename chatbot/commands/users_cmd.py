from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

HELP = "manage reviewer and engineer accounts: list, add, disable, enable, reset-password"


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True)
    add = sub.add_parser("add", help="create an account (password prompted, or read from stdin)")
    add.add_argument("name")
    add.add_argument("--role", choices=["reviewer", "engineer"], required=True)
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    sub.add_parser("list", help="list accounts: role, disabled, last login, locked until")
    disable = sub.add_parser("disable", help="stop an account logging in; its open sessions end at their next click")
    disable.add_argument("name")
    enable = sub.add_parser("enable", help="let a disabled account log in again (also lifts a lockout)")
    enable.add_argument("name")
    reset = sub.add_parser("reset-password", help="set a new password (ends the account's sessions, lifts a lockout)")
    reset.add_argument("name")
    reset.add_argument("--password-stdin", action="store_true", help="read the password from standard input")


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Repeat password: "):
        from chatbot.errors import BankbotError

        raise BankbotError("the passwords differ")
    return first


def _when(moment: Any) -> str:
    return f"{moment:%Y-%m-%d %H:%M}" if moment is not None else "-"


def list_lines(users: Any, now: Any) -> list[str]:
    """One tab-separated line per account (a lockout that has run out shows as '-')."""
    from chatbot.security import is_locked

    lines = ["username\trole\tdisabled\tlast login (UTC)\tlocked until (UTC)\tcreated"]
    for user in users:
        locked = _when(user.locked_until) if is_locked(user.locked_until, now) else "-"
        disabled = "yes" if user.disabled else "no"
        last_login, created = _when(user.last_login_at), f"{user.created_at:%Y-%m-%d}"
        lines.append(f"{user.username}\t{user.role}\t{disabled}\t{last_login}\t{locked}\t{created}")
    return lines


def run(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from chatbot import audit
    from chatbot.app import build_app
    from chatbot.db import crud
    from chatbot.db.models import UserCreate, utcnow
    from chatbot.errors import BankbotError

    app = build_app()
    app.upgrade_database()
    actor = audit.cli_actor()
    with app.session() as session:
        if args.action == "list":
            print("\n".join(list_lines(crud.list_users(session=session), utcnow())))
            return 0
        if args.action in ("disable", "enable"):
            try:
                user = crud.set_user_disabled(session=session, username=args.name, disabled=args.action == "disable")
            except crud.NotFound as exc:
                raise BankbotError(str(exc)) from exc
            action = audit.Action.user_disabled if args.action == "disable" else audit.Action.user_enabled
            audit.record(app, actor=actor, action=action, target=user.username, client=audit.CLI_CLIENT)
            print(f"{args.action}d {user.role} {user.username}")
            return 0
        password = _read_password(args.password_stdin)
        try:
            if args.action == "reset-password":
                user = crud.reset_password(session=session, username=args.name, password=password)
            else:
                user_create = UserCreate(username=args.name, role=args.role, password=password)
                user = crud.create_user(session=session, user_create=user_create)
        except ValidationError as exc:
            raise BankbotError("the password needs at least 8 characters") from exc
        except (ValueError, crud.NotFound) as exc:
            raise BankbotError(str(exc)) from exc
    if args.action == "reset-password":
        reset = audit.Action.password_reset
        audit.record(app, actor=actor, action=reset, target=user.username, client=audit.CLI_CLIENT)
        print(f"new password set for {user.username}; their open sessions end at their next click")
        return 0
    added, detail = audit.Action.user_added, {"role": user.role}
    audit.record(app, actor=actor, action=added, target=user.username, detail=detail, client=audit.CLI_CLIENT)
    print(f"created {user.role} {user.username}")
    return 0
