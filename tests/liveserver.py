"""uvicorn serving the web app in a thread on an ephemeral 127.0.0.1 port, for tests that need a real server."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from typing import Any, Self

import uvicorn


class LiveServer:
    """``make_app(port)`` builds the app once the port is known (``serve`` passes it the listening address)."""

    def __init__(self, make_app: Callable[[int], Any]) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.port: int = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            make_app(self.port), log_level="warning", access_log=False, proxy_headers=False, server_header=False
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def __enter__(self) -> Self:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError(f"uvicorn did not start on {self.url}")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)
        self.sock.close()
