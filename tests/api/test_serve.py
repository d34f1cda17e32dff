"""Starting the service: a setting it cannot use stops `ledger serve` (and `make run`) with a
message, not a traceback; `ledger serve --workers 2` on a new SQLite store starts both workers
every time (they used to race to create the same tables)."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx
import pytest

from .api_support import ROOT, free_port


def serve(env: dict[str, str], *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ledger", "serve", "--port", str(free_port()), *args],
                          env={**os.environ, "PYTHONIOENCODING": "utf-8", **env}, capture_output=True, text=True,
                          timeout=timeout)


@pytest.mark.parametrize(("tokens", "words"), [
    ("officer:short", "令牌至少16个字符"),
    ("officer:令牌令牌令牌令牌令牌令牌令牌令牌", "令牌只能由 ASCII 可见字符组成"),
    ("officer:abcdefghijklmnop qrst", "令牌只能由 ASCII 可见字符组成"),
    ("chief:abcdefghijklmnopqrstuvwx", "未知角色"),
])
def test_a_token_the_service_cannot_use_stops_it_with_a_message(tmp_path, tokens, words):
    result = serve({"LEDGER_DATABASE_URL": f"sqlite:///{tmp_path / 'ledger.sqlite'}", "LEDGER_TOKENS": tokens})
    assert result.returncode == 2, result.stderr
    assert f"服务未启动: LEDGER_TOKENS 第1项: {words}" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert tokens.split(":", 1)[1] not in result.stderr + result.stdout  # never the token itself


def test_a_size_setting_that_is_not_a_number_stops_it_with_a_message(tmp_path):
    result = serve({"LEDGER_DATABASE_URL": f"sqlite:///{tmp_path / 'ledger.sqlite'}", "LEDGER_MAX_BODY_BYTES": "64k"})
    assert result.returncode == 2 and "LEDGER_MAX_BODY_BYTES 应为非负整数: '64k'" in result.stderr
    assert "Traceback" not in result.stderr


def test_make_run_with_a_short_token_stops_with_the_message(tmp_path):
    env = {**os.environ, "LEDGER_DATABASE_URL": f"sqlite:///{tmp_path / 'ledger.sqlite'}",
           "LEDGER_TOKENS": "admin:tooshort", "PYTHONIOENCODING": "utf-8"}
    result = subprocess.run(["make", "-s", "-C", str(ROOT), "run", f"PORT={free_port()}", "HOST=127.0.0.1"], env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode != 0
    assert "服务未启动: LEDGER_TOKENS 第1项: 令牌至少16个字符" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr


def test_two_workers_on_a_new_sqlite_store_both_start_every_time(tmp_path, tokens):
    for attempt in range(5):
        url = f"sqlite:///{tmp_path / f'new-{attempt}.sqlite'}"
        port = free_port()
        log = tmp_path / f"serve-{attempt}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "ledger", "serve", "--host", "127.0.0.1", "--port", str(port),
                 "--workers", "2"], stdout=out, stderr=subprocess.STDOUT,
                env={**os.environ, "LEDGER_DATABASE_URL": url, "PYTHONIOENCODING": "utf-8",
                     "LEDGER_TOKENS": f"admin:{tokens['admin']}"})
            try:
                deadline = time.monotonic() + 60
                text = ""
                while time.monotonic() < deadline and process.poll() is None:
                    text = log.read_text(encoding="utf-8", errors="replace")
                    if text.count("Application startup complete.") >= 2 or "Traceback" in text:
                        break
                    time.sleep(0.2)
                assert "Traceback" not in text and "already exists" not in text, text[-3000:]
                assert text.count("Application startup complete.") == 2, text[-3000:]
                health = httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=10).json()
                assert (health["status"], health["position"]) == ("ok", 0)
            finally:
                process.terminate()
                process.wait(timeout=30)
