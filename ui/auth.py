"""Staff logins for the protected pages, checked against the users table (hashed passwords, roles).

Each protected page is its own Gradio app with ``auth=``; the login callable only lets in the roles the page
allows, and every handler checks the role again from ``request.username`` (an account deleted or demoted after
logging in loses access at its next click).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from typing import Any

from chatbot.db import crud
from chatbot.db.models import Role, User
from chatbot.errors import BankbotError

log = logging.getLogger(__name__)

REVIEW_ROLES: frozenset[str] = frozenset({Role.reviewer, Role.engineer})  # an engineer may also review
DASHBOARD_ROLES: frozenset[str] = frozenset({Role.engineer})


class AccessDenied(BankbotError):
    """Not logged in, or the account's role may not use this page."""


def role_allowed(role: str | None, allowed: Collection[str]) -> bool:
    return role is not None and role in allowed


def login_checker(app: Any, allowed: Collection[str]) -> Callable[[str, str], bool]:
    """A Gradio ``auth`` callable: True only for a correct password on an account with an allowed role."""

    def check(username: str, password: str) -> bool:
        with app.session() as session:
            user = crud.authenticate(session=session, username=username, password=password)
        ok = user is not None and role_allowed(user.role, allowed)
        if not ok:
            log.info("refused login for %r on a page for %s", username, ", ".join(sorted(allowed)))
        return ok

    return check


def current_user(app: Any, username: str | None, allowed: Collection[str]) -> User:
    """The logged-in account for a request, or AccessDenied."""
    if not username:
        raise AccessDenied("please log in")
    with app.session() as session:
        user = crud.get_user_by_username(session=session, username=username)
    if user is None or not role_allowed(user.role, allowed):
        raise AccessDenied(f"{username} may not use this page")
    return user
