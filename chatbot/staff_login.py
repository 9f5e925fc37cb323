"""Staff login checks: throttling per account and per client address, temporary lockout, disabled accounts.

Every attempt costs one scrypt (a dummy hash for unknown names) and gives the caller the same answer whatever the
reason it failed, so neither timing nor messages tell which accounts exist or are locked. Failures are counted on
the account row (every replica sees the lockout) and, per client address, from the audit log (ditto).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col

from chatbot.db import crud
from chatbot.db.models import User, utcnow
from chatbot.security import dummy_hash, is_locked, verify_password

# Unsuccessful outcomes that count against a client address.
FAILURE_ACTIONS = ("login_failure", "login_lockout", "login_refused")


@dataclass(frozen=True)
class LoginPolicy:
    max_failures: int = 5  # consecutive failures that lock the account
    lockout: timedelta = timedelta(minutes=15)  # how long; also the window of the per-address count
    client_max_failures: int = 20  # unsuccessful logins from one address within ``lockout``

    @classmethod
    def from_settings(cls, settings: Any) -> LoginPolicy:
        return cls(
            max_failures=settings.staff_login_max_failures,
            lockout=timedelta(minutes=settings.staff_lockout_minutes),
            client_max_failures=settings.staff_client_max_failures,
        )


@dataclass(frozen=True)
class LoginAttempt:
    user: User | None  # set only when the login succeeded
    outcome: str  # ok | bad_password | unknown_user | lockout | locked | disabled | wrong_role | client_throttled

    @property
    def action(self) -> str:
        """The audit action this outcome is recorded as."""
        if self.outcome == "ok":
            return "login_success"
        if self.outcome in ("bad_password", "unknown_user"):
            return "login_failure"
        return "login_lockout" if self.outcome == "lockout" else "login_refused"


def attempt_login(
    *,
    session: Session,
    username: str,
    password: str,
    policy: LoginPolicy | None = None,
    allowed_roles: Collection[str] | None = None,
    client: str | None = None,
    page: str | None = None,
    now: datetime | None = None,
) -> LoginAttempt:
    """Check a staff login, count it and write it to the audit log, in one transaction."""
    policy = policy or LoginPolicy()
    now = now or utcnow()
    user = crud.get_user_by_username(session=session, username=username)
    password_ok = verify_password(password, user.password_hash if user is not None else dummy_hash())
    throttled = client is not None and (
        crud.count_audit_events(session=session, actions=FAILURE_ACTIONS, client=client, since=now - policy.lockout)
        >= policy.client_max_failures
    )
    if throttled:
        outcome = "client_throttled"
    elif user is None:
        outcome = "unknown_user"
    elif user.disabled:
        outcome = "disabled"
    elif is_locked(user.locked_until, now):
        outcome = "locked"
    elif not password_ok:
        outcome = _count_failure(session, user, policy, now)
    elif allowed_roles is not None and user.role not in allowed_roles:
        outcome = "wrong_role"  # the password was right: not a guess, nothing counted
    else:
        user.failed_logins, user.locked_until, user.last_login_at = 0, None, now
        session.add(user)
        outcome = "ok"
    attempt = LoginAttempt(user=user if outcome == "ok" else None, outcome=outcome)
    detail: dict[str, Any] = {"page": page} if page else {}
    if outcome != "ok":
        detail["reason"] = outcome
    crud.add_audit_event(
        session=session,
        # A failed login records the name typed, which is sometimes a password typed in the wrong box: engineers
        # only see it, and only the first 64 characters are kept.
        actor=username,
        role=user.role if user is not None else None,
        action=attempt.action,
        detail=detail,
        client=client,
        at=now,
    )
    session.commit()
    if attempt.user is not None:
        session.refresh(attempt.user)
    return attempt


def _count_failure(session: Session, user: User, policy: LoginPolicy, now: datetime) -> str:
    # An atomic increment: failures arriving at two replicas at once are both counted.
    session.execute(update(User).where(col(User.id) == user.id).values(failed_logins=col(User.failed_logins) + 1))
    session.refresh(user)
    if user.failed_logins < policy.max_failures:
        return "bad_password"
    user.failed_logins, user.locked_until = 0, now + policy.lockout
    session.add(user)
    return "lockout"
