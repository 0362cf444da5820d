"""`python -m app`: serve the API with uvicorn and drain gracefully on SIGTERM.

Kubernetes sends SIGTERM and, at about the same time, starts removing the pod
from the Service endpoints; clients may keep sending it requests for a few
seconds. So on SIGTERM the server:
  1. answers /readyz with 503 at once (the pod is marked not ready),
  2. keeps accepting and serving new connections for DRAIN_SECONDS,
  3. then stops accepting, lets in-flight requests finish, and exits 0.
A second SIGTERM or SIGINT skips the rest of the drain period.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
from types import FrameType

import uvicorn
from fastapi import FastAPI

from app.core.config import ConfigError, load_settings
from app.core.logging import configure_logging

log = logging.getLogger("app.server")


class DrainingServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, app: FastAPI, drain_seconds: float) -> None:
        super().__init__(config)
        self._app = app
        self._drain_seconds = drain_seconds
        self._drain_timer: threading.Timer | None = None

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        # Deliberately not calling super(): uvicorn re-raises the captured signal
        # after shutdown, which would end the process with "killed by SIGTERM"
        # instead of exit status 0.
        if self._drain_timer is None:
            log.info(
                "signal received: draining",
                extra={"signal": signal.Signals(sig).name, "drain_seconds": self._drain_seconds},
            )
            self._app.state.draining = True
            self._drain_timer = threading.Timer(self._drain_seconds, self._stop)
            self._drain_timer.daemon = True
            self._drain_timer.start()
        else:
            log.info("second signal: stopping now", extra={"signal": signal.Signals(sig).name})
            self._drain_timer.cancel()
            self._stop()

    def _stop(self) -> None:
        log.info("drain period over: finishing in-flight requests")
        # uvicorn's main loop polls this flag: it closes the listening socket,
        # waits for in-flight requests, runs the lifespan shutdown and returns.
        self.should_exit = True


def main() -> int:
    try:
        settings = load_settings()
    except ConfigError as error:
        print(error, file=sys.stderr)
        return 2
    configure_logging(settings.log_level)

    from app.main import create_app

    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host="0.0.0.0",  # noqa: S104 - the contract: listen on all interfaces of the pod
        port=settings.port,
        log_config=None,
        access_log=False,
        proxy_headers=False,
        server_header=False,
        lifespan="on",
        # Every request is bounded (the slowest, a chat turn, by CHAT_TIMEOUT_SECONDS), so
        # in-flight work finishes within this; the pod's terminationGracePeriodSeconds must
        # exceed DRAIN_SECONDS plus this.
        timeout_graceful_shutdown=settings.chat_timeout_seconds + 5,
    )
    server = DrainingServer(config, app, settings.drain_seconds)
    server.run()
    # uvicorn reports a failed startup (port in use, lifespan error) by not starting.
    return 0 if server.started else 1


if __name__ == "__main__":
    sys.exit(main())
