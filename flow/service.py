"""What every service's `main()` shares (docs/internals.md): run until SIGTERM or SIGINT,
and report readiness by writing the ready info to $FLOW_READY_FILE."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import pathlib
import signal
from collections.abc import Awaitable, Callable
from typing import Any

from flow.config import FlowConfig

Runner = Callable[..., Awaitable[None]]


def write_ready_file(info: dict[str, Any]) -> None:
    """Write `info` as JSON to $FLOW_READY_FILE, if set, atomically (temp file, rename)."""
    target = os.environ.get("FLOW_READY_FILE")
    if not target:
        return
    path = pathlib.Path(target)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(info))
    tmp.replace(path)


def run_service(runner: Runner, config: FlowConfig) -> None:
    """`runner(config, stop=..., on_ready=write_ready_file)` until SIGTERM or SIGINT."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await runner(config, stop=stop, on_ready=write_ready_file)

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
