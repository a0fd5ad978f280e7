"""Structured logs with the standard ``logging`` module (docs/operations.md).

Every record may carry structured fields (``extra={...}``): the domain's events (``service/events.py``)
and the access log (``api/observe.py``) do. ``text`` writes one line per record, the message then its
fields as ``key=value``; ``json`` writes one JSON object per line with ``time``, ``level``, ``logger``,
``message`` and the fields, for a log shipper. The level and the format are settings
(DECONFLICTION_LOG_LEVEL, DECONFLICTION_LOG_FORMAT); ``logging_config`` gives the ``dictConfig`` that
``deconflict serve`` hands to uvicorn, so every worker process logs the same way.
"""

from __future__ import annotations

import logging
import logging.config
import traceback
from datetime import UTC, datetime
from typing import Any

import orjson

_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
    "message",
    "asctime",
    "taskName",
    "color_message",  # uvicorn's copy of its message with terminal colours
}


def fields_of(record: logging.LogRecord) -> dict[str, Any]:
    """The structured fields a record was given through ``extra``."""
    return {k: v for k, v in record.__dict__.items() if k not in _STANDARD and not k.startswith("_")}


def _time(record: logging.LogRecord) -> str:
    return datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _plain(value: Any) -> str:
    if isinstance(value, str):
        return value if value and " " not in value and '"' not in value and "=" not in value else f'"{value}"'
    return orjson.dumps(value, default=str).decode()


class TextFormatter(logging.Formatter):
    """``2026-12-06T18:00:00.123Z INFO deconfliction.events: conflict cf_1 opened ... event=conflict.opened``"""

    def format(self, record: logging.LogRecord) -> str:
        line = f"{_time(record)} {record.levelname} {record.name}: {record.getMessage()}"
        extra = {k: v for k, v in fields_of(record).items() if v is not None}  # JSON keeps the nulls
        if extra:
            line += " " + " ".join(f"{k}={_plain(v)}" for k, v in extra.items())
        if record.exc_info:
            line += "\n" + "".join(traceback.format_exception(*record.exc_info)).rstrip()
        return line


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ``time``, ``level``, ``logger``, ``message``, then the record's fields
    (``event`` for the domain's events, ``method``/``route``/``status``... for the access log), then
    ``exception`` when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": _time(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        out.update(fields_of(record))
        if record.exc_info:
            out["exception"] = "".join(traceback.format_exception(*record.exc_info)).rstrip()
        return orjson.dumps(out, default=str).decode()


FORMATTERS = {"text": TextFormatter, "json": JsonFormatter}


def logging_config(log_format: str, level: str) -> dict[str, Any]:
    """The ``logging.config.dictConfig`` of a server process: everything (the service's loggers and
    uvicorn's) to stderr in ``log_format`` at ``level``; uvicorn's own access log is off (the service
    writes its own, with the route template and the party)."""
    formatter = f"{FORMATTERS[log_format].__module__}.{FORMATTERS[log_format].__qualname__}"
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"default": {"()": formatter}},
        "handlers": {
            "stderr": {"class": "logging.StreamHandler", "formatter": "default", "stream": "ext://sys.stderr"}
        },
        "root": {"handlers": ["stderr"], "level": level},
        "loggers": {
            "uvicorn": {"handlers": [], "propagate": True, "level": level},
            "uvicorn.error": {"handlers": [], "propagate": True, "level": level},
            "uvicorn.access": {"handlers": [], "propagate": False, "level": "WARNING"},
        },
    }


def configure(log_format: str, level: str) -> None:
    """Apply ``logging_config`` to this process (the CLI's commands other than ``serve``)."""
    logging.config.dictConfig(logging_config(log_format, level))
