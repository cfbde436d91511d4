"""FileSensor: wait for a file or folder (Airflow's `airflow.sensors.filesystem`)."""

from __future__ import annotations

import glob
import os
from typing import Any

from flow.operators.connection_source import lookup
from flow.sdk.context import Context
from flow.sensors.base import BaseSensorOperator


class FileSensor(BaseSensorOperator):
    """Done when `filepath` (a glob pattern allowed) exists; a folder counts when it holds a
    file (or when it exists at all, with recursive=False it is listed one level).

    Args:
        filepath: the path, relative to the connection's `path` extra when `fs_conn_id`
            names a connection that has one (Airflow's fs connection); absolute otherwise.
        fs_conn_id: optional; Airflow's default `fs_default` is used only when it exists.
        recursive: with `**` in the pattern, match any depth.
    """

    template_fields = ("filepath",)
    ui_color = "#91818a"

    def __init__(self, *, filepath: str, fs_conn_id: str | None = "fs_default",
                 recursive: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.filepath = filepath
        self.fs_conn_id = fs_conn_id
        self.recursive = recursive

    def _base_path(self) -> str:
        if not self.fs_conn_id:
            return ""
        conn = lookup(self.fs_conn_id)
        if conn is None:
            return ""
        return str((conn.extra or {}).get("path", ""))

    def poke(self, context: Context) -> bool:
        full = os.path.join(self._base_path(), self.filepath)
        print(f"Poking for file {full}", flush=True)
        for path in glob.glob(full, recursive=self.recursive):
            if os.path.isfile(path):
                print(f"Found file {path}", flush=True)
                return True
            for _root, _dirs, files in os.walk(path):
                if files:
                    return True
        return False
