"""Everything CI checks, in order: generated code fresh, ruff, mypy, then the test suite.

`./run tests [pytest args]` runs this inside the project's virtual environment.
Pytest's exit code 5 (no tests collected) counts as a failure.
"""

from __future__ import annotations

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def step(name: str, args: list[str]) -> None:
    print(f"==> {name}: {' '.join(args)}", flush=True)
    code = subprocess.call(args, cwd=ROOT)
    if code != 0:
        print(f"==> {name} failed (exit {code})", flush=True)
        sys.exit(code or 1)


def main() -> None:
    py = sys.executable
    step("generated protobuf code is fresh", [py, "scripts/gen_protos.py"])
    step("generated protobuf code is committed",
         ["git", "diff", "--exit-code", "--stat", "--", "flow/v1"])
    step("ruff", [py, "-m", "ruff", "check", "."])
    step("mypy", [py, "-m", "mypy", "flow", "services"])
    args = [py, "-m", "pytest", *sys.argv[1:]]
    print(f"==> tests: {' '.join(args)}", flush=True)
    code = subprocess.call(args, cwd=ROOT)
    if code == 5:
        print("==> pytest collected no tests: that is a failure", flush=True)
        sys.exit(1)
    sys.exit(code)


if __name__ == "__main__":
    main()
