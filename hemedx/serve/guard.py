"""Limits in front of every request: security headers, a body-size cap and a per-client rate limit.

The Content-Security-Policy allows only this server's own script, style and images: no inline script,
no external host, so a nickname that looks like markup can never run, and the app works offline.
"""

from __future__ import annotations

import json
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cache-control", b"no-store"),
]
MAX_BODY = 4096  # bytes: an answer is three ids and a subtype
COOKIE_PREFIX = "hx_"  # a student's cookie is hx_<session id>; its value is their secret


@dataclass(frozen=True)
class Limits:
    """Request limits: per student/teacher, per client address (a whole class can share none), body."""

    rate: float = 10.0
    burst: float = 40.0
    address_rate: float = 100.0
    address_burst: float = 300.0
    max_body: int = MAX_BODY


class TokenBucket:
    """``rate`` requests per second with bursts of ``burst``, per key; the oldest keys are forgotten."""

    def __init__(self, rate: float, burst: float, keys: int = 10000) -> None:
        self.rate, self.burst, self.keys = rate, burst, keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def allow(self, key: str, now: float | None = None) -> bool:
        """Take one token for ``key``; False when its bucket is empty."""
        now = time.monotonic() if now is None else now
        tokens, last = self._buckets.pop(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        allowed = tokens >= 1
        self._buckets[key] = (tokens - 1 if allowed else tokens, now)
        while len(self._buckets) > self.keys:
            self._buckets.popitem(last=False)
        return allowed


async def _reply(send: Send, status: int, message: str, extra: tuple[tuple[bytes, bytes], ...] = ()) -> None:
    body = json.dumps({"error": message}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": [*headers, *HEADERS, *extra]})
    await send({"type": "http.response.body", "body": body})


class Guard:
    """ASGI middleware: adds security headers, refuses a declared body over the cap (413) and floods (429).

    A body without a Content-Length (chunked) is capped where it is read, in the app's JSON reader.

    The rate key is the student cookie or teacher token when present (phones behind one address each
    get their own bucket), else the client address.
    """

    def __init__(self, app: ASGIApp, limits: Limits | None = None) -> None:
        self.app = app
        self.limits = limits or Limits()
        self.per_client = TokenBucket(self.limits.rate, self.limits.burst)
        self.per_address = TokenBucket(self.limits.address_rate, self.limits.address_burst)
        self.max_body = self.limits.max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check limits, then pass on with the headers added to the response."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        length = headers.get("content-length", "")
        if length and (not length.isdigit() or int(length) > self.max_body):
            await _reply(send, 413, f"request body over {self.max_body} bytes")
            return
        identity, address = _client_keys(scope, headers)
        if not ((identity is None or self.per_client.allow(identity)) and self.per_address.allow(address)):
            await _reply(send, 429, "too many requests: wait a second", ((b"retry-after", b"1"),))
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *HEADERS]}
            await send(message)

        await self.app(scope, receive, with_headers)


def _client_keys(scope: Scope, headers: dict[str, str]) -> tuple[str | None, str]:
    """(identity, address): a student cookie or teacher token if sent (else None), and the client address."""
    client: Any = scope.get("client") or ("?", 0)
    address = "a:" + str(client[0])
    for part in headers.get("cookie", "").split(";"):
        name, _, value = part.strip().partition("=")
        if name.startswith(COOKIE_PREFIX) and value:
            return "s:" + value[:64], address
    token = headers.get("x-hemedx-token")
    return ("t:" + token[:64] if token else None), address
