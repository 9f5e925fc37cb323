"""Staff login sessions kept in the ``staff_session`` table (see ``SessionStore``): every replica accepts a session,
a restart keeps it, and only the token's hash is stored. ``ui.auth.install_staff_auth`` puts one store per
protected page in place of Gradio's in-memory token dict."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, MutableMapping
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from chatbot.db import crud, staff_session_crud
from chatbot.db.models import utcnow
from chatbot.security import (
    as_utc,
    session_alive,
    session_touch_interval,
    token_hash,
)

if TYPE_CHECKING:
    from chatbot.app_services import AppDatabase

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RequestContext:
    client: str | None
    page: str | None


# Gradio calls the login check with the username and password only; the middleware puts the request's client
# address and page here (a context variable follows the request into Gradio's handler).
_REQUEST: ContextVar[RequestContext | None] = ContextVar("staff_request", default=None)


@dataclass(frozen=True)
class StoredSession:
    """A session as Gradio's logout sees it when it walks ``tokens.keys()``: the stored hash, never a token. Cookie
    values are plain strings, so a hash sent as a cookie is only an unknown token and opens nothing."""

    token_hash: str


@dataclass(frozen=True)
class _Seen:
    username: str
    issued: datetime
    last_seen: datetime


def _one_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class SessionStore(MutableMapping[Any, str]):
    """Gradio's token -> username mapping for one protected page, kept in the ``staff_session`` table: every
    replica accepts the session, and a restart does not log anyone out. The table holds the token's hash only.

    Gradio writes ``tokens[token] = username`` at login, reads ``tokens.get(token)`` on every request and deletes
    tokens at logout. A token idle for ``idle``, older than ``max_age``, or whose account ``revoked`` ends reads as
    absent (Gradio then answers 401 and shows its login form) and its row is deleted. Rows read are cached for
    ``cache_seconds`` (Gradio asks several times per click), so a logout or revocation on another replica shows
    here within that; the last-seen time is written at most every ``session_touch_interval(idle)``. When the
    database cannot answer, the token reads as absent and one line is logged: nothing raises into Gradio.
    """

    def __init__(
        self,
        *,
        app: AppDatabase,
        page: str,
        idle: timedelta,
        max_age: timedelta,
        revoked: Callable[[str, datetime], bool],
        clock: Callable[[], datetime] = utcnow,
        cache_seconds: float = 1.0,
    ) -> None:
        self.app, self.page = app, page
        self.idle, self.max_age, self._revoked, self._clock = idle, max_age, revoked, clock
        self.touch_every = session_touch_interval(idle)
        self.cache_seconds = cache_seconds
        self._cache: dict[str, tuple[float, _Seen | None]] = {}  # token hash -> (monotonic read time, row)

    def __setitem__(self, token: str, username: str) -> None:
        now, key = self._clock(), token_hash(token)
        context = _REQUEST.get()
        try:
            with self.app.session() as session:
                user = crud.get_user_by_username(session=session, username=username)
                if user is None:
                    raise LookupError(f"no account {username!r}")
                # Logins bound the table: expired sessions go when a new one starts.
                staff_session_crud.delete_expired_staff_sessions(
                    session=session, seen_before=now - self.idle, issued_before=now - self.max_age
                )
                client = context.client if context is not None else None
                staff_session_crud.create_staff_session(
                    session=session, token_hash=key, page=self.page, user=user, client=client, now=now
                )
        except Exception as exc:  # the login form comes back at the next request; Gradio must not answer 500
            log.error("could not store the session of %s: %s", username[:64], _one_line(exc))
            return
        self._remember(key, _Seen(username, now, now))

    def __getitem__(self, key: Any) -> str:
        if isinstance(key, StoredSession):  # Gradio's logout comparing a listed session's user
            try:
                seen = self._read(key.token_hash)
            except Exception as exc:
                log.warning("could not read a staff session: %s", _one_line(exc))
                seen = None
            if seen is None:
                raise KeyError(key)
            return seen.username
        username = self._check(token_hash(key)) if isinstance(key, str) and key else None
        if username is None:
            raise KeyError(key)
        return username

    def __delitem__(self, key: Any) -> None:
        """Log a session out; idempotent (another replica may have ended it already)."""
        if isinstance(key, StoredSession):
            self._forget(key.token_hash)
        elif isinstance(key, str) and key:
            self._forget(token_hash(key))

    def __iter__(self) -> Iterator[StoredSession]:
        try:
            with self.app.session() as session:
                hashes = [
                    row.token_hash for row in staff_session_crud.list_staff_sessions(session=session, page=self.page)
                ]
        except Exception as exc:
            log.warning("could not list the staff sessions of %s: %s", self.page, _one_line(exc))
            hashes = []
        return iter([StoredSession(h) for h in hashes])

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def _check(self, key: str) -> str | None:
        """The username of a live session, or None; expired and revoked sessions are deleted."""
        now = self._clock()
        try:
            seen = self._read(key)
        except Exception as exc:
            log.warning("could not read a staff session; refusing this request: %s", _one_line(exc))
            return None
        if seen is None:
            return None
        lifetime = {"idle": self.idle, "max_age": self.max_age}
        if not session_alive(issued=seen.issued, last_seen=seen.last_seen, now=now, **lifetime):
            self._forget(key)
            return None
        try:
            revoked = self._revoked(seen.username, seen.issued)
        except Exception as exc:  # the database cannot say: refuse this request, keep the session for the next one
            log.warning("could not check the account of %s; refusing this request: %s", seen.username, _one_line(exc))
            return None
        if revoked:
            self._forget(key)
            return None
        if now - seen.last_seen >= self.touch_every:
            self._touch(key, seen, now)
        return seen.username

    def _read(self, key: str) -> _Seen | None:
        hit = self._cache.get(key)
        if hit is not None and time.monotonic() - hit[0] < self.cache_seconds:
            return hit[1]
        with self.app.session() as session:
            row = staff_session_crud.get_staff_session(session=session, token_hash=key, page=self.page)
            seen = None if row is None else _Seen(row.username, _utc(row.issued_at), _utc(row.last_seen_at))
        self._remember(key, seen)
        return seen

    def _touch(self, key: str, seen: _Seen, now: datetime) -> None:
        try:
            with self.app.session() as session:
                staff_session_crud.touch_staff_session(session=session, token_hash=key, now=now)
        except Exception as exc:  # the session still counts; its stored last-seen time is only older
            log.warning("could not record activity of %s's session: %s", seen.username, _one_line(exc))
            return
        self._remember(key, _Seen(seen.username, seen.issued, now))

    def _forget(self, key: str) -> None:
        self._cache.pop(key, None)
        try:
            with self.app.session() as session:
                staff_session_crud.delete_staff_session(session=session, token_hash=key)
        except Exception as exc:  # expired or revoked sessions are refused anyway; the row goes at a later login
            log.warning("could not delete a staff session: %s", _one_line(exc))

    def _remember(self, key: str, seen: _Seen | None) -> None:
        if len(self._cache) > 1000:  # bounded: bogus tokens are cached as absent too
            self._cache.clear()
        self._cache[key] = (time.monotonic(), seen)


def _utc(moment: datetime) -> datetime:
    aware = as_utc(moment)
    assert aware is not None  # the columns are NOT NULL
    return aware
