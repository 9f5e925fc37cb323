"""Abuse limits of the public web server: per-client rate limits, a request-body cap, bounded /api/chat work.

``AbuseLimits`` is a plain ASGI middleware around the whole server (the chat API, the three Gradio apps, the article
pages). It sorts each request into a class (``route_class``), counts it against that class's per-client rate with
the ``limits`` library (moving window; in-process memory by default, Redis or another ``limits`` storage when the
server runs as several processes) and answers 429 with ``Retry-After`` when the client is over. Request bodies over
``max_body_bytes`` get 413 before anything parses them: at once from ``Content-Length``, or as soon as the streamed
bytes pass the cap. The client is the TCP peer; ``X-Forwarded-For`` counts only when the peer is a trusted proxy
(``chatbot.security.client_address``, the same rule the staff login and the audit log use).

``ChatRunner`` bounds the /api/chat work: a fixed number of answers in flight (more get 503 at once, never a queue
of threads), each given up after a deadline (504). A given-up answer is not killed: the model may hold the engine
lock, so it finishes in its worker thread and the pipeline logs the turn as usual; its slot frees only then, so
slow answers cannot pile up behind the ones the clients gave up on.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import math
import re
import threading
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from chatbot.security import client_address

log = logging.getLogger(__name__)

T = TypeVar("T")
Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

BUSY_RETRY_AFTER_S = 5  # what a 503 (chat queue full) tells the client to wait: a few answers' time
IPV6_CLIENT_PREFIX = 64  # one IPv6 customer usually owns a whole /64: counting single addresses would not limit it

# The chat page's event routes (Gradio 6, app mounted at "/"): a question, a thumb or a comment each starts one.
_WEB_CHAT_EVENT = re.compile(r"^/gradio_api/(queue/join|call/|run/|api/|upload)")
_LOGIN = re.compile(r"^(/review|/dashboard)?/login/?$")
# Static files of the Gradio front end: one page load fetches dozens; they are cheap and would drown the real rate.
_STATIC = re.compile(
    r"^(/review|/dashboard)?/(assets/|static/|svelte/|favicon\.ico$|theme\.css$|robots\.txt$|manifest\.json$|pwa_icon)"
)
ROUTE_CLASSES = ("api_chat", "web_chat", "articles", "login", "other")


def route_class(method: str, path: str) -> str | None:
    """Which per-client rate a request counts against, or None for static assets (not counted)."""
    if path.rstrip("/") == "/api/chat":
        return "api_chat"
    if path.startswith("/articles/"):
        return "articles"
    if method == "POST" and _LOGIN.match(path):
        return "login"
    if method == "POST" and _WEB_CHAT_EVENT.match(path):
        return "web_chat"
    if method in ("GET", "HEAD") and _STATIC.match(path):
        return None
    return "other"


def client_key(address: str | None) -> str:
    """The rate-limit identity of a client address: IPv4 as is, IPv6 by its /64 network."""
    if not address:
        return "unknown"
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address  # a unix socket or a test client's name
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:  # ::ffff:a.b.c.d is the IPv4 client a.b.c.d
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/{IPV6_CLIENT_PREFIX}", strict=False))
    return str(ip)


def retry_after_s(reset_time: float, now: float) -> int:
    """Whole seconds until the moving window frees a slot (at least 1, as Retry-After must be positive)."""
    return max(1, math.ceil(reset_time - now))


def parse_rates(rates: Mapping[str, str]) -> dict[str, list[Any]]:
    """{route class: [RateLimitItem, ...]} from the settings' rate strings ("" = not limited)."""
    from limits import parse_many

    return {name: parse_many(text) if text.strip() else [] for name, text in rates.items()}


def rates_from_settings(settings: Any) -> dict[str, str]:
    return {name: str(getattr(settings, f"rate_limit_{name}")) for name in ROUTE_CLASSES}


def uvicorn_options(settings: Any) -> dict[str, Any]:
    """What ``bankbot serve`` tells uvicorn. proxy_headers off: uvicorn's default takes X-Forwarded-For from any local
    peer, and one local client could then pose as many; the app reads it only from settings.trusted_proxies.
    limit_concurrency: connections beyond it get 503, so memory stays bounded however many clients connect."""
    return {"proxy_headers": False, "limit_concurrency": settings.max_connections}


def async_storage_uri(uri: str) -> str:
    """The async variant of a ``limits`` storage URI: the middleware runs on the event loop and must not block it."""
    return uri if uri.startswith("async+") else f"async+{uri}"


