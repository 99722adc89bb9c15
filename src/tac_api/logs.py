"""Structured JSON logs, one object per line, with ids and never personal values."""

import logging
import logging.config
import sys
import traceback
from types import TracebackType
from typing import Any

from pythonjsonlogger.json import JsonFormatter

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


class JsonLogFormatter(JsonFormatter):
    """JSON lines; an exception is logged as its type and stack, without its message.

    Database errors put the offending values in their message ("Key (prison_number)=(A1234BC)
    already exists"), and logs must hold no personal values.
    """

    def formatException(self, ei: Any) -> str:
        kind, _, tb = ei
        stack = "".join(traceback.format_tb(tb))
        return f"{stack}{kind.__module__}.{kind.__qualname__} (message withheld)"


class StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to the process's stderr as it is when a line is logged, not as it was when logging
    was set up: a command run in-process by a test runner (or anything that swaps stderr and
    closes its stand-in) must not leave the next lines writing to a closed file."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _: Any) -> None:
        pass


def configure_logging(level: str = "INFO") -> dict[str, Any]:
    """Send every logger (ours and uvicorn's) through one JSON handler on stderr; returns the
    dictConfig, for uvicorn to apply in its own workers."""
    config: dict[str, Any] = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "json": {
                "()": JsonLogFormatter,
                "fmt": "{asctime}{levelname}{name}{message}",
                "style": "{",
                "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
                "datefmt": "%Y-%m-%dT%H:%M:%S%z",
            }
        },
        "handlers": {"stderr": {"()": StderrHandler, "formatter": "json"}},
        "root": {"handlers": ["stderr"], "level": level},
        "loggers": {
            "uvicorn": {"handlers": ["stderr"], "level": level, "propagate": False},
            # Uvicorn's access line carries the query string (a name being searched for):
            # ours, from RequestContext, does not.
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
            # Readiness reads the schema's revision with Alembic's help: its set-up chatter
            # ("setup plugin ...") is not the service's news.
            "alembic": {"level": "WARNING"},
        },
    }
    logging.config.dictConfig(config)
    return config
