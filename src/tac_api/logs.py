"""Structured JSON logs, one object per line, with ids and never personal values."""

import json
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

    Every request logs a line (tac_api.middleware.RequestContext), so the work per line is cut
    where the line stays the same, byte for byte: the time is formatted once a second, one JSON
    encoder serves every line, and a record's own fields are copied in one pass.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # What json.dumps(..., cls=, default=, indent=, ensure_ascii=) builds for every call.
        self._encoder = (
            (self.json_encoder or json.JSONEncoder)(
                default=self.json_default,
                indent=self.json_indent,
                ensure_ascii=self.json_ensure_ascii,
            )
            if self.json_serializer is json.dumps
            else None
        )
        self._formatted_second: tuple[int, str | None, str] | None = None
        # The plain case (what configure_logging asks for): no defaults, no static fields, no
        # added timestamp, no renamed field kept when missing.
        self._plain = not (
            self.defaults or self.static_fields or self.timestamp or self.rename_fields_keep_missing
        )

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        if datefmt is None:  # logging's default format shows milliseconds
            return super().formatTime(record, datefmt)
        # A datefmt (strftime) has whole seconds: the same second formats the same.
        second = int(record.created)
        last = self._formatted_second
        if last is None or last[0] != second or last[1] != datefmt:
            last = self._formatted_second = (second, datefmt, super().formatTime(record, datefmt))
        return last[2]

    def add_fields(
        self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]
    ) -> None:
        if not self._plain:
            super().add_fields(log_data, record, message_dict)
            return
        # As the library's add_fields and merge_record_extra do it, in the same order.
        renamed = self.rename_fields.get
        fields = record.__dict__
        for field in self._required_fields:
            log_data[renamed(field, field)] = fields.get(field)
        for key, value in message_dict.items():
            log_data[renamed(key, key)] = value
        skipped = self._skip_fields
        for key, value in fields.items():
            if key not in skipped and not (hasattr(key, "startswith") and key.startswith("_")):
                log_data[renamed(key, key)] = value

    def jsonify_log_record(self, log_data: dict[str, Any]) -> str:
        if self._encoder is None:
            return super().jsonify_log_record(log_data)
        return self._encoder.encode(log_data)

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
    # What the logging HOWTO's "Optimization" section turns off: where each call was made from,
    # the thread, the process. No line holds them (the format above and the formatter's skipped
    # fields), and the access log would look them up on every request.
    logging._srcfile = None  # type: ignore[attr-defined]
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    return config