async def json_response(
    send: Send, status: int, body: Mapping[str, Any], headers: Sequence[tuple[str, str]] = ()
) -> None:
    data = json.dumps(body).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
    raw += [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": data})


class _BodyTooLarge(Exception):
    pass


class AbuseLimits:
    """ASGI middleware: per-client rate limits (429) and the request-body cap (413) for every HTTP request."""

    def __init__(
        self,
        app: Any,
        *,
        rates: Mapping[str, str],
        storage_uri: str,
        max_body_bytes: int,
        trusted_proxies: Sequence[str] = (),
    ) -> None:
        from limits.aio.strategies import MovingWindowRateLimiter
        from limits.storage import storage_from_string

        self.app = app
        self.rates = parse_rates(rates)
        self.max_body_bytes = max_body_bytes
        self.trusted_proxies = tuple(trusted_proxies)
        self.limiter = MovingWindowRateLimiter(storage_from_string(async_storage_uri(storage_uri)))

    def client(self, scope: Scope) -> str:
        peer = (scope.get("client") or (None,))[0]
        forwarded = _header(scope, b"x-forwarded-for")
        return client_key(client_address(peer, forwarded, self.trusted_proxies))

    async def over_limit(self, bucket: str, client: str) -> tuple[Any, int] | None:
        """(the exceeded rate, seconds to wait) or None when the request may go on."""
        for item in self.rates.get(bucket, []):
            try:
                if await self.limiter.hit(item, bucket, client):
                    continue
                stats = await self.limiter.get_window_stats(item, bucket, client)
            except Exception as exc:  # a shared storage being down must not take the bank's chat down with it
                log.error("rate-limit storage failed, request let through: %s", exc)
                return None
            return item, retry_after_s(stats.reset_time, time.time())
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        bucket = route_class(scope["method"], scope["path"])
        if bucket is not None:
            over = await self.over_limit(bucket, self.client(scope))
            if over is not None:
                item, wait = over
                message = f"too many requests: at most {item} from one client here; try again in {wait} s"
                await json_response(send, 429, {"error": message}, [("retry-after", str(wait))])
                return
        declared = _header(scope, b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_body_bytes):
            await self._too_large(send)
            return
        await self._call_capped(scope, receive, send)

    async def _too_large(self, send: Send) -> None:
        body = {"error": f"the request body is over {self.max_body_bytes} bytes (BANKBOT_MAX_BODY_BYTES)"}
        await json_response(send, 413, body, [("connection", "close")])

    async def _call_capped(self, scope: Scope, receive: Receive, send: Send) -> None:
        received = 0
        overflowed = False
        started = False

        async def capped_receive() -> Message:
            nonlocal received, overflowed
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    overflowed = True
                    raise _BodyTooLarge
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            if overflowed:  # the app's own error page for the exception above: the 413 below replaces it
                return
            if message["type"] == "http.response.start":
                started = True
                if message["status"] == 503 and not _has_header(message, b"retry-after"):
                    # Gradio's "queue is full" says nothing about when to come back
                    message = {
                        **message,
                        "headers": [*message["headers"], (b"retry-after", str(BUSY_RETRY_AFTER_S).encode())],
                    }
            await send(message)

        try:
            await self.app(scope, capped_receive, watched_send)
        except _BodyTooLarge:
            pass
        except Exception:
            if not overflowed:
                raise
        if overflowed and not started:
            await self._too_large(send)


def _header(scope: Scope, name: bytes) -> str | None:
    values = [value for key, value in scope.get("headers", []) if key == name]
    return b", ".join(values).decode("latin-1").strip() if values else None


def _has_header(message: Message, name: bytes) -> bool:
    return any(key.lower() == name for key, _ in message.get("headers", []))


class Busy(Exception):
    """Every /api/chat slot is taken."""


class DeadlineExceeded(Exception):
    """The answer did not come within the deadline (it is still being written, and will be logged)."""


@dataclass
class ChatRunner:
    """At most ``slots`` answers in flight, each awaited for at most ``deadline_s`` seconds."""

    slots: int
    deadline_s: float

    def __post_init__(self) -> None:
        self._free = threading.BoundedSemaphore(self.slots)
        self._pool = ThreadPoolExecutor(max_workers=self.slots, thread_name_prefix="api-chat")

    async def run(self, work: Callable[[], T]) -> T:
        """``work()`` in a worker thread; Busy when no slot is free, DeadlineExceeded when it takes too long."""
        if not self._free.acquire(blocking=False):
            raise Busy

        def bounded() -> T:
            try:
                return work()
            finally:
                self._free.release()  # when the work ends, not when the client stops waiting

        try:
            future = asyncio.get_running_loop().run_in_executor(self._pool, bounded)
        except BaseException:
            self._free.release()
            raise
        # Read a late result or error, so asyncio does not log "exception was never retrieved" after a 504.
        future.add_done_callback(lambda done: done.cancelled() or done.exception())
        try:
            return await asyncio.wait_for(asyncio.shield(future), self.deadline_s)
        except TimeoutError:
            raise DeadlineExceeded from None

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
