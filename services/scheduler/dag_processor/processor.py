"""Find DAG files, parse changed ones in child processes (killed after a time limit), and
hand the results to the core, which stores them in one transaction."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import pathlib
import signal
import socket
import sys
from dataclasses import dataclass, field
from typing import Any

import structlog

from flow.config import without_credentials
from flow.errors import FlowError
from flow.sdk.loader import list_dag_files
from services.scheduler.core.event_applier import SchedulingCore
from services.scheduler.dag_processor.parse_comms import ENV_FD, ParseSecrets
from services.scheduler.dag_processor.storing import ParseResult, store_results

log = structlog.get_logger(__name__)
CHILD_MODULE = "services.scheduler.dag_processor.child"
STARTUP_SECONDS = 60.0  # the child's interpreter start-up, before the import time limit


def _scan(folder: pathlib.Path) -> dict[str, float]:
    found: dict[str, float] = {}
    for path in list_dag_files(folder):
        with contextlib.suppress(OSError):
            found[str(path.resolve())] = path.stat().st_mtime
    return found


@dataclass
class DagProcessor:
    """Parses the DAG folder: all of it at start, then files whose mtime changed."""

    core: SchedulingCore
    folder: pathlib.Path
    timeout: float = 30.0
    interval: float = 30.0
    processes: int = 2
    secrets: ParseSecrets | None = None  # variables/connections for top-level code
    paused_at_creation: bool = False  # FLOW_CORE__DAGS_ARE_PAUSED_AT_CREATION
    _mtimes: dict[str, float] = field(default_factory=dict)
    first_pass: asyncio.Event = field(default_factory=asyncio.Event)  # set once parsed
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    _forced: set[str] = field(default_factory=set)  # parse these next, even unchanged

    def reparse(self, path: str) -> None:
        """Parse `path` again now, even unchanged (e.g. after its DAG's metadata was
        deleted: the DAG comes back, as in Airflow)."""
        self._forced.add(path)
        self._wake.set()

    async def parse_once(self) -> int:
        """Parse new and changed files and store the results; returns how many were parsed."""
        files = await asyncio.to_thread(_scan, self.folder)
        forced, self._forced = self._forced, set()
        changed = [p for p, m in files.items() if self._mtimes.get(p) != m or p in forced]
        limit = asyncio.Semaphore(max(1, self.processes))

        async def bounded(path: str) -> ParseResult:
            async with limit:
                return await self.parse_file(path)

        results = list(await asyncio.gather(*(bounded(p) for p in changed)))
        vanished = set(self._mtimes) - set(files)
        if results or vanished or not self._mtimes:
            await self.core.submit(lambda unit: store_results(
                unit, results, set(files), self.paused_at_creation))
        self._mtimes = {p: m for p, m in files.items()}
        return len(results)

    async def parse_file(self, path: str) -> ParseResult:
        """Import `path` in a fresh child process; a hang is killed after `timeout` seconds
        of importing the file (the child's own start-up, slow on a busy machine, is bounded
        separately)."""
        ours, theirs = socket.socketpair() if self.secrets else (None, None)
        env = without_credentials()  # the file is user code: no tokens, DB URL or Fernet key
        if theirs is not None:
            env[ENV_FD] = str(theirs.fileno())
        try:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", CHILD_MODULE, path, stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
                start_new_session=True, env=env, pass_fds=(theirs.fileno(),) if theirs else ())
        finally:
            if theirs is not None:
                theirs.close()
        serving = (asyncio.create_task(self.secrets.serve(ours))
                   if self.secrets and ours else None)
        started_within = max(STARTUP_SECONDS, self.timeout)
        ready = b""
        try:
            if proc.stdout is not None:
                async with asyncio.timeout(started_within):
                    ready = await proc.stdout.readline()
            async with asyncio.timeout(self.timeout):
                out, err = await proc.communicate()
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            await proc.wait()
            error = (f"{path}: timed out after {self.timeout:g} s while importing the file"
                     if ready else f"{path}: the parser did not start within {started_within:g} s")
            log.warning("dag_parse_failed", path=path, error=error)
            return ParseResult(path, error=error)
        finally:
            if serving is not None:
                serving.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await serving
            if ours is not None:
                ours.close()
        try:
            answer: dict[str, Any] = json.loads(out)
        except ValueError:
            tail = err.decode(errors="replace")[-2000:]
            answer = {"dags": [], "error": f"{path}: the parser exited with code "
                                           f"{proc.returncode}\n{tail}".rstrip()}
        if answer.get("error"):
            log.warning("dag_parse_failed", path=path, error=answer["error"])
        else:
            log.info("dag_file_parsed", path=path, dags=len(answer["dags"]))
        return ParseResult(path, dags=answer.get("dags") or [], error=answer.get("error"))

    async def run(self) -> None:
        """Parse the folder, then re-parse changed files every `interval` seconds, forever."""
        while True:
            started = asyncio.get_running_loop().time()
            try:
                parsed = await self.parse_once()
            except FlowError as exc:  # the DB is briefly unavailable: parse again next time
                log.warning("dag_folder_not_stored", error=exc.message)
                self._mtimes.clear()
                parsed = 0
            self.first_pass.set()
            log.debug("dag_folder_parsed", files=parsed,
                      seconds=round(asyncio.get_running_loop().time() - started, 3))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.interval)
            self._wake.clear()
