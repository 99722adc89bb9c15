"""`tac-api serve`'s HTTP server: uvicorn, stopping as a process manager expects.

On SIGTERM (or Ctrl-C) uvicorn stops accepting connections, lets the requests in flight finish
(up to TAC_SHUTDOWN_GRACE_SECONDS), runs the app's shutdown (background work stopped, webhook
leases given back, the pool closed), and then, since 0.29, raises the signal again with its
default handler restored: the process dies of it, exit -15, after a shutdown that went well.
systemd, Kubernetes and supervisors read that as a crash. Here a handled signal ends the run
normally: exit 0 after a clean shutdown, and still 1 or 3 when starting failed.
"""

import contextlib
import signal
import sys
import threading
from collections.abc import Iterator
from typing import Any

import uvicorn
from uvicorn.config import STARTUP_FAILURE
from uvicorn.server import HANDLED_SIGNALS


class GracefulServer(uvicorn.Server):
    """uvicorn's server, whose graceful shutdown on a signal ends in a normal return."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # uvicorn's own, less the signal raised again at the end. Its handler (`handle_exit`)
        # starts the graceful shutdown; a second Ctrl-C still forces it.
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in HANDLED_SIGNALS}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def serve(app: str, *, workers: int, **options: Any) -> None:
    """Serve `app` (an import string) as `uvicorn.run` would, in one process or `workers`."""
    if workers > 1:
        # uvicorn's supervisor handles the signals in the parent, stops the workers and returns:
        # the parent exits 0 already (a worker's own exit code is not the service's).
        uvicorn.run(app, workers=workers, **options)
        return
    server = GracefulServer(uvicorn.Config(app, **options))
    server.run()
    if not server.started:  # as uvicorn.run: the app, its lifespan or the port failed
        sys.exit(STARTUP_FAILURE)
