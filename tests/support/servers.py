"""The suite's name server, and apps served over real HTTP."""

import ipaddress
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

from tac_api.webhooks.addresses import Address


class Names:
    """The name server of the suite's apps: no test looks a webhook's host name up on the
    network. Names under example.gov.uk are on the internet unless a test says otherwise."""

    PUBLIC = "8.8.8.8"

    def __init__(self) -> None:
        self.answers: dict[str, list[str]] = {}
        self.lookups: list[str] = []

    def answer(self, name: str, *addresses: str) -> None:
        self.answers[name] = list(addresses)

    async def __call__(self, host: str, port: int) -> list[Address]:
        self.lookups.append(host)
        default = [self.PUBLIC] if host.endswith(".example.gov.uk") else []
        return [ipaddress.ip_address(a) for a in self.answers.get(host, default)]

    def reset(self) -> None:
        self.answers.clear()
        self.lookups.clear()


NAMES = Names()


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """`app` served by uvicorn on a free port of 127.0.0.1, for clients that must be tested
    over real HTTP; yields its base URL."""
    config = uvicorn.Config(app, log_config=None, access_log=False, loop="asyncio")
    server = uvicorn.Server(config)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]})
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        listener.close()
