"""Access control and request limits, as one pure ASGI middleware in front of the app.

* **Bind rule** (:func:`check_bind`): a loopback address (``127.0.0.0/8``, ``::1``,
  ``localhost``) needs nothing; any other bind needs a token, or the server refuses to
  start (:class:`BindError`, exit 2) *before* opening a socket.
* **Token**: when one is configured, every HTTP request must carry
  ``Authorization: Bearer TOKEN`` (or ``?token=TOKEN``, which is what a browser page can
  pass on) and every WebSocket handshake the same header or ``?token=``; otherwise HTTP
  answers ``401`` with ``WWW-Authenticate: Bearer``, and a WebSocket handshake is denied
  with an HTTP ``401`` response (ASGI "websocket.http.response" extension; where the
  server lacks it, the handshake is closed with code 1008). Tokens are compared in
  constant time (``hmac.compare_digest``).
* **Limits**: a request target longer than ``max_url_bytes`` → ``414``; a request body
  (none of the endpoints takes one) larger than ``max_body_bytes`` → ``413``, judged from
  ``Content-Length`` before anything is read. Query values are bounded by the endpoints.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qs

__all__ = ["AccessMiddleware", "BindError", "check_bind", "is_loopback"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class BindError(ValueError):
    """A bind address that needs a token was given without one."""


def is_loopback(host: str) -> bool:
    """Whether ``host`` only accepts connections from this machine."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(host: str, token: str | None) -> None:
    """Raise :class:`BindError` when ``host`` is not loopback and no token is set."""
    if not is_loopback(host) and not token:
        raise BindError(
            f"refusing to bind {host}: a non-local address needs a token "
            "(--token TOKEN, SKYFUSE_TOKEN or [server] token in the config); "
            "without one, bind 127.0.0.1")


def _token_of(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            text = value.decode("latin-1")
            scheme, _, cred = text.partition(" ")
            if scheme.lower() == "bearer":
                return cred.strip()
    q = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    vals = q.get("token")
    return vals[0] if vals else None


class AccessMiddleware:
    """Token check and size limits around ``app`` (see the module docstring)."""

    def __init__(self, app: ASGIApp, token: str | None, *, max_url_bytes: int = 4096,
                 max_body_bytes: int = 65536) -> None:
        self.app = app
        self.token = token or None
        self.max_url_bytes = max_url_bytes
        self.max_body_bytes = max_body_bytes

    def _authorised(self, scope: Scope) -> bool:
        if self.token is None:
            return True
        got = _token_of(scope)
        return got is not None and hmac.compare_digest(got.encode(), self.token.encode())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the limits, then the token; pass the request on or answer the refusal."""
        kind = scope["type"]
        if kind not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        url_len = len(scope.get("raw_path") or scope.get("path", "").encode()) + len(
            scope.get("query_string", b""))
        if url_len > self.max_url_bytes:
            await self._deny(kind, scope, receive, send, 414, "request target too long")
            return
        if kind == "http":
            for name, value in scope.get("headers", ()):
                if name == b"content-length" and (not value.isdigit()
                                                  or int(value) > self.max_body_bytes):
                    await self._deny(kind, scope, receive, send, 413, "request body too large")
                    return
        if not self._authorised(scope):
            await self._deny(kind, scope, receive, send, 401, "missing or wrong token")
            return
        await self.app(scope, receive, send)

    @staticmethod
    async def _deny(kind: str, scope: Scope, receive: Receive, send: Send, status: int,
                    detail: str) -> None:
        body = json.dumps({"detail": detail}).encode()
        headers = [(b"content-type", b"application/json"),
                   (b"content-length", str(len(body)).encode())]
        if status == 401:
            headers.append((b"www-authenticate", b"Bearer"))
        if kind == "http":
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        await receive()                                  # websocket.connect
        if "websocket.http.response" in scope.get("extensions", {}):
            await send({"type": "websocket.http.response.start", "status": status,
                        "headers": headers})
            await send({"type": "websocket.http.response.body", "body": body})
        else:
            await send({"type": "websocket.close", "code": 1008, "reason": detail})
