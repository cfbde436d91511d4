"""BaseSensorOperator: poke until a condition holds, as Airflow's.

In `poke` mode the sensor keeps its worker slot (and pool slots) and sleeps between pokes. In
`reschedule` mode each poke is a short run: a false poke raises FlowRescheduleException, the
attempt ends as up_for_reschedule and frees its slots, and the scheduler dispatches the same
try again at the next poke time. `timeout` counts from the try's first poke in both modes.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from flow.sdk.baseoperator import BaseOperator
from flow.sdk.context import Context
from flow.sdk.exceptions import (
    FlowException,
    FlowRescheduleException,
    FlowSensorTimeout,
    FlowSkipException,
)

MODES = ("poke", "reschedule")
DEFAULT_TIMEOUT = 60 * 60 * 24 * 7  # Airflow's default: 7 days


@dataclass
class PokeReturnValue:
    """What `poke` may return instead of a bool: whether it is done, and the XCom value."""

    is_done: bool
    xcom_value: Any = None

    def __bool__(self) -> bool:
        return self.is_done


def _seconds(value: timedelta | float | None) -> float | None:
    if value is None:
        return None
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class BaseSensorOperator(BaseOperator):
    """Pokes every `poke_interval` seconds until `poke(context)` is true.

    Args:
        poke_interval: seconds (or a timedelta) between pokes (default 60).
        timeout: seconds (or a timedelta) from the first poke after which the sensor fails
            with FlowSensorTimeout, without retries (default 7 days).
        mode: `poke` (hold the slot and sleep) or `reschedule` (free the slot between pokes).
        soft_fail: on timeout, end as skipped instead of failed.
        exponential_backoff: wait about twice as long after each false poke.
        max_wait: the longest wait between pokes with exponential_backoff.
        silent_fail: an error raised by `poke` (other than Flow's signals) counts as a false
            poke instead of failing the task.
    """

    ui_color = "#e6f1f2"
    valid_modes: Sequence[str] = MODES

    def __init__(
        self,
        *,
        poke_interval: timedelta | float = 60,
        timeout: timedelta | float = DEFAULT_TIMEOUT,
        soft_fail: bool = False,
        mode: str = "poke",
        exponential_backoff: bool = False,
        max_wait: timedelta | float | None = None,
        silent_fail: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.poke_interval = _seconds(poke_interval) or 0.0
        self.timeout = _seconds(timeout) or 0.0
        self.soft_fail = soft_fail
        self.mode = mode
        self.exponential_backoff = exponential_backoff
        self.max_wait = _seconds(max_wait)
        self.silent_fail = silent_fail
        if self.poke_interval < 0:
            raise ValueError(f"The poke_interval of '{self.task_id}' must be 0 or more.")
        if self.timeout < 0:
            raise ValueError(f"The timeout of '{self.task_id}' must be 0 or more.")
        if mode not in self.valid_modes:
            raise ValueError(f"The mode of '{self.task_id}' must be one of "
                             f"{list(self.valid_modes)}; got '{mode}'.")

    @property
    def reschedule(self) -> bool:
        return self.mode == "reschedule"

    def poke(self, context: Context) -> bool | PokeReturnValue:
        """Whether the condition holds; subclasses implement it."""
        raise NotImplementedError(f"{type(self).__name__} must implement poke()")

    def execute(self, context: Context) -> Any:
        started_at = self._started_at(context)
        clock = time.monotonic()
        pokes = self._pokes_so_far(started_at)
        while True:
            done = self._poke(context)
            pokes += 1
            if done:
                return done.xcom_value if isinstance(done, PokeReturnValue) else None
            elapsed = self._elapsed(started_at, clock)
            if elapsed > self.timeout:
                message = f"Sensor has timed out; run duration of {elapsed:g} seconds is more " \
                          f"than the specified timeout of {self.timeout:g}."
                if self.soft_fail:
                    raise FlowSkipException(message)
                raise FlowSensorTimeout(message)
            wait = self._next_interval(context, pokes, started_at, elapsed)
            if self.reschedule:
                raise FlowRescheduleException(datetime.now(UTC) + timedelta(seconds=wait))
            print(f"Sensor not satisfied; poking again in {wait:g} s", flush=True)
            time.sleep(wait)

    def _poke(self, context: Context) -> bool | PokeReturnValue:
        """One poke; with silent_fail, an error that is not a Flow signal counts as "not yet"
        (logged), as Airflow's."""
        try:
            return self.poke(context)
        except FlowException:
            raise
        except Exception as exc:
            if not self.silent_fail:
                raise
            print(f"Sensor poke failed, poking again: {type(exc).__name__}: {exc}", flush=True)
            return False

    def _started_at(self, context: Context) -> datetime:
        """The try's first poke: in reschedule mode the try's start (kept across pokes)."""
        ti = context.get("ti")
        start = getattr(ti, "start_date", None) if self.reschedule else None
        return start if isinstance(start, datetime) else datetime.now(UTC)

    def _elapsed(self, started_at: datetime, clock: float) -> float:
        if self.reschedule:
            return (datetime.now(UTC) - started_at).total_seconds()
        return time.monotonic() - clock

    def _pokes_so_far(self, started_at: datetime) -> int:
        """Pokes before this run of the try. Reschedule mode keeps no count: with
        exponential backoff it is derived from the time since the first poke (the waits
        double: after n pokes about poke_interval * (2**n - 1) has passed)."""
        if not (self.reschedule and self.exponential_backoff) or self.poke_interval <= 0:
            return 0
        elapsed = (datetime.now(UTC) - started_at).total_seconds()
        return max(0, int(elapsed / self.poke_interval + 1).bit_length() - 1)

    def _next_interval(self, context: Context, pokes: int, started_at: datetime,
                       elapsed: float) -> float:
        """Airflow's _get_next_poke_interval: poke_interval, or with exponential backoff a
        deterministic wait in [base, 2 * base) where base doubles with each poke; capped by
        what remains of the timeout and by max_wait."""
        if not self.exponential_backoff:
            return self.poke_interval
        base = max(int(self.poke_interval * (2 ** (pokes - 1))), 1)
        ti = context.get("ti")
        key = f"{getattr(ti, 'dag_id', '')}#{self.task_id}#{started_at}#{pokes}"
        digest = int(hashlib.sha1(key.encode(), usedforsecurity=False).hexdigest(), 16)
        wait = float(min(base + digest % base, self.timeout - int(elapsed)))
        if self.max_wait is not None:
            wait = min(self.max_wait, wait)
        return max(0.0, wait)
