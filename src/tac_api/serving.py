"""`tac-api serve`'s HTTP server: uvicorn, stopping as a process manager expects.

On SIGTERM (or Ctrl-C) uvicorn stops accepting connections, lets the requests in flight finish
(up to TAC_SHUTDOWN_GRACE_SECONDS), runs the app's shutdown (background work stopped, webhook
leases given back, the pool closed), and then, since 0.29, raises the signal again with its
default handler restored: the process dies of it, exit -15, after a shutdown that went well.
systemd, Kubernetes and supervisors read that as a crash. Here a handled signal ends the run
normally: exit 0 after a clean shutdown, and still 1 or 3 when starting failed.

With `--workers N`, uvicorn's supervisor stops every worker when one exits STARTUP_FAILURE (a
lifespan or an import that fails would fail the same way on every restart) and returns as after
a signal: `uvicorn.run` then exits 0, and a process manager would not restart the service. An
app factory that raises is worse: the worker dies of the exception (exit 1) and is started
again, forever. Here the factory's failure is a STARTUP_FAILURE too (`make_app`), and the
supervisor remembers one: the service exits 3.
"""

import contextlib
import logging
import signal
import sys
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import uvicorn
from uvicorn.config import STARTUP_FAILURE
from uvicorn.server import HANDLED_SIGNALS
from uvicorn.supervisors.multiprocess import Multiprocess

if TYPE_CHECKING:
    from fastapi import FastAPI


def make_app() -> "FastAPI":
    """`create_app` for uvicorn's factory, whose failure (a setting missing, say) is a failure to
    start: logged, and exit STARTUP_FAILURE, in one process or a worker of several."""
    from tac_api.main import create_app

    try:
        return create_app()
    except Exception:
        logging.getLogger("uvicorn.error").exception("the app could not be made")
        sys.exit(STARTUP_FAILURE)


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


class Supervisor(Multiprocess):
    """uvicorn's supervisor of several workers, which remembers that one failed to start."""

    failed_to_start = False

    def keep_subprocess_alive(self) -> None:
        super().keep_subprocess_alive()
        # uvicorn stops at a worker that exited STARTUP_FAILURE without replacing it, so it is
        # still in the list; a worker stopped at shutdown exits 0 or of the signal, never 3.
        if any(process.exitcode == STARTUP_FAILURE for process in self.processes):
            self.failed_to_start = True


def serve(app: str, *, workers: int, **options: Any) -> None:
    """Serve `app` (an import string) as `uvicorn.run` would, in one process or `workers`."""
    if workers > 1:
        # As `uvicorn.run` with workers: the supervisor handles the signals in the parent, stops
        # the workers and returns (a worker's own exit code is not the service's), but a worker
        # that failed to start makes the service's exit code STARTUP_FAILURE.
        config = uvicorn.Config(app, workers=workers, **options)
        supervisor = Supervisor(config, sockets=[config.bind_socket()])
        supervisor.run()
        if supervisor.failed_to_start:
            sys.exit(STARTUP_FAILURE)
        return
    server = GracefulServer(uvicorn.Config(app, **options))
    server.run()
    if not server.started:  # as uvicorn.run: the app, its lifespan or the port failed
        sys.exit(STARTUP_FAILURE)
