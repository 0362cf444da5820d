"""Graceful shutdown of `python -m app`, the way Kubernetes stops a pod.

The slow request is an assistant turn: the (fake, see tests.servers.FakeLLM)
model takes longer to answer than the drain period lasts.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from tests.servers import STARTUP_TIMEOUT, FakeLLM, JwksServer

BACKEND = Path(__file__).resolve().parent.parent
DRAIN_SECONDS = 2
LLM_DELAY = 4  # longer than the drain period: the request is still in flight when draining ends


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(url: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        assert process.poll() is None, f"server exited early: {process.stderr.read() if process.stderr else ''}"
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError("server did not become ready")


def test_sigterm_drains_then_exits_zero(
    database_url: str, jwks: JwksServer, llm: FakeLLM, user_id: str, auth: dict[str, str]
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        "PATH": os.environ["PATH"],
        "PYTHONDONTWRITEBYTECODE": "1",
        "DATABASE_URL": database_url,
        "BETTER_AUTH_URL": jwks.url,
        "OPENAI_API_KEY": "sk-test-not-a-real-key",
        "OPENAI_BASE_URL": llm.base_url,
        "CHAT_TIMEOUT_SECONDS": "30",
        "DRAIN_SECONDS": str(DRAIN_SECONDS),
        "PORT": str(port),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "app"],
        cwd=BACKEND,
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    try:
        wait_ready(url, process)
        llm.delay = LLM_DELAY
        llm.reply_text("Sorry for the wait - here is your answer.")
        slow: dict[str, httpx.Response] = {}

        def slow_request() -> None:
            slow["response"] = httpx.post(f"{url}/api/{user_id}/chat", json={"message": "hi"}, headers=auth, timeout=60)

        worker = threading.Thread(target=slow_request)
        worker.start()
        assert llm.received.wait(timeout=30), "the chat request never reached the LLM"

        process.send_signal(signal.SIGTERM)
        signalled = time.monotonic()
        time.sleep(0.3)
        # At once: not ready any more, so Kubernetes stops routing new traffic here ...
        ready = httpx.get(f"{url}/readyz", timeout=5)
        assert ready.status_code == 503
        assert ready.json()["detail"] == "draining: the server is shutting down"
        # ... but new connections are still served while the endpoints update.
        assert httpx.get(f"{url}/healthz", timeout=5).status_code == 200
        assert httpx.get(f"{url}/api/{user_id}/tasks", headers=auth, timeout=5).status_code == 200

        worker.join(timeout=60)
        assert slow["response"].status_code == 200, slow["response"].text
        assert slow["response"].json()["response"] == "Sorry for the wait - here is your answer."

        assert process.wait(timeout=60) == 0
        assert time.monotonic() - signalled >= DRAIN_SECONDS
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    logs = process.stderr.read() if process.stderr else ""
    assert '"msg": "signal received: draining"' in logs
    assert '"msg": "drain period over: finishing in-flight requests"' in logs
