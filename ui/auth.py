"""Staff logins for the protected pages, checked against the users table (hashed passwords, roles, lockout).

Each protected page is its own Gradio app with ``auth=``; the login callable only lets in the roles the page
allows, and every handler checks the account again from ``request.username`` (an account deleted, disabled or
demoted after logging in loses access at its next click).

Gradio keeps its sessions in ``App.tokens`` (a dict: cookie token -> username, in memory, no expiry) and reads it
on every request through ``tokens.get``. ``install_staff_auth`` replaces that dict with a ``SessionStore`` kept in
the database (every replica accepts a session, a restart keeps it) that ends sessions after an idle time and a
maximum age, or when the account is disabled or its password reset, gives the login cookies fixed names, and adds
an ASGI middleware that hands the client address to the login check and hardens the login cookies.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from chatbot.audit import trusted_proxies
from chatbot.db import crud
from chatbot.db.models import Role, User
from chatbot.errors import BankbotError
from chatbot.security import (
    client_address,
    is_trusted_proxy,
    session_revoked,
)
from chatbot.staff_login import LoginPolicy, attempt_login
from ui.staff_sessions import _REQUEST, RequestContext, SessionStore

if TYPE_CHECKING:
    from chatbot.app_services import AppDatabase

log = logging.getLogger(__name__)

REVIEW_ROLES: frozenset[str] = frozenset({Role.reviewer, Role.engineer})  # an engineer may also review
DASHBOARD_ROLES: frozenset[str] = frozenset({Role.engineer})
TOKEN_COOKIE = "access-token-"  # Gradio's cookie names: access-token-<id> and access-token-unsecure-<id>
UNSECURE_COOKIE = "access-token-unsecure-"


class AccessDenied(BankbotError):
    """Not logged in, or the account's role may not use this page."""


def role_allowed(role: str | None, allowed: Collection[str]) -> bool:
    return role is not None and role in allowed


def login_checker(app: AppDatabase, allowed: Collection[str]) -> Callable[[str, str], bool]:
    """A Gradio ``auth`` callable: True only for a correct password on an enabled, unlocked account with an allowed
    role. Every attempt is counted and audited (chatbot.staff_login)."""
    policy = LoginPolicy.from_settings(app.settings)

    def check(username: str, password: str) -> bool:
        context = _REQUEST.get() or RequestContext(client=None, page=None)
        with app.session() as session:
            attempt = attempt_login(
                session=session,
                username=username,
                password=password,
                policy=policy,
                allowed_roles=allowed,
                client=context.client,
                page=context.page,
            )
        if attempt.user is None:
            log.info("refused login for %r from %s: %s", username[:64], context.client, attempt.outcome)
        return attempt.user is not None

    return check


def current_user(app: AppDatabase, username: str | None, allowed: Collection[str]) -> User:
    """The logged-in account for a request, or AccessDenied."""
    if not username:
        raise AccessDenied("please log in")
    with app.session() as session:
        user = crud.get_user_by_username(session=session, username=username)
    if user is None or not role_allowed(user.role, allowed):
        raise AccessDenied(f"{username} may not use this page")
    if user.disabled:
        raise AccessDenied(f"the account {username} is disabled")
    return user


def account_checker(
    app: AppDatabase, allowed: Collection[str], cache_seconds: float = 1.0
) -> Callable[[str, datetime], bool]:
    """``revoked(username, issued)`` for a SessionStore: the account is gone, disabled, no longer has a role the
    page allows, or changed its password after ``issued``. Answers are cached briefly (Gradio asks on every
    request, several per click)."""
    cache: dict[str, tuple[float, User | None]] = {}

    def revoked(username: str, issued: datetime) -> bool:
        hit = cache.get(username)
        if hit is None or time.monotonic() - hit[0] >= cache_seconds:
            with app.session() as session:
                hit = (time.monotonic(), crud.get_user_by_username(session=session, username=username))
            if len(cache) > 1000:
                cache.clear()
            cache[username] = hit
        user = hit[1]
        if user is None or not role_allowed(user.role, allowed):
            return True
        return session_revoked(issued=issued, disabled=user.disabled, password_changed_at=user.password_changed_at)

    return revoked


