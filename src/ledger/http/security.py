"""Security headers on every response (issue 21): the page never runs script it did not load
from this server, is never framed, and no response is sniffed into another type.

The policy allows scripts only from our own files (no inline script, no inline event
handlers, no eval), so text that reaches the page as HTML by mistake still cannot run.
Styles may be inline: ECharts and Swagger UI position their elements with style attributes,
and the rules page (/rules) is a standalone page with its own <style>.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import problem

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])

HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
]
_NAMES = {name for name, _ in HEADERS}


class SecurityHeaders:
    """Pure ASGI middleware, outermost of ours: it also covers what the other middleware answer
    themselves (413 before a body is read) and static files. An exception no handler took would
    reach Starlette's ServerErrorMiddleware, which sits outside every user middleware and answers
    without these headers, so the 500 is answered here (a problem, as every other error) and the
    exception raised on for the server to log."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() not in _NAMES]
                message = {**message, "headers": headers + HEADERS}
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            if not started:
                await problem(500, "服务器内部错误; 若为写入请求, 请查询事件日志确认是否已记录")(
                    scope, receive, send_with_headers)
            raise
