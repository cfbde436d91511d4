"""configure_logging(): the only structlog.configure() call. JSON off a TTY, console on one.

`mask_secrets` is the single place that redacts secrets: values registered with
`register_secret()` and keys that look sensitive are replaced by `***`.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

MASK = "***"
# Airflow's DEFAULT_SENSITIVE_FIELDS, plus access_key.
_SENSITIVE_KEYS = ("password", "secret", "token", "passwd", "api_key", "apikey",
                   "private_key", "authorization", "access_key", "passphrase", "keyfile_dict",
                   "service_account")
_secrets: set[str] = set()


def register_secret(value: str) -> None:
    """Mask `value` wherever it appears in later log events (ignored when shorter than 4)."""
    if value and len(value) >= 4:
        _secrets.add(value)


def register_sensitive_text(value: str) -> None:
    """Mask `value` and, when it is JSON, every string and number inside it (as Airflow
    masks a sensitive variable read with deserialize_json)."""
    register_secret(value)
    try:
        data = json.loads(value)
    except ValueError:
        return
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str | int | float) and not isinstance(item, bool):
            register_secret(str(item))


def register_sensitive_fields(extra: str) -> None:
    """Mask the values of sensitive keys (at any depth) of a JSON object, e.g. a connection's
    extra."""
    try:
        data = json.loads(extra) if extra else None
    except ValueError:
        return
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key, value in item.items():
                if is_sensitive_key(str(key)) and isinstance(value, str | int | float):
                    register_secret(str(value))
                else:
                    stack.append(value)
        elif isinstance(item, list):
            stack.extend(item)


def is_sensitive_key(key: str) -> bool:
    lowered = key.lower()
    return any(word in lowered for word in _SENSITIVE_KEYS)


def mask_text(text: str) -> str:
    """Replace every registered secret in `text` with `***`."""
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def mask_secrets(
    _logger: object, _name: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    for key, value in list(event_dict.items()):
        if is_sensitive_key(key) and value:
            event_dict[key] = MASK
        elif isinstance(value, str) and _secrets:
            event_dict[key] = mask_text(value)
    return event_dict


def configure_logging(service: str, *, json: bool | None = None, level: int = logging.INFO) -> None:
    """Set up structlog and route stdlib loggers (grpc, nats, sqlalchemy) through it."""
    use_json = json if json is not None else not sys.stderr.isatty()
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        mask_secrets,
    ]
    renderer: Any = (structlog.processors.JSONRenderer() if use_json
                     else structlog.dev.ConsoleRenderer(colors=False))
    tail: list[Any] = [structlog.processors.dict_tracebacks] if use_json else []
    structlog.configure(
        processors=[*shared, *tail, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *tail, renderer],
        foreign_pre_chain=[structlog.stdlib.add_logger_name, *shared],
    ))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(service=service)
