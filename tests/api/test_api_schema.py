"""Schemathesis over the OpenAPI document of the real server (`ledger serve`), with an admin
token so that writes are exercised too: no request, valid or not, may get a server error."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx

# Bounded so the run takes about a minute: a fixed seed, few examples per operation.
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance"


def test_schemathesis_finds_no_server_error(server, tokens, tmp_path):
    schema = httpx.get(f"{server.url}/openapi.json").json()
    assert len(schema["paths"]) >= 17
    imported = httpx.get(f"{server.url}/api/health").json()["position"]
    result = subprocess.run(
        [str(Path(sys.executable).parent / "schemathesis"), "run", f"{server.url}/openapi.json",
         "--checks", CHECKS, "--max-examples", "10", "--seed", "20240101", "--no-shrink", "--workers", "1",
         "--header", f"Authorization: Bearer {tokens['admin']}", "--request-timeout", "60"],
        cwd=tmp_path, capture_output=True, text=True, timeout=600,
    )
    report = result.stdout + result.stderr
    assert result.returncode == 0, report[-6000:]
    assert "Server error" not in report
    log = server.output()
    assert '" 500 ' not in log and "Traceback" not in log, log[-4000:]
    assert all(token not in log for token in tokens.values())
    # The run really reached the API: writes were recorded by the admin's generated requests.
    assert httpx.get(f"{server.url}/api/health").json()["position"] > imported
