"""Structured logs: one JSON object a line, the request id on every line of a request.

`ebox serve` and `ebox workers` call `configure_logging()` once at start. Every
record then leaves the process as one line of JSON on stderr::

    {"time": "2026-12-02T08:00:00.123456Z", "level": "INFO", "logger": "ebox.access",
     "message": "POST /ebox/citizen/v2/publishMessage 201", "request_id": "9f0c...",
     "method": "POST", "route": "/ebox/{domain}/v2/publishMessage", "status": 201,
     "duration_ms": 12.5}

Why JSON: a log collector (Loki, Elasticsearch, CloudWatch) indexes the fields
without a parsing rule per message, and an operator finds every line of one
request by its ``request_id`` (the ``X-Request-Id`` its caller was answered).

What a line carries is decided where it is written, not here: the ledger's log
calls name classes, positions, counts and fixed reasons, never a national
register or KBO number of a person, a token, a subject or a letter's content
(tests/e2e/test_operations_logs.py greps a captured log for the identifiers it
used). The access log (`ebox.access`, written by ebox.api.metrics) names the
route's template, never the raw path, whose segments may be identifiers.

``EBOX_LOG_FORMAT=text`` gives the former human-readable lines for a terminal;
``EBOX_LOG_LEVEL`` the threshold (default INFO).
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import IO, Any

from ebox.api.request_id import stamp_log_records

# Attributes every LogRecord has: what is not among them was given with `extra=`.
_STANDARD = frozenset(
    logging.LogRecord("", 0, "", 0, "", None, None).__dict__.keys()
    | {"message", "asctime", "request_id", "taskName", "color_message"}
)
QUIET_LIBRARIES = ("httpx", "httpcore")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, request id, extra fields.

    An exception's traceback goes in ``traceback`` as one string (JSON escapes its
    newlines), so one record stays one line for the collector.
    """

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None)
        if request_id is not None:
            line["request_id"] = request_id
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                line[key] = value if isinstance(value, str | int | float | bool) else str(value)
        if record.exc_info:
            line["traceback"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["traceback"] = record.exc_text
        return json.dumps(line, ensure_ascii=False)


def configure_logging(
    log_format: str = "json", level: str = "INFO", stream: IO[str] | None = None
) -> None:
    """Route every logger of the process (uvicorn's too) to one handler on stderr.

    Replaces handlers set before (basicConfig's, uvicorn's own), so that no line
    leaves the process in another shape.
    """
    stamp_log_records()
    handler = logging.StreamHandler(stream or sys.stderr)
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(_TextFormatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers = []
        uvicorn_logger.propagate = True
    # httpx logs every request's full URL at INFO: a query string may hold an identifier.
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(logging.WARNING)


class _TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        if getattr(record, "request_id", None) is None:
            record.request_id = "-"
        return super().format(record)


# The uvicorn log configuration that leaves its loggers to ours (uvicorn.Config(log_config=)).
UVICORN_LOG_CONFIG: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "loggers": {
        "uvicorn": {"handlers": [], "propagate": True},
        "uvicorn.error": {"handlers": [], "propagate": True},
        "uvicorn.access": {"handlers": [], "propagate": True},
    },
}
