"""Child process: import one DAG file and print its serialized DAGs (or its error) as JSON.

Run as `python -m services.scheduler.dag_processor.child <path>`. The user file's own
prints go to stderr; the original stdout gets a line `ready` once the interpreter and Flow's
own modules are loaded (the import time limit starts there), then the JSON answer.
"""

from __future__ import annotations

import json
import os
import sys

READY = "ready\n"


def parse(path: str) -> dict[str, object]:
    from flow.sdk.loader import DagImportError, load_dags_from_file
    from flow.sdk.serialization import serialize_dag
    from services.scheduler.dag_processor.parse_comms import installed_from_env

    try:
        with installed_from_env():  # top-level Variable.get / Connection.get
            dags = load_dags_from_file(path)
        return {"dags": [serialize_dag(d) for d in dags], "error": None}
    except DagImportError as exc:
        return {"dags": [], "error": str(exc)}
    except Exception as exc:  # a cycle or a serialization failure: an import error as well
        return {"dags": [], "error": f"{path}: {type(exc).__name__}: {exc}"}


def main(argv: list[str]) -> int:
    answer = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # user prints at import time must not corrupt the answer
    sys.stdout = sys.stderr
    # Flow's own modules load before the import time limit starts (they are not the file's)
    import flow.sdk.loader
    import flow.sdk.serialization  # noqa: F401

    answer.write(READY)
    answer.flush()
    answer.write(json.dumps(parse(argv[1])))
    answer.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
