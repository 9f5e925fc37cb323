"""The pure rules behind the abuse limits (ui/limits.py): which route a request counts against, who the client is
(an IPv6 /64, a trusted proxy's X-Forwarded-For), Retry-After and the rate settings. The limits on the running
server are tests/test_abuse_limits.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from ui.limits import AbuseLimits, client_key, parse_rates, retry_after_s, route_class


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("POST", "/api/chat", "api_chat"),
        ("GET", "/api/chat", "api_chat"),
        ("POST", "/gradio_api/queue/join", "web_chat"),
        ("POST", "/gradio_api/call/respond", "web_chat"),
        ("POST", "/gradio_api/run/predict", "web_chat"),
        ("POST", "/gradio_api/upload", "web_chat"),
        ("GET", "/gradio_api/queue/data", "other"),
        ("POST", "/review/gradio_api/queue/join", "other"),  # behind the staff login
        ("GET", "/articles/card_delivery_estimate", "articles"),
        ("POST", "/review/login", "login"),
        ("POST", "/dashboard/login/", "login"),
        ("POST", "/login", "login"),
        ("GET", "/review/login", "other"),
        ("GET", "/", "other"),
        ("GET", "/config", "other"),
        ("GET", "/healthz", "other"),
        ("GET", "/assets/index-abc.js", None),
        ("GET", "/review/assets/index-abc.js", None),
        ("GET", "/favicon.ico", None),
        ("POST", "/assets/x", "other"),
    ],
)
def test_route_classes(method: str, path: str, expected: str | None) -> None:
    assert route_class(method, path) == expected


def test_client_keys() -> None:
    assert client_key("203.0.113.7") == "203.0.113.7"
    assert client_key("2001:db8:1:2:3:4:5:6") == "2001:db8:1:2::/64"  # a customer's whole /64 is one client
    assert client_key("2001:db8:1:2:ffff::1") == "2001:db8:1:2::/64"
    assert client_key("::ffff:203.0.113.7") == "203.0.113.7"
    assert client_key("testclient") == "testclient"
    assert client_key(None) == client_key("") == "unknown"


def test_retry_after_and_rates() -> None:
    assert retry_after_s(100.2, 90.0) == 11
    assert retry_after_s(90.0, 90.5) == 1  # never 0: a client would retry at once
    rates = parse_rates({"api_chat": "3/minute;10/hour", "other": ""})
    assert [str(r) for r in rates["api_chat"]] == ["3 per 1 minute", "10 per 1 hour"]
    assert rates["other"] == []


def test_rate_settings_are_checked() -> None:
    from pydantic import ValidationError

    from chatbot.settings import Settings

    with pytest.raises(ValidationError, match="rate_limit_api_chat"):
        Settings(rate_limit_api_chat="lots")
    with pytest.raises(ValidationError, match="trusted_proxies"):
        Settings(trusted_proxies=["10.0.0.0/8", "proxy.local"])
    assert Settings(rate_limit_other=" ").rate_limit_other == ""


def test_forwarded_for_counts_only_from_trusted_proxies() -> None:
    middleware = AbuseLimits(
        None, rates={}, storage_uri="memory://", max_body_bytes=1024, trusted_proxies=["10.0.0.0/8"]
    )

    def scope(peer: str, forwarded: str | None) -> dict[str, Any]:
        headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded else []
        return {"type": "http", "client": (peer, 5000), "headers": headers}

    assert middleware.client(scope("203.0.113.9", "198.51.100.1")) == "203.0.113.9"  # spoofed: ignored
    assert middleware.client(scope("10.0.0.5", "198.51.100.1")) == "198.51.100.1"
    # the proxy appends the address it saw; an entry the client wrote itself (left of it) does not count
    assert middleware.client(scope("10.0.0.5", "1.1.1.1, 198.51.100.1, 10.0.0.4")) == "198.51.100.1"
