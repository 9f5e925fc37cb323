"""Password hashing with the standard library's scrypt (memory-hard, salted), and the pure rules of staff logins:
lockout, session lifetime, the client address behind a trusted proxy."""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import secrets
from collections.abc import Collection
from datetime import UTC, datetime, timedelta
from functools import cache

_N, _R, _P = 2**14, 8, 1
MIN_PASSWORD_CHARS = 8


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    b64 = base64.b64encode
    return f"scrypt${_N}${_R}${_P}${b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt_b64, digest_b64 = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    salt, expected = base64.b64decode(salt_b64), base64.b64decode(digest_b64)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=int(n), r=int(r), p=int(p), dklen=len(expected))
    return hmac.compare_digest(digest, expected)


@cache
def dummy_hash() -> str:
    """A hash no password matches, checked for unknown usernames: they then cost one scrypt like real accounts, so
    the response time does not tell which usernames exist."""
    return hash_password(secrets.token_urlsafe(32))


def as_utc(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes for timezone-aware columns; they were written in UTC."""
    if moment is None:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def is_locked(locked_until: datetime | None, now: datetime) -> bool:
    until = as_utc(locked_until)
    return until is not None and now < until


def session_alive(*, issued: datetime, last_seen: datetime, now: datetime, idle: timedelta, max_age: timedelta) -> bool:
    """A staff session lives until it has been idle for ``idle`` or exists for ``max_age``, whichever comes first."""
    return now - last_seen < idle and now - issued < max_age


def session_revoked(*, issued: datetime, disabled: bool, password_changed_at: datetime | None) -> bool:
    """A disabled account, or a password changed after the login, ends the session."""
    changed = as_utc(password_changed_at)
    return disabled or (changed is not None and changed > issued)


def token_hash(token: str) -> str:
    """What the sessions table keeps of a login token: its SHA-256, hex. The token is random (Gradio draws 128 bits),
    so a fast unsalted hash leaves nothing to guess, and every replica finds the row from the cookie alone."""
    return hashlib.sha256(token.encode()).hexdigest()


def session_touch_interval(idle: timedelta) -> timedelta:
    """How stale a session's stored last-seen time may get before a request writes it again: a minute, or a tenth of
    the idle limit when that is shorter. A session can thus end idle up to this much early, never late."""
    return min(timedelta(minutes=1), idle / 10)


def client_address(peer: str | None, forwarded_for: str | None, trusted_proxies: Collection[str]) -> str | None:
    """The client's address: the peer, or, when the peer is a trusted proxy, the nearest untrusted address of its
    X-Forwarded-For header (entries left of a spoofable one are ignored). Proxies are addresses or networks."""
    if peer is None or not forwarded_for or not is_trusted_proxy(peer, trusted_proxies):
        return peer
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not is_trusted_proxy(hop, trusted_proxies):
            return hop
    return hops[0] if hops else peer


def is_trusted_proxy(address: str | None, networks: Collection[str]) -> bool:
    if address is None:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    for network in networks:
        try:
            if ip in ipaddress.ip_network(network, strict=False):
                return True
        except ValueError:
            continue
    return False
