"""How flowcli shows results: aligned tables for people, JSON or YAML for programs.

JSON is the proto3 JSON mapping with proto field names, the same shape as the REST API.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, TextIO

import yaml
from google.protobuf import json_format
from google.protobuf.message import Message

from flow.errors import InvalidArgumentError

FORMATS = ("table", "json", "yaml")


def message_to_dict(message: Message) -> dict[str, Any]:
    return json_format.MessageToDict(
        message, preserving_proto_field_name=True, always_print_fields_with_no_presence=True)


def render_table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """Columns padded to their widest cell, two spaces apart; the last column is not padded."""
    cells = [[str(h) for h in headers]] + [["" if c is None else str(c) for c in row]
                                           for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = []
    for row in cells:
        padded = [cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=False)]
        lines.append("  ".join([*padded, row[-1]]).rstrip())
    return "\n".join(lines)


def render_fields(pairs: Iterable[tuple[str, object]]) -> str:
    """`key: value` lines with the values aligned."""
    items = [(k, "" if v is None else str(v)) for k, v in pairs]
    width = max((len(k) for k, _ in items), default=0) + 1
    return "\n".join(f"{(k + ':').ljust(width)} {v}".rstrip() for k, v in items)


def render_data(data: Any, fmt: str) -> str:
    """`data` (a message, a list of messages, or plain JSON data) as JSON or YAML text.

    Lists print as a JSON array of objects, as `airflow ... --output json` does."""
    if isinstance(data, Message):
        data = message_to_dict(data)
    elif isinstance(data, list | tuple) and all(isinstance(m, Message) for m in data):
        data = [message_to_dict(m) for m in data]
    if fmt == "yaml":
        return str(yaml.safe_dump(data, sort_keys=False, allow_unicode=True)).rstrip()
    return json.dumps(data, indent=2, ensure_ascii=False)


def emit(text: str, stream: TextIO | None = None) -> None:
    print(text, file=stream or sys.stdout)


def confirm(question: str, yes: bool) -> bool:
    """Ask before a change (skipped with --yes), as Airflow's CLI does; no answer is no."""
    if yes:
        return True
    try:
        answer = input(f"{question} [y/n] ")
    except EOFError:
        answer = ""
    return answer.strip().lower() in ("y", "yes")


def state_name(enum_type: Any, value: int) -> str:
    """TASK_INSTANCE_STATE_UP_FOR_RETRY -> up_for_retry; the zero value -> ''."""
    if value == 0:
        return ""
    name: str = enum_type.Name(value)
    prefix = name.rsplit("_", 1)[0]
    for candidate in ("TASK_INSTANCE_STATE_", "DAG_RUN_STATE_", "DAG_RUN_TYPE_", "BACKFILL_STATE_",
                      "BACKFILL_RUN_ACTION_", "REPROCESS_BEHAVIOR_"):
        if name.startswith(candidate):
            prefix = candidate
            break
    return name.removeprefix(prefix).lower()


def format_time(message: Message, field: str) -> str:
    """A Timestamp field as `YYYY-MM-DD HH:MM:SS` UTC, or '' when unset."""
    if not message.HasField(field):
        return ""
    moment: datetime = getattr(message, field).ToDatetime(tzinfo=UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def format_duration(seconds: float) -> str:
    if not seconds:
        return ""
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m{secs:02d}s" if hours else f"{minutes}m{secs:02d}s"


def parse_conf(text: str | None) -> dict[str, Any] | None:
    """--conf: a JSON object, or an InvalidArgumentError (exit 2) that says what is wrong."""
    if text is None:
        return None
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise InvalidArgumentError(f"--conf is not valid JSON: {exc}.", field="conf",
                                   reason="INVALID_CONF") from None
    if not isinstance(value, dict):
        raise InvalidArgumentError(
            f"--conf must be a JSON object like '{{\"key\": 1}}', got {type(value).__name__}.",
            field="conf", reason="INVALID_CONF")
    return value
