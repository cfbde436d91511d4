"""Looking at processes from tests, through /proc."""

from __future__ import annotations

import pathlib


def alive(pid: int) -> bool:
    """Whether `pid` is a running process (a zombie is not)."""
    try:
        state = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"
