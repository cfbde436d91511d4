"""Import a DAG file and collect its DAGs. Runs only in child processes (never the scheduler's).

Errors are reported as text naming the file and line, as Airflow's import errors do.
"""

from __future__ import annotations

import hashlib
import importlib.util
import pathlib
import sys
import traceback

from flow.sdk.dag import DAG
from flow.sdk.dag import _created as created_dags
from flow.sdk.exceptions import DagCycleError


class DagImportError(Exception):
    """A DAG file failed to import; `str()` is the message shown to users."""


def _module_name(path: pathlib.Path) -> str:
    digest = hashlib.sha1(str(path).encode(), usedforsecurity=False).hexdigest()[:12]
    return f"flow_dag_{digest}_{path.stem}"


def format_import_error(path: pathlib.Path, exc: BaseException) -> str:
    """The traceback frames inside the DAG file (or all, if none), then the error."""
    if isinstance(exc, SyntaxError):
        where = f"{exc.filename}, line {exc.lineno}"
        text = (exc.text or "").rstrip()
        return f"SyntaxError: {exc.msg} ({where})\n    {text}".rstrip()
    frames = traceback.extract_tb(exc.__traceback__)
    own = [f for f in frames if pathlib.Path(f.filename) == path] or list(frames)
    lines = [f'  File "{f.filename}", line {f.lineno}, in {f.name}\n    {f.line or ""}'
             for f in own]
    return "Traceback (most recent call last):\n" + "\n".join(lines) + \
        f"\n{type(exc).__name__}: {exc}"


def load_dags_from_file(path: str | pathlib.Path) -> list[DAG]:
    """Import `path` and return its DAGs, each checked for cycles.

    Raises:
        DagImportError: with a message naming the file and line at fault.
    """
    path = pathlib.Path(path).resolve()
    name = _module_name(path)
    created_dags.clear()
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise DagImportError(f"{path}: not a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    parent = str(path.parent)
    added = parent not in sys.path
    if added:
        sys.path.insert(0, parent)
    try:
        spec.loader.exec_module(module)
        found: dict[str, DAG] = {}
        for candidate in [*created_dags,
                          *(v for v in vars(module).values() if isinstance(v, DAG))]:
            if candidate.dag_id in found and found[candidate.dag_id] is not candidate:
                raise DagImportError(
                    f"{path}: DAG id '{candidate.dag_id}' is defined twice in this file")
            found[candidate.dag_id] = candidate
        for dag in found.values():
            dag.fileloc = str(path)
            try:
                dag.check_cycle()
            except DagCycleError as exc:  # found after the import: name the DAG's line
                raise DagImportError(
                    f'  File "{path}", line {dag.lineno}, in <module>\n'
                    f"{type(exc).__name__}: {exc}") from exc
        return list(found.values())
    except DagImportError:
        raise
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt):
            raise
        raise DagImportError(format_import_error(path, exc)) from exc
    finally:
        created_dags.clear()
        if added:
            sys.path.remove(parent)


def list_dag_files(folder: str | pathlib.Path) -> list[pathlib.Path]:
    """Python files under `folder` that mention both "dag" and "flow"/"airflow" (Airflow's
    safe-mode heuristic), skipping hidden and __pycache__ directories."""
    root = pathlib.Path(folder)
    files: list[pathlib.Path] = []
    if not root.is_dir():
        return files
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).parts
        if any(p.startswith((".", "__")) for p in rel[:-1]) or path.name.startswith("."):
            continue
        try:
            head = path.read_bytes()
        except OSError:
            continue
        lowered = head.lower()
        if b"dag" in lowered and (b"flow" in lowered):
            files.append(path)
    return files
