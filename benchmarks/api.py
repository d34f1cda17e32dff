"""API throughput: a real uvicorn server with the ledger's app, against a bare FastAPI
endpoint returning a constant, loaded from loopback by 50 concurrent connections.

The load generator is `wrk` (Debian package `wrk`) when installed: one thread, so that it
takes one of the machine's cores and the server (one uvicorn process) the other. Without
wrk, an httpx client with the same number of concurrent connections is used; it is much
slower than wrk and the report says which one ran.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from measures import percentile

HERE = Path(__file__).resolve().parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """uvicorn in a subprocess on 127.0.0.1, stopped (only this process) on exit."""

    def __init__(self, target: list[str], env: dict[str, str]):
        self.port = free_port()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", *target, "--host", "127.0.0.1", "--port", str(self.port),
             "--log-level", "warning", "--no-access-log"],
            env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def wait(self, path: str, timeout: float = 60) -> httpx.Response:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.process.stderr.read().decode()[-2000:]}")
            try:
                return httpx.get(self.url(path), timeout=30)
            except httpx.TransportError:
                time.sleep(0.2)
        raise TimeoutError(f"server not ready after {timeout}s")

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def load(url: str, seconds: float, clients: int = 50) -> dict[str, Any]:
    wrk = shutil.which("wrk")
    if wrk:
        return _wrk(wrk, url, seconds, clients)
    return asyncio.run(_httpx(url, seconds, clients))


def _wrk(wrk: str, url: str, seconds: float, clients: int) -> dict[str, Any]:
    # A short warm-up; requests it leaves queued in the server delay the measured run's first
    # answers, so the run is long enough to drain them (and slow answers count, up to 30 s).
    subprocess.run([wrk, "-t1", f"-c{clients}", "-d1s", "--timeout", "30s", url], capture_output=True, check=True)
    out = subprocess.run([wrk, "-t1", f"-c{clients}", f"-d{max(1, round(seconds))}s", "--timeout", "30s", "--latency",
                          url], capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    lat = {m.group(1): _ms(m.group(2), m.group(3)) for m in re.finditer(r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s)\s*$",
                                                                         out, re.M)}
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return {"tool": "wrk -t1", "clients": clients, "requests_per_s": rate, "p50_ms": lat["50"], "p99_ms": lat["99"],
            "non_2xx": int(errors.group(1)) if errors else 0, "raw": out}


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


async def _httpx(url: str, seconds: float, clients: int) -> dict[str, Any]:
    times: list[float] = []
    errors = 0
    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=clients)) as client:
        stop = time.perf_counter() + seconds

        async def worker() -> None:
            nonlocal errors
            while time.perf_counter() < stop:
                t0 = time.perf_counter()
                response = await client.get(url)
                times.append(time.perf_counter() - t0)
                errors += response.status_code >= 300

        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        elapsed = time.perf_counter() - t0
    ms = [t * 1000 for t in times]
    return {"tool": "httpx", "clients": clients, "requests_per_s": len(times) / elapsed,
            "p50_ms": percentile(ms, 50), "p99_ms": percentile(ms, 99), "non_2xx": errors}


def measure(url: str, department: str, year: int, table: int, seconds: float) -> dict[str, Any]:
    path = f"/api/budgets/{quote(department)}/{year}/tables/{table}"
    try:
        import ledger.http.app  # noqa: F401
    except ImportError as exc:
        return {"measured": False, "reason": f"ledger.http.app not importable: {exc}"}
    with Server(["--factory", "ledger.http.app:create_app"], {"LEDGER_DATABASE_URL": url}) as app, \
            Server(["--app-dir", str(HERE), "bare_app:app"], {}) as bare:
        first = app.wait(path, timeout=300)
        if first.status_code != 200 or len(first.json()["tables"]) != 1:
            return {"measured": False, "reason": f"GET {path}: {first.status_code} {first.text[:300]}"}
        bare.wait("/constant")
        table_load = load(app.url(path), seconds)
        bare_load = load(bare.url("/constant"), seconds)
    return {"measured": True, "path": path, "table": table_load, "bare": bare_load,
            "ratio": table_load["requests_per_s"] / bare_load["requests_per_s"]}
