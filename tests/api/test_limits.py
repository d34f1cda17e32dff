"""Limits before work, against the real server (`ledger serve`): a token is checked before a
body is read, every body and every header set has a size limit (also when the body is sent
in chunks without a Content-Length, or the headers never end), and the refusals say so in
Chinese, recording nothing."""

from __future__ import annotations

import select
import socket
import time

import httpx
from fastapi.testclient import TestClient

from ledger.http.app import create_app
from ledger.http.deps import Settings

from .api_support import BUDGET, SEED, Server, bearer

MiB = 1024 * 1024
LINE = {"code": "2210399", "kind": "basic", "economic": "基本工资/工资奖金津补贴", "cost": "personnel"}


def chunks(total: int, size: int = 64 * 1024):
    """A body sent with Transfer-Encoding: chunked (httpx sends a generator so): no length."""
    sent = 0
    while sent < total:
        piece = min(size, total - sent)
        sent += piece
        yield b" " * piece


def recorded(server) -> int:
    return httpx.get(f"{server.url}/api/health").json()["position"]


def test_an_anonymous_body_is_refused_before_it_is_read(server):
    before = recorded(server)
    server.reset_peak()
    rss = server.rss()
    started = time.monotonic()
    # 50 MiB without a Content-Length: the server cannot know its size, only the token.
    response = httpx.post(f"{server.url}{BUDGET}/adjustments", content=chunks(50 * MiB),
                          headers={"Content-Type": "application/json"}, timeout=60)
    assert response.status_code == 401, response.text
    assert "需要令牌" in response.json()["detail"]
    upload = httpx.post(f"{server.url}/api/documents", content=chunks(50 * MiB), timeout=60,
                        headers={"Content-Type": "multipart/form-data; boundary=x", **bearer("x" * 32)})
    assert upload.status_code == 401 and upload.json()["detail"] == "令牌无效"
    assert time.monotonic() - started < 30
    # Nothing of the bodies was kept (before: 1.39 GB for one such body).
    assert server.rss("VmHWM") - rss < 30 * MiB, (rss, server.rss("VmHWM"))
    assert recorded(server) == before


def test_a_json_body_over_the_limit_is_413_whether_or_not_it_says_its_length(server, tokens):
    before = recorded(server)
    url = f"{server.url}{BUDGET}/adjustments"
    officer = {**bearer(tokens["officer"]), "Content-Type": "application/json"}
    declared = httpx.post(url, content=b" " * (MiB), headers=officer, timeout=60)
    streamed = httpx.post(url, content=chunks(10 * MiB), headers=officer, timeout=60)
    for response in (declared, streamed):
        assert response.status_code == 413, response.text
        problem = response.json()
        assert problem["title"] == "请求体过大"
        assert problem["detail"] == f"请求体超过 {64 * 1024} 字节的限制; 未记录任何事件"
    # Just under the limit is read and judged on its content (here: a valid command, padded).
    body = httpx.Request("POST", url, json={"line": LINE, "amount": "1.00", "reason": "x" * 900}).content
    padded = body + b" " * (64 * 1024 - len(body))
    accepted = httpx.post(url, content=padded, headers=officer, timeout=60)
    assert accepted.status_code == 201, accepted.text
    assert recorded(server) == before + 1


def multipart(total: int):
    """A well-formed multipart upload of a file of `total` bytes, sent in chunks."""
    yield b'--x\r\nContent-Disposition: form-data; name="file"; filename="big.txt"\r\n' \
          b"Content-Type: text/plain\r\n\r\n"
    yield from chunks(total)
    yield b"\r\n--x--\r\n"


def test_an_upload_over_its_limit_is_413_also_in_chunks(server, tokens):
    before = recorded(server)
    admin = {**bearer(tokens["admin"]), "Content-Type": "multipart/form-data; boundary=x"}
    response = httpx.post(f"{server.url}/api/documents", content=multipart(8 * MiB), headers=admin, timeout=60)
    assert response.status_code == 413, response.text
    assert response.json()["detail"] == f"请求体超过 {5 * MiB + 64 * 1024} 字节的限制; 未记录任何事件"
    assert recorded(server) == before


def test_the_body_limit_is_configurable(database_url, tokens, tmp_path):
    server = Server(database_url, tokens, tmp_path / "serve.log", env={"LEDGER_MAX_BODY_BYTES": "1000"})
    try:
        response = httpx.post(f"{server.url}{BUDGET}/adjustments", content=chunks(2000, 100),
                              headers={**bearer(tokens["officer"]), "Content-Type": "application/json"})
        assert response.status_code == 413 and "1000 字节" in response.json()["detail"]
    finally:
        server.stop()


def _raw(server, head: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(head)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
        return data


def test_oversized_headers_are_431(server):
    padding = b"".join(b"X-Pad-%d: %s\r\n" % (i, b"a" * 1000) for i in range(100))  # 100 KB of headers
    answer = _raw(server, b"GET /api/health HTTP/1.1\r\nHost: x\r\n" + padding + b"\r\n")
    assert answer.startswith(b"HTTP/1.1 431 "), answer[:200]
    assert "请求行与请求头共超过 16384 字节的限制" in answer.decode("utf-8")
    assert b"connection: close" in answer.lower()
    long_url = _raw(server, b"GET /api/health?" + b"a" * 20000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    assert long_url.startswith(b"HTTP/1.1 431 "), long_url[:200]
    # Within the limit, the same server answers.
    within = b"".join(b"X-Pad-%d: %s\r\n" % (i, b"a" * 1000) for i in range(8))
    fine = _raw(server, b"GET /api/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + within + b"\r\n")
    assert fine.startswith(b"HTTP/1.1 200 "), fine[:200]


def test_headers_that_never_end_are_refused_as_they_arrive(server):
    """httptools buffers any amount of headers (50 MB of them cost the server 50 MB): the
    server answers 431 once the limit is passed, while the client is still sending."""
    server.reset_peak()
    rss = server.rss()
    sent = 0
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(b"GET /api/health HTTP/1.1\r\nHost: x\r\n")
        line = b"X-Pad: " + b"a" * 8000 + b"\r\n"
        while sent < 50 * MiB:
            readable, _, _ = select.select([sock], [], [], 0.01)
            if readable:
                break
            try:
                sock.sendall(line)
            except OSError:
                break
            sent += len(line)
        answer = sock.recv(65536)
    assert answer.startswith(b"HTTP/1.1 431 "), (sent, answer[:200])
    assert sent < 2 * MiB, sent
    assert server.rss("VmHWM") - rss < 20 * MiB


def test_the_application_refuses_oversized_headers_under_any_server(database_url):
    with TestClient(create_app(Settings(database_url=database_url))) as client:
        response = client.get("/api/health", headers={"X-Pad": "a" * 20000})
        assert response.status_code == 431
        assert response.json()["detail"] == "请求行与请求头共超过 16384 字节的限制"
        assert client.get("/api/health", headers={"X-Pad": "a" * 8000}).status_code == 200


def test_the_seed_upload_still_fits(server, tokens):
    """The reference document (under the upload limit) is accepted as before."""
    response = httpx.post(f"{server.url}/api/documents", files={"file": (SEED.name, SEED.read_bytes(), "text/plain")},
                          headers=bearer(tokens["admin"]), timeout=120)
    assert response.status_code == 200 and response.json()["already_imported"] is True
