"""BashOperator: run a bash command; its last line of output is the return value (Airflow)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from flow.sdk.baseoperator import BaseOperator
from flow.sdk.context import Context
from flow.sdk.exceptions import FlowException, FlowSkipException


class BashOperator(BaseOperator):
    """Run `bash_command` with bash.

    Args:
        bash_command: the command, templated with Jinja.
        env: environment for the command; replaces the inherited one unless append_env.
        append_env: add `env` to the inherited environment instead of replacing it.
        output_encoding: encoding of the command's output.
        skip_on_exit_code: exit codes that end the task as skipped (default 99).
        cwd: working directory; default a temporary directory.
    """

    template_fields: Sequence[str] = ("bash_command", "env", "cwd")
    template_ext = (".sh", ".bash")
    ui_color = "#f0ede4"

    def __init__(
        self,
        *,
        bash_command: str,
        env: Mapping[str, str] | None = None,
        append_env: bool = False,
        output_encoding: str = "utf-8",
        skip_on_exit_code: int | list[int] | None = 99,
        cwd: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.bash_command = bash_command
        self.env = dict(env) if env is not None else None
        self.append_env = append_env
        self.output_encoding = output_encoding
        if skip_on_exit_code is None:
            self.skip_on_exit_code: list[int] = []
        elif isinstance(skip_on_exit_code, int):
            self.skip_on_exit_code = [skip_on_exit_code]
        else:
            self.skip_on_exit_code = list(skip_on_exit_code)
        self.cwd = cwd

    def _environment(self, context: Context) -> dict[str, str]:
        base = dict(os.environ) if (self.env is None or self.append_env) else {}
        base.update(self.env or {})
        ti = context.get("ti")
        if ti is not None:
            base.update({
                "AIRFLOW_CTX_DAG_ID": ti.dag_id, "AIRFLOW_CTX_TASK_ID": ti.task_id,
                "AIRFLOW_CTX_DAG_RUN_ID": ti.run_id, "AIRFLOW_CTX_TRY_NUMBER": str(ti.try_number),
            })
        return base

    def execute(self, context: Context) -> Any:
        if self.cwd is not None and not os.path.isdir(self.cwd):
            raise FlowException(f"Can not find the cwd: {self.cwd}")
        print(f"Running command: ['bash', '-c', {self.bash_command!r}]", flush=True)
        sys.stdout.flush()
        last_line = ""
        with subprocess.Popen(
            ["bash", "-c", self.bash_command],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=self._environment(context),
            cwd=self.cwd,
        ) as proc:
            assert proc.stdout is not None
            out = sys.stdout.buffer
            for raw in proc.stdout:
                out.write(raw)
                out.flush()
                last_line = raw.decode(self.output_encoding, errors="replace").rstrip("\n")
            code = proc.wait()
        print(f"Command exited with return code {code}", flush=True)
        if code in self.skip_on_exit_code:
            raise FlowSkipException(f"Bash command returned exit code {code}. Skipping.")
        if code != 0:
            raise FlowException(
                f"Bash command failed. The command returned a non-zero exit code {code}.")
        return last_line
