"""configure_logging(): the only structlog.configure() call. JSON off a TTY, console on one.

`mask_secrets` is the single place that redacts secrets: values registered with
`register_secret()` and keys that look sensitive are replaced by `***`.
"""

from __future__ import annotations

import functools
import json
import logging
import sys
from collections.abc import Iterator, MutableMapping
from typing import Any

import structlog

MASK = "***"
# Airflow's DEFAULT_SENSITIVE_FIELDS, plus access_key.
_SENSITIVE_KEYS = ("password", "secret", "token", "passwd", "api_key", "apikey",
                   "private_key", "authorization", "access_key", "passphrase", "keyfile_dict",
                   "service_account")
_secrets: set[str] = set()
_longest_first: list[str] = []  # _secrets, longest first: a secret inside another is masked last
MIN_MASKED_NUMBER = 6  # numbers inside a sensitive JSON value shorter than this stay readable


def register_secret(value: str) -> None:
    """Mask `value` wherever it appears in later log events (ignored when shorter than 4)."""
    if value and len(value) >= 4 and value not in _secrets:
        _secrets.add(value)
        _longest_first[:] = sorted(_secrets, key=len, reverse=True)


def register_sensitive_text(value: str) -> None:
    """Mask `value` and, when it is JSON, every string and number inside it (as Airflow
    masks a sensitive variable read with deserialize_json)."""
    register_secret(value)
    for _key, leaf in _json_leaves(value):
        if isinstance(leaf, str):
            register_secret(leaf)
        elif isinstance(leaf, int | float) and not isinstance(leaf, bool) and len(
                str(leaf)) >= MIN_MASKED_NUMBER:
            register_secret(str(leaf))


def register_sensitive_fields(extra: str) -> None:
    """Mask the values of sensitive keys (at any depth) of a JSON object, e.g. a connection's
    extra."""
    for key, leaf in _json_leaves(extra):
        if key is not None and is_sensitive_key(key) and isinstance(leaf, str | int | float):
            register_secret(str(leaf))


def _json_leaves(text: str) -> Iterator[tuple[str | None, Any]]:
    """Every value inside the JSON `text` that is not an object or array, with the key of the
    object directly holding it (None in an array or at the top); nothing when not JSON."""
    try:
        data = json.loads(text) if text else None
    except ValueError:
        return
    stack: list[tuple[str | None, Any]] = [(None, data)]
    while stack:
        key, item = stack.pop()
        if isinstance(item, dict):
            stack.extend((str(k), v) for k, v in item.items())
        elif isinstance(item, list):
            stack.extend((None, v) for v in item)
        else:
            yield key, item


@functools.lru_cache(maxsize=4096)
def is_sensitive_key(key: str) -> bool:
    """Whether the values of `key` are masked (asked for every key of every log event: the
    answer is kept)."""
    lowered = key.lower()
    return any(word in lowered for word in _SENSITIVE_KEYS)


def mask_text(text: str) -> str:
    """Replace every registered secret in `text` with `***` (longest first, so that a secret
    containing another leaves no part of itself behind)."""
    for secret in _longest_first:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def mask_data(value: Any) -> Any:
    """A copy of JSON-like data with registered secrets masked in every string and the
    values of sensitive keys replaced by `***` (mask before serialising: JSON escaping would
    hide a secret from mask_text)."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        return {k: MASK if is_sensitive_key(str(k)) and value_present(v) else mask_data(v)
                for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask_data(v) for v in value]
    return value


def value_present(value: Any) -> bool:
    return value not in (None, "", [], {})


def mask_json_fields(text: str) -> str:
    """`text` (a JSON object, e.g. a connection's extra) with the values of sensitive keys
    replaced by `***`; text that is not JSON is returned with registered secrets masked."""
    try:
        data = json.loads(text) if text else None
    except ValueError:
        return mask_text(text)
    if data is None:
        return text
    return json.dumps(mask_data(data))


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
        logger_factory=structlog.WriteLoggerFactory(sys.stderr),  # a line is one write
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
