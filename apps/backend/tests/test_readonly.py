"""The server and the migrations run on a read-only root filesystem, writing only to /tmp.

Like `docker run --read-only --tmpfs /tmp`: in a private mount namespace (its
copies of the mounts only; the host is not affected) /tmp stays writable, the
root mount becomes read-only, and so does the backend directory with its .venv
(explicitly, in case the checkout itself lives under /tmp).
PYTHONDONTWRITEBYTECODE is NOT set here, to show that failing .pyc writes are
harmless too.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.conftest import Databases
from tests.servers import FakeLLM, JwksServer
from tests.test_shutdown import free_port, wait_ready

BACKEND = Path(__file__).resolve().parent.parent
READ_ONLY = (
    "mount --bind /tmp /tmp && mount -o remount,bind,ro / "
    f'&& mount --bind "{BACKEND}" "{BACKEND}" && mount -o remount,bind,ro "{BACKEND}" && exec "$@"'
)

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("unshare") is None,
    reason="needs root and unshare(1) to make a read-only mount namespace",
)


def read_only(*argv: str) -> list[str]:
    return ["unshare", "--mount", "--propagation", "private", "sh", "-c", READ_ONLY, "sh", *argv]


def test_runs_on_a_read_only_root(
    databases: Databases, jwks: JwksServer, llm: FakeLLM, user_id: str, auth: dict[str, str]
) -> None:
    database_url = databases.create("taskflow_readonly")
    port = free_port()
    env = {
        "PATH": os.environ["PATH"],
        "DATABASE_URL": database_url,
        "BETTER_AUTH_URL": jwks.url,
        "OPENAI_API_KEY": "sk-test-not-a-real-key",
        "OPENAI_BASE_URL": llm.base_url,
        "DRAIN_SECONDS": "0",
        "PORT": str(port),
    }
    probe = subprocess.run(read_only("touch", str(BACKEND / "probe")), capture_output=True, text=True, timeout=60)
    assert probe.returncode != 0 and "Read-only file system" in probe.stderr, "the namespace is not read-only"

    migrated = subprocess.run(
        read_only(sys.executable, "-m", "app.migrate"),
        cwd=BACKEND,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert migrated.returncode == 0, migrated.stderr

    server = subprocess.Popen(
        read_only(sys.executable, "-m", "app"), cwd=BACKEND, env=env, stderr=subprocess.PIPE, text=True
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, server)
        created = httpx.post(f"{url}/api/{user_id}/tasks", json={"title": "read-only"}, headers=auth, timeout=30)
        assert created.status_code == 201, created.text
        llm.reply_tool_calls(("list_tasks", {}))
        llm.reply_text("You have one task.")
        reply = httpx.post(f"{url}/api/{user_id}/chat", json={"message": "what do I have?"}, headers=auth, timeout=30)
        assert reply.status_code == 200, reply.text
        assert reply.json()["tool_calls"][0]["result"]["tasks"][0]["title"] == "read-only"
        assert httpx.get(f"{url}/metrics", timeout=30).status_code == 200
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=60) == 0
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    logs = server.stderr.read() if server.stderr else ""
    assert "Read-only file system" not in logs
    assert '"level": "error"' not in logs