# --- cookies and the request context ---------------------------------------------------------------------------
def harden_cookie(header: str, *, https: bool, samesite: str) -> str | None:
    """A Set-Cookie header for a Gradio login cookie as this server sends it (None: do not send it).

    Gradio sets the token twice: ``access-token-<id>`` (Secure, SameSite=None, meant for iframes) and
    ``access-token-unsecure-<id>`` (no Secure, for plain HTTP). Both get our SameSite; over HTTPS the plain-HTTP
    copy is dropped and the other one is Secure. Other cookies pass unchanged.
    """
    name = header.split("=", 1)[0].strip()
    if not name.startswith(TOKEN_COOKIE):
        return header
    if https and name.startswith(UNSECURE_COOKIE):
        return None
    parts = [p.strip() for p in header.split(";")]
    kept = [parts[0]] + [p for p in parts[1:] if p and p.split("=", 1)[0].strip().lower() not in {"samesite", "secure"}]
    kept.append(f"SameSite={samesite.capitalize()}")
    if https:
        kept.append("Secure")
    return "; ".join(kept)


class StaffAuthMiddleware:
    """Pure ASGI middleware for the protected pages: the request context for the login check, hardened cookies."""

    def __init__(self, asgi: Any, *, prefixes: Collection[str], settings: Any) -> None:
        self.asgi, self.prefixes, self.settings = asgi, tuple(prefixes), settings

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        page = self._page(scope)
        if page is None:
            await self.asgi(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        peer = (scope.get("client") or (None, None))[0]
        proxies = trusted_proxies(self.settings)
        client = client_address(peer, headers.get("x-forwarded-for"), proxies)
        forwarded_proto = headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
        https = scope.get("scheme") == "https" or (is_trusted_proxy(peer, proxies) and forwarded_proto == "https")
        samesite = self.settings.staff_cookie_samesite

        async def send_hardened(message: Any) -> None:
            if message["type"] == "http.response.start":
                out = []
                for key, value in message.get("headers", []):
                    if key.lower() == b"set-cookie":
                        hardened = harden_cookie(value.decode("latin-1"), https=https, samesite=samesite)
                        if hardened is None:
                            continue
                        value = hardened.encode("latin-1")
                    out.append((key, value))
                message = {**message, "headers": out}
            await send(message)

        reset = _REQUEST.set(RequestContext(client=client, page=page))
        try:
            await self.asgi(scope, receive, send_hardened)
        finally:
            _REQUEST.reset(reset)

    def _page(self, scope: Any) -> str | None:
        if scope.get("type") != "http":
            return None
        path = scope.get("path", "")
        return next((p for p in self.prefixes if path == p or path.startswith(p + "/")), None)


def cookie_id(page: str) -> str:
    """The fixed part of a page's login cookie names: ``/review`` -> ``access-token-bankbot-review``."""
    return "bankbot-" + page.strip("/").replace("/", "-")


def install_staff_auth(server: Any, app: AppDatabase, pages: Mapping[str, Collection[str]]) -> None:
    """Expiring sessions for the Gradio apps mounted at ``pages`` (path -> allowed roles) and the middleware.

    Call after ``gr.mount_gradio_app`` (the apps must be mounted) and before the server starts.
    """
    from starlette.routing import Mount

    settings = app.settings
    found = set()
    for route in server.routes:
        gradio_app: Any = getattr(route, "app", None)
        mounted = isinstance(route, Mount) and route.path in pages
        if not (mounted and hasattr(gradio_app, "tokens") and hasattr(gradio_app, "cookie_id")):
            continue
        gradio_app.tokens = SessionStore(
            app=app,
            page=route.path,
            idle=timedelta(minutes=settings.staff_session_idle_minutes),
            max_age=timedelta(hours=settings.staff_session_max_hours),
            revoked=account_checker(app, pages[route.path]),
        )
        # Gradio names the login cookie after a random id drawn at each start; a fixed one per page lets another
        # replica, or this one restarted, find the cookie its session belongs to.
        gradio_app.cookie_id = cookie_id(route.path)
        found.add(route.path)
    if found != set(pages):
        # A Gradio that no longer mounts its app this way, or no longer names its cookie by ``cookie_id``, would
        # leave sessions without expiry or bound to one process: refuse to start.
        raise RuntimeError(f"no Gradio app mounted at {sorted(set(pages) - found)}: cannot install staff sessions")
    server.add_middleware(StaffAuthMiddleware, prefixes=list(pages), settings=settings)
