"""Real local HTTP servers the tests talk to: the app itself, a JWKS endpoint, a fake LLM.

Everything listens on 127.0.0.1 on a free port and is stopped by the fixture
that started it.
"""

from __future__ import annotations

import base64
import json
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import uvicorn
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from app.core.config import Settings
from app.main import create_app

STARTUP_TIMEOUT = 60  # seconds; the CI machine can be heavily loaded


class JsonHandler(BaseHTTPRequestHandler):
    """Base handler: quiet, JSON in and out."""

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def read_json(self) -> Any:
        length = int(self.headers.get("content-length") or 0)
        return json.loads(self.rfile.read(length) or b"null")

    def send_json(self, status: int, body: Any) -> None:
        payload = json.dumps(body).encode()
        try:
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            # The app gave up waiting (the timeout tests make it): nobody to answer.
            pass


class BackgroundHTTPServer:
    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.httpd.owner = self  # type: ignore[attr-defined]
        self.url = f"http://127.0.0.1:{self.httpd.server_port}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def start(self) -> BackgroundHTTPServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(timeout=10)


# ---- Better Auth stand-in: Ed25519 keys, a JWKS endpoint, token minting ----------------


@dataclass
class SigningKey:
    kid: str
    private: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)

    def jwk(self) -> dict[str, str]:
        raw = self.private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        x = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
        # The shape Better Auth's jwt plugin publishes.
        return {"kty": "OKP", "crv": "Ed25519", "x": x, "kid": self.kid, "alg": "EdDSA"}


class JwksServer(BackgroundHTTPServer):
    """Serves {url}/api/auth/jwks like the frontend does, and mints tokens like it."""

    issuer = "taskflow"
    audience = "taskflow-api"

    def __init__(self) -> None:
        super().__init__(_JwksHandler)
        self.keys = [SigningKey(kid=f"key-{uuid.uuid4().hex[:8]}")]
        self.requests = 0
        self.failing = False

    def rotate(self) -> SigningKey:
        key = SigningKey(kid=f"key-{uuid.uuid4().hex[:8]}")
        self.keys.append(key)
        return key

    def token(
        self,
        sub: str | None,
        *,
        key: SigningKey | None = None,
        lifetime: int = 600,
        **claims: Any,
    ) -> str:
        key = key or self.keys[0]
        now = int(time.time())
        payload: dict[str, Any] = {"iss": self.issuer, "aud": self.audience, "iat": now, "exp": now + lifetime}
        if sub is not None:
            payload["sub"] = sub
        payload.update(claims)
        payload = {name: value for name, value in payload.items() if value is not None}
        return jwt.encode(payload, key.private, algorithm="EdDSA", headers={"kid": key.kid})

    def auth(self, sub: str, **kwargs: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(sub, **kwargs)}"}


class _JwksHandler(JsonHandler):
    def do_GET(self) -> None:
        server: JwksServer = self.server.owner  # type: ignore[attr-defined]
        if self.path != "/api/auth/jwks":
            self.send_json(404, {"error": "not found"})
            return
        server.requests += 1
        if server.failing:
            self.send_json(500, {"error": "jwks unavailable"})
            return
        self.send_json(200, {"keys": [key.jwk() for key in server.keys]})


# ---- the fake LLM --------------------------------------------------------------------
# A hosted LLM cannot exist in this test environment, so the assistant is tested
# against this small OpenAI-compatible server that replays scripted replies.
# Everything around it (the tool loop, tool execution, persistence, auth) is real.


Reply = dict[str, Any] | Callable[[dict[str, Any]], tuple[int, Any]]


class FakeLLM(BackgroundHTTPServer):
    def __init__(self) -> None:
        super().__init__(_LLMHandler)
        self.script: list[Reply] = []
        self.requests: list[dict[str, Any]] = []
        self.authorization: list[str | None] = []
        self.received = threading.Event()
        self.delay = 0.0
        # Bumped by reset(): a slow request from an earlier test must not consume this test's script.
        self.generation = 0

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    def reset(self) -> None:
        self.script.clear()
        self.requests.clear()
        self.authorization.clear()
        self.received.clear()
        self.delay = 0.0
        self.generation += 1

    def reply_text(self, text: str) -> None:
        self.script.append(_completion({"role": "assistant", "content": text}))

    def reply_tool_calls(self, *calls: tuple[str, dict[str, Any]]) -> None:
        tool_calls = [
            {
                "id": f"call_{uuid.uuid4().hex[:12]}",
                "type": "function",
                "function": {"name": name, "arguments": json.dumps(arguments)},
            }
            for name, arguments in calls
        ]
        self.script.append(_completion({"role": "assistant", "content": None, "tool_calls": tool_calls}))

    def reply_error(self, status: int, message: str) -> None:
        self.script.append(lambda _request: (status, {"error": {"message": message, "type": "server_error"}}))


def _completion(message: dict[str, Any]) -> dict[str, Any]:
    finish = "tool_calls" if message.get("tool_calls") else "stop"
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:12]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": "fake-model",
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
    }


class _LLMHandler(JsonHandler):
    def do_POST(self) -> None:
        llm: FakeLLM = self.server.owner  # type: ignore[attr-defined]
        if self.path != "/v1/chat/completions":
            self.send_json(404, {"error": {"message": f"no route {self.path}"}})
            return
        request = self.read_json()
        llm.requests.append(request)
        llm.authorization.append(self.headers.get("authorization"))
        llm.received.set()
        generation = llm.generation
        if llm.delay:
            time.sleep(llm.delay)
        if generation != llm.generation:
            self.send_json(503, {"error": {"message": "fake LLM: reset while this request waited"}})
            return
        if not llm.script:
            self.send_json(500, {"error": {"message": "fake LLM: no scripted reply left"}})
            return
        reply = llm.script.pop(0)
        if callable(reply):
            status, body = reply(request)
            self.send_json(status, body)
        else:
            self.send_json(200, reply)


# ---- the app under test, served by uvicorn in a thread -------------------------------


class RunningApp:
    """create_app(settings) served by a real uvicorn on a loopback port."""

    def __init__(self, settings: Settings) -> None:
        self.app = create_app(settings)
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._socket.getsockname()[1]}"
        config = uvicorn.Config(self.app, log_config=None, access_log=False, lifespan="on")
        self.server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self._socket]}, daemon=True)

    def start(self) -> RunningApp:
        self._thread.start()
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not self.server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the app under test did not start")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self._thread.join(timeout=30)
        self._socket.close()
