"""Helpers for the HTTP tests: the reference budget's names, bearer headers, uploads, and the
real server (`ledger serve`) in a subprocess."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import httpx

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "examples" / "changzhi-hpf-2024-budget.txt"
DEPARTMENT = "长治市住房公积金管理中心"
YEAR = 2024
BUDGET = f"/api/budgets/{quote(DEPARTMENT)}/{YEAR}"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def upload(client, token: str | None, data: bytes, name: str = SEED.name, **headers: str):
    auth = bearer(token) if token else {}
    return client.post("/api/documents", files={"file": (name, data, "text/plain")}, headers={**auth, **headers})


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """`ledger serve` in a subprocess; its output is kept to check what it logged."""

    def __init__(self, database_url: str, tokens: dict[str, str], log: Path, workers: int = 1,
                 env: dict[str, str] | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        env = {**os.environ, "LEDGER_DATABASE_URL": database_url, "PYTHONIOENCODING": "utf-8",
               "LEDGER_TOKENS": ",".join(f"{role}:{token}" for role, token in tokens.items()), **(env or {})}
        self.env = env
        self._out = log.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "ledger", "serve", "--host", "127.0.0.1", "--port", str(self.port),
             "--workers", str(workers)],
            env=env, stdout=self._out, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{self.url}/api/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise AssertionError(f"ledger serve did not start:\n{self.output()}")
            time.sleep(0.2)

    def rss(self, field: str = "VmRSS") -> int:
        """The server process's resident memory now (VmHWM: its peak so far), in bytes (/proc)."""
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        return int(next(line.split()[1] for line in status.splitlines() if line.startswith(field + ":"))) * 1024

    def reset_peak(self) -> None:
        """Start the process's peak (VmHWM) again from its memory now (Linux: clear_refs 5)."""
        Path(f"/proc/{self.process.pid}/clear_refs").write_text("5")

    def cpu_seconds(self) -> float:
        """CPU time the server process has used so far (user + system, from /proc)."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def output(self) -> str:
        self._out.flush()
        return self.log.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._out.close()
