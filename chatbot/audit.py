"""The audit log of staff actions: who did what, when, from where (table ``audit_event``, shown on the dashboard).

Logins are recorded by ``chatbot.staff_login`` in the login's own transaction. Other actions call ``record`` once
they are done: the action has happened by then, so a failure to write its row is logged loudly, not raised.
"""

from __future__ import annotations

import getpass
import logging
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from chatbot.security import client_address

if TYPE_CHECKING:
    from chatbot.app_services import AppDatabase

log = logging.getLogger(__name__)


class Action(StrEnum):
    login_success = "login_success"
    login_failure = "login_failure"  # wrong password or unknown user
    login_lockout = "login_lockout"  # the failure that locked the account
    login_refused = "login_refused"  # locked, disabled, wrong role for the page, or the address is throttled
    review_submitted = "review_submitted"
    promote = "promote"
    rollback = "rollback"
    user_added = "user_added"
    user_disabled = "user_disabled"
    user_enabled = "user_enabled"
    password_reset = "password_reset"


CLI_CLIENT = "cli"


def cli_actor() -> str:
    """How an action run from the command line is attributed: the operating-system account."""
    return f"cli:{getpass.getuser()}"


def record(
    app: AppDatabase,
    *,
    actor: str,
    action: str,
    role: str | None = None,
    target: str | None = None,
    detail: dict[str, Any] | None = None,
    client: str | None = None,
) -> None:
    """Write one audit row in its own transaction."""
    from chatbot.db import crud

    try:
        with app.session() as session:
            crud.add_audit_event(
                session=session, actor=actor, action=action, role=role, target=target, detail=detail, client=client
            )
            session.commit()
    except Exception:
        log.exception("AUDIT LOG WRITE FAILED: %s by %s on %s (%s)", action, actor, target, detail)


def trusted_proxies(settings: Any) -> tuple[str, ...]:
    # One list of proxies for the whole server (the abuse limits read it too).
    return tuple(settings.trusted_proxies)


def request_client(request: Any, settings: Any) -> str | None:
    """The client address of a Starlette or Gradio request, through trusted proxies only."""
    if request is None:
        return None
    peer = getattr(getattr(request, "client", None), "host", None)
    headers = getattr(request, "headers", None) or {}
    return client_address(peer, headers.get("x-forwarded-for"), trusted_proxies(settings))


def record_request(
    app: AppDatabase,
    request: Any,
    user: Any,
    action: str,
    *,
    target: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """``record`` for a web action by the logged-in ``user`` (a User row), from the request's address."""
    client = request_client(request, app.settings)
    record(app, actor=user.username, role=user.role, action=action, target=target, detail=detail, client=client)


def event_rows(events: Any) -> list[list[Any]]:
    """Audit rows for the dashboard table, newest first as given."""
    import json

    return [
        [
            f"{e.at:%Y-%m-%d %H:%M:%S}",
            e.actor,
            e.role or "",
            e.action,
            e.target or "",
            json.dumps(e.detail, sort_keys=True, ensure_ascii=False) if e.detail else "",
            e.client or "",
        ]
        for e in events
    ]
