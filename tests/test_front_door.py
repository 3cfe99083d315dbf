"""The README's commands: `python3 course.py lab` starts a JupyterLab that serves the course map, and
`python3 course.py test` runs pytest in fast mode with one PyTorch thread per worker."""

from __future__ import annotations

import importlib.util
import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STARTUP_SECONDS = 120


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, b""


def test_course_lab_serves_the_course_map(tmp_path: Path) -> None:
    port, token = free_port(), secrets.token_hex(16)
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path), "JUPYTER_CONFIG_DIR": str(tmp_path / "config")}
    args = ["--no-browser", "--ip=127.0.0.1", f"--port={port}", f"--IdentityProvider.token={token}"]
    server = subprocess.Popen(
        [sys.executable, str(ROOT / "course.py"), "lab", *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        status = None
        while time.monotonic() < deadline and server.poll() is None:
            try:
                status, _ = get(f"{base}/api/status?token={token}")
                break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.5)
        assert status == 200, f"JupyterLab did not answer within {STARTUP_SECONDS} s (exit code {server.poll()})"
        status, body = get(f"{base}/api/contents/index.ipynb?token={token}")
        assert status == 200
        course_map = json.loads(body)
        assert course_map["type"] == "notebook"
        assert "Normalizing Flows" in json.dumps(course_map["content"])
        status, page = get(f"{base}/lab/tree/index.ipynb?token={token}")
        assert status == 200 and b"JupyterLab" in page
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
    assert server.returncode is not None


def load_course_script():
    spec = importlib.util.spec_from_file_location("course_script", ROOT / "course.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_course_test_runs_pytest_in_fast_mode_with_one_thread_unless_told_otherwise(monkeypatch) -> None:
    course = load_course_script()
    calls = []
    monkeypatch.setattr(course.subprocess, "call", lambda command, cwd, env: calls.append((command, env)) or 0)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    assert course.test(["-k", "flow"]) == 0
    command, env = calls[-1]
    assert command[1:4] == ["-m", "pytest", "-n"] and command[-2:] == ["-k", "flow"]
    assert env["NFCOURSE_FAST"] == "1" and env["OMP_NUM_THREADS"] == "1"
    monkeypatch.setenv("OMP_NUM_THREADS", "4")
    course.test([])
    assert calls[-1][1]["OMP_NUM_THREADS"] == "4"


def test_course_test_full_runs_without_fast_mode(monkeypatch) -> None:
    course = load_course_script()
    calls = []
    monkeypatch.setattr(course.subprocess, "call", lambda command, cwd, env: calls.append((command, env)) or 0)
    monkeypatch.setenv("NFCOURSE_FAST", "1")  # even when the caller's shell has fast mode on
    assert course.test(["--full", "notebooks/en"]) == 0
    command, env = calls[-1]
    assert "NFCOURSE_FAST" not in env and "--full" not in command and command[-1] == "notebooks/en"
