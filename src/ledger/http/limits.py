"""Limits on what a request may make the service hold before any work is done.

Bodies: BodyLimit gives every request body a limit (LEDGER_MAX_BODY_BYTES; the upload
LEDGER_MAX_UPLOAD_BYTES plus the multipart envelope), refusing a declared Content-Length at
once and counting the bytes of a body sent in chunks as they arrive. (FastAPI's own
`max_body_size` counts the same way, but answers a declared length over the limit with its
own plain-text "Content Too Large", replacing any other answer, the 401 included.) Tokens
are checked before the body is read (deps.GuardedRoute).

Headers: `ledger serve` runs uvicorn with HeaderLimitedProtocol, which refuses a request whose
request line and headers exceed LEDGER_MAX_HEADER_BYTES with 431 while they arrive (httptools
alone buffers any amount: 50 MB of headers cost 50 MB). HeaderLimit does the same check in
the application, for any other server.
"""

from __future__ import annotations

import json
import os

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from .errors import problem

# Room for the multipart envelope around the document.
ENVELOPE = 64 * 1024
DEFAULT_HEADER_BYTES = 16 * 1024


class BodyTooLarge(HTTPException):
    """Raised from `receive` once a body passes its limit: FastAPI lets an HTTPException from
    reading the body through, and the handler answers it as a problem (errors.py)."""

    def __init__(self, limit: int):
        super().__init__(413, f"请求体超过 {limit} 字节的限制; 未记录任何事件")


class BodyLimit:
    """A size limit on every request body; `paths` (prefix → limit) for the routes with their own."""

    def __init__(self, app: ASGIApp, max_bytes: int, paths: dict[str, int] | None = None):
        self.app, self.max_bytes, self.paths = app, max_bytes, dict(paths or {})

    def limit_for(self, path: str) -> int:
        return next((limit for prefix, limit in self.paths.items() if path.startswith(prefix)), self.max_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        length = next((value for name, value in scope["headers"] if name == b"content-length"), None)
        if length is not None and (not length.strip().isdigit() or int(length) > limit):
            await problem(413, BodyTooLarge(limit).detail)(scope, receive, send)
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, limited, send)


def header_message(limit: int) -> str:
    return f"请求行与请求头共超过 {limit} 字节的限制"


class HeaderLimit:
    """Refuse a request whose path, query and headers together exceed the limit (431)."""

    def __init__(self, app: ASGIApp, max_bytes: int):
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            size = len(scope.get("raw_path") or b"") + len(scope.get("query_string") or b"")
            size += sum(len(name) + len(value) + 4 for name, value in scope["headers"])
            if size > self.max_bytes:
                await problem(431, header_message(self.max_bytes), headers={"Connection": "close"})(
                    scope, receive, send)
                return
        await self.app(scope, receive, send)


class _HeadersTooLarge(Exception):
    pass


class HeaderLimitedProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a limit on the request line and headers: counted as
    they are parsed, refused with 431 (and the connection closed) once past the limit, also
    when they never end. Headers past the limit are not kept."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.max_header_bytes = header_limit()
        self._header_bytes = 0  # of the request line and headers parsed so far
        self._received = 0  # bytes received since the request began, while in its headers
        self._in_headers = True
        self._too_large = False

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._header_bytes = self._received = 0
        self._in_headers = True

    def on_url(self, url: bytes) -> None:
        self._header_bytes += len(url)
        if self._header_bytes <= self.max_header_bytes:
            super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_bytes += len(name) + len(value) + 4
        if self._header_bytes <= self.max_header_bytes:
            super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_headers = False
        if self._header_bytes > self.max_header_bytes:
            self._too_large = True
            raise _HeadersTooLarge  # uvicorn answers a parser error with send_400_response
        super().on_headers_complete()

    def data_received(self, data: bytes) -> None:
        if self._too_large:
            return
        if self._in_headers:
            self._received += len(data)
        super().data_received(data)
        if self._in_headers and not self._too_large and self._received > self.max_header_bytes:
            # Headers that go on and on: refused before they are all buffered.
            self._too_large = True
            self.send_400_response("")

    def send_400_response(self, msg: str) -> None:
        if not self._too_large:
            super().send_400_response(msg)
            return
        body = json.dumps({"status": 431, "title": "请求头过大", "detail": header_message(self.max_header_bytes),
                           "errors": []}, ensure_ascii=False).encode("utf-8")
        self.transport.write(b"".join([
            b"HTTP/1.1 431 Request Header Fields Too Large\r\n",
            b"content-type: application/json\r\n",
            b"content-length: " + str(len(body)).encode("ascii") + b"\r\n",
            b"connection: close\r\n\r\n", body]))
        self.transport.close()


def header_limit() -> int:
    text = os.environ.get("LEDGER_MAX_HEADER_BYTES", "").strip()
    return int(text) if text.isdigit() else DEFAULT_HEADER_BYTES
