"""One durable, append-only file per attempt under the logs directory, and live followers.

Path components are percent-escaped, so no id can leave the base directory. Writers wake
the followers of their attempt through an in-process condition: nothing polls. A finished
log is made read-only (mode 0444) in the same fsync that makes it durable: the mode is the
"attempt ended" mark, so finishing costs no second file.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pathlib
import time
import weakref
from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import quote

import structlog

from flow.errors import FailedPreconditionError, InvalidArgumentError

log = structlog.get_logger(__name__)

READ_LIMIT = 1 << 20  # bytes per ReadLog answer and per FollowLog message
_INLINE_WRITE = 64 * 1024  # larger writes go to a thread so the event loop stays responsive
_DAY = 86_400.0


@dataclass(frozen=True)
class AttemptKey:
    """One attempt: (dag_id, run_id, task_id, map_index, try_number)."""

    dag_id: str
    run_id: str
    task_id: str
    map_index: int
    try_number: int

    def validate(self) -> None:
        for name in ("dag_id", "run_id", "task_id"):
            if not getattr(self, name):
                raise InvalidArgumentError(f"The attempt key needs a {name}.", field=f"key.{name}")
        if self.try_number < 1:
            raise InvalidArgumentError(
                f"The attempt key needs try_number >= 1, got {self.try_number}.",
                field="key.try_number")


@dataclass(frozen=True)
class ReadResult:
    """A range of a log: bytes, where to continue, and whether the attempt has ended."""

    content: bytes
    next_offset: int
    complete: bool
    exists: bool


def _escape(value: str) -> str:
    # quote() with no safe characters turns "/" into %2F; "." survives but every component
    # carries a "name=" prefix, so ".." can never be a whole path component.
    return quote(value, safe="")


class _Attempt:
    """The live state of one attempt's log, shared by its writer and followers here."""

    def __init__(self, log_path: pathlib.Path) -> None:
        self.log_path = log_path
        self.changed = asyncio.Condition()
        self.write_lock = asyncio.Lock()
        try:
            stat = log_path.stat()
        except FileNotFoundError:
            self.size, self.done = 0, False
        else:
            self.size, self.done = stat.st_size, _ended(stat.st_mode)

    async def notify(self) -> None:
        async with self.changed:
            self.changed.notify_all()


_WRITABLE = 0o222
_FINISHED_MODE = 0o444


def _ended(mode: int) -> bool:
    """A log whose file has no write permission left has ended (see the module doc)."""
    return not mode & _WRITABLE


def _open_for_append(log_path: pathlib.Path) -> int:
    flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND
    try:
        return os.open(log_path, flags, 0o644)
    except FileNotFoundError:  # the task's first attempt: its folder is new (a syscall each)
        log_path.parent.mkdir(parents=True, exist_ok=True)
        return os.open(log_path, flags, 0o644)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _read_range(path: pathlib.Path, offset: int, limit: int) -> bytes:
    try:
        with path.open("rb") as fh:
            fh.seek(offset)
            return fh.read(limit)
    except FileNotFoundError:
        return b""


def _finish_files(files: list[tuple[int | None, pathlib.Path]]) -> None:
    """Mark each log ended (read-only) and make it durable, data and mark in one fsync (one
    thread hop for a whole batch: this is on every attempt's path)."""
    for fd, log_path in files:
        if fd is None:  # an attempt that wrote nothing still gets an (empty) ended log
            fd = _open_for_append(log_path)
        try:
            os.fchmod(fd, _FINISHED_MODE)
            os.fsync(fd)
        finally:
            os.close(fd)


async def finish_writers(writers: list[AttemptWriter]) -> None:
    """Mark the attempts of `writers` done (their writers sent final), durably, together."""
    ordered = sorted(writers, key=lambda w: str(w.attempt.log_path))  # one lock order
    async with contextlib.AsyncExitStack() as locks:
        for writer in ordered:
            await locks.enter_async_context(writer.attempt.write_lock)
        todo = [w for w in ordered if not w.attempt.done]
        await asyncio.to_thread(_finish_files, [(w.take_fd(), w.attempt.log_path) for w in todo])
        for writer in todo:
            writer.attempt.done = True
    for writer in ordered:
        await writer.attempt.notify()


