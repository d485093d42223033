"""structlog set-up: key-value events, JSON when not on a terminal."""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any

import structlog

#: Keys whose values are never printed, whatever event carries them.
SECRET_KEYS = frozenset(
    {"password", "token", "access_token", "refresh_token", "client_secret", "secret"}
)


def _redact(
    logger: Any, method: str, event: MutableMapping[str, Any]
) -> Mapping[str, Any]:
    for key in event.keys() & SECRET_KEYS:
        event[key] = "[redacted]"
    return event


def configure_logging(log_format: str = "auto", level: str = "INFO") -> None:
    """Configure structlog for the process: console on a TTY, JSON otherwise."""
    use_json = log_format == "json" or (
        log_format == "auto" and not sys.stderr.isatty()
    )
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if use_json
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _redact,
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
        ),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
