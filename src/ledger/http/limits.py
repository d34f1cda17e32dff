"""Refuse an oversized upload before its body is read (by its Content-Length); the route
checks the file's own size too, for uploads sent without a length."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from .errors import problem

# Room for the multipart envelope around the document.
ENVELOPE = 64 * 1024


class UploadLimit:
    def __init__(self, app: ASGIApp, max_bytes: int, paths: tuple[str, ...]):
        self.app, self.max_bytes, self.paths = app, max_bytes, paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"] in self.paths:
            length = dict(scope["headers"]).get(b"content-length")
            if length is not None and length.isdigit() and int(length) > self.max_bytes + ENVELOPE:
                response = problem(413, f"文件超过 {self.max_bytes} 字节的限制; 未记录任何事件")
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