class AttemptWriter:
    """Appends to one attempt's log; `finish()` marks it done (the writer sent final)."""

    def __init__(self, attempt: _Attempt) -> None:
        self.attempt = attempt
        self._fd: int | None = None

    @property
    def size(self) -> int:
        return self.attempt.size

    def take_fd(self) -> int | None:
        fd, self._fd = self._fd, None
        return fd

    async def append(self, data: bytes) -> int:
        attempt = self.attempt
        if not data:
            return attempt.size
        async with attempt.write_lock:
            if attempt.done:
                raise FailedPreconditionError(
                    "The attempt's log is final; nothing can be appended to it.",
                    reason="LOG_ALREADY_FINAL")
            if self._fd is None:
                self._fd = _open_for_append(attempt.log_path)
            if len(data) > _INLINE_WRITE:
                await asyncio.to_thread(_write_all, self._fd, data)
            else:
                _write_all(self._fd, data)
            attempt.size += len(data)
        await attempt.notify()
        return attempt.size

    async def finish(self) -> None:
        await finish_writers([self])

    async def close(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            await asyncio.to_thread(os.fsync, fd)
            os.close(fd)


class LogStorage:
    """The logs directory: paths, writers, range reads, followers and retention."""

    def __init__(self, base_dir: pathlib.Path, *, retention_days: int = 30) -> None:
        self.base_dir = base_dir.expanduser().resolve()
        self.retention_days = retention_days
        self._live: weakref.WeakValueDictionary[pathlib.Path, _Attempt] = (
            weakref.WeakValueDictionary())

    def log_path(self, key: AttemptKey) -> pathlib.Path:
        """The attempt's `.log` file, as Airflow lays it out (docs/internals.md): a
        `map_index=` folder only for a mapped task's instances. A log an earlier version
        kept under `map_index=-1/` is still found there."""
        task = self._task_folder(key)
        if key.map_index >= 0:
            return task / f"map_index={int(key.map_index)}" / f"attempt={int(key.try_number)}.log"
        log_path = task / f"attempt={int(key.try_number)}.log"
        legacy = task / "map_index=-1" / log_path.name
        return legacy if not log_path.exists() and legacy.exists() else log_path

    def _task_folder(self, key: AttemptKey) -> pathlib.Path:
        folder = self.base_dir.joinpath(
            f"dag_id={_escape(key.dag_id)}", f"run_id={_escape(key.run_id)}",
            f"task_id={_escape(key.task_id)}")
        # defence in depth (the escaping already rules it out), without touching the disk
        if not pathlib.Path(os.path.normpath(folder)).is_relative_to(self.base_dir):
            raise InvalidArgumentError("The attempt key escapes the logs directory.", field="key")
        return folder

    def _attempt(self, key: AttemptKey) -> _Attempt:
        key.validate()
        log_path = self.log_path(key)
        attempt = self._live.get(log_path)
        if attempt is None:
            attempt = _Attempt(log_path)
            self._live[log_path] = attempt
        return attempt

    def open_writer(self, key: AttemptKey) -> AttemptWriter:
        return AttemptWriter(self._attempt(key))

    async def read(self, key: AttemptKey, offset: int = 0, limit: int = 0) -> ReadResult:
        """At most 1 MiB from `offset`; `complete` once the attempt is done and read to its end."""
        key.validate()
        if offset < 0 or limit < 0:
            raise InvalidArgumentError("offset and limit must not be negative.", field="offset")
        limit = READ_LIMIT if limit == 0 else min(limit, READ_LIMIT)
        log_path = self.log_path(key)

        def read_now() -> ReadResult:
            try:
                stat = log_path.stat()  # one stat: an ended log does not grow after it
            except FileNotFoundError:
                return ReadResult(b"", offset, False, False)
            size, done = stat.st_size, _ended(stat.st_mode)
            content = _read_range(log_path, offset, limit) if offset < size else b""
            end = offset + len(content)
            return ReadResult(content, end, done and end >= size, True)

        return await asyncio.to_thread(read_now)

    async def follow(self, key: AttemptKey, offset: int = 0) -> AsyncIterator[tuple[bytes, int]]:
        """Yield (bytes, next_offset) from `offset` as they are written; end when done and sent.

        Waits for a log that does not exist yet.
        """
        if offset < 0:
            raise InvalidArgumentError("offset must not be negative.", field="offset")
        attempt = self._attempt(key)  # a strong reference keeps the live state while we follow
        while True:
            if offset < attempt.size:
                chunk = await asyncio.to_thread(
                    _read_range, attempt.log_path, offset, min(READ_LIMIT, attempt.size - offset))
                if chunk:
                    offset += len(chunk)
                    yield chunk, offset
                    continue
            if attempt.done:
                return
            async with attempt.changed:
                await attempt.changed.wait_for(
                    lambda: attempt.size > offset or attempt.done)  # noqa: B023

    async def purge_expired(self, now: float | None = None) -> int:
        """Delete attempt files older than the retention; returns how many files went."""
        if self.retention_days <= 0:
            return 0
        cutoff = (now if now is not None else time.time()) - self.retention_days * _DAY
        live = set(self._live.keys())
        removed = await asyncio.to_thread(_purge, self.base_dir, cutoff, live)
        if removed:
            log.info("logs_purged", files=removed, retention_days=self.retention_days)
        return removed


def _purge(base: pathlib.Path, cutoff: float, live: set[pathlib.Path]) -> int:
    removed = 0
    if not base.is_dir():
        return 0
    for root, _dirs, files in os.walk(base, topdown=False):
        folder = pathlib.Path(root)
        for name in files:
            path = folder / name
            if not name.startswith("attempt=") or path.with_suffix(".log") in live:
                continue
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink()
                    removed += 1
            except FileNotFoundError:
                continue
        if folder != base:
            with contextlib.suppress(OSError):
                folder.rmdir()  # only succeeds when empty
    return removed
