"""GET /api/checkpoints/latest on the real server: the checkpoint `ledger checkpoint` signed,
byte for byte, so that an auditor can fetch it, check its signature and keep it elsewhere."""

from __future__ import annotations

import subprocess
import sys

import httpx

from ledger.application.checkpoints import load, load_public_key

from .api_support import BUDGET, bearer


def ledger(server, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ledger", *args], env=server.env, capture_output=True, text=True,
                          timeout=300, check=True)


def test_the_latest_checkpoint_is_served_as_signed(server, tokens, tmp_path):
    missing = httpx.get(f"{server.url}/api/checkpoints/latest")
    assert missing.status_code == 404 and "还没有检查点" in missing.json()["detail"]

    key = tmp_path / "signing.key"
    ledger(server, "keygen", "--out", str(key))
    first = tmp_path / "first.json"
    ledger(server, "checkpoint", "--key", str(key), "--out", str(first))
    adjusted = httpx.post(f"{server.url}{BUDGET}/adjustments", headers=bearer(tokens["officer"]), json={
        "line": {"code": "2210399", "kind": "basic", "economic": "基本工资/工资奖金津补贴", "cost": "personnel"},
        "amount": "1万元", "reason": "补发"})
    assert adjusted.status_code == 201, adjusted.text
    second = ledger(server, "checkpoint", "--key", str(key)).stdout

    served = httpx.get(f"{server.url}/api/checkpoints/latest")
    assert served.status_code == 200 and served.headers["content-type"] == "application/json"
    public = load_public_key(tmp_path / "signing.key.pub")
    checkpoint = load(served.content, public)
    assert checkpoint == load(second.encode(), public)
    assert checkpoint["position"] == load(first.read_bytes(), public)["position"] + 1

    kept = tmp_path / "kept.json"
    kept.write_bytes(served.content)
    verified = ledger(server, "verify", "--against", str(kept), "--public-key", str(tmp_path / "signing.key.pub"))
    assert "事件库延续检查点" in verified.stdout


def test_the_checkpoint_needs_a_reader_token_when_reads_do(database_url, tokens):
    from fastapi.testclient import TestClient

    from ledger.http.app import create_app
    from ledger.http.deps import Settings

    settings = Settings(database_url=database_url, tokens=tuple((r, t.encode()) for r, t in tokens.items()),
                        read_token_required=True)
    with TestClient(create_app(settings)) as client:
        assert client.get("/api/checkpoints/latest").status_code == 401
        assert client.get("/api/checkpoints/latest", headers=bearer(tokens["reader"])).status_code == 404
