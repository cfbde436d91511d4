"""flowcli completion scripts (checked by bash itself) and `config show` masking secrets."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from flow.cli.commands_config import settings
from flow.cli.completion import script
from flow.cli.main import build_parser
from flow.config import load_config


def _complete(words: list[str]) -> list[str]:
    """What the generated bash function offers after `words` (the last one being typed)."""
    program = script("bash", build_parser()) + (
        f"COMP_WORDS=({' '.join(repr(w) for w in words)}); COMP_CWORD={len(words) - 1}\n"
        "_flowcli; printf '%s\\n' \"${COMPREPLY[@]}\"\n")
    done = subprocess.run(["bash", "-c", program], capture_output=True, text=True, check=True)
    return done.stdout.split()


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_bash_completion_offers_commands_verbs_and_options() -> None:
    assert "dags" in _complete(["flowcli", "da"]) and "runs" not in _complete(["flowcli", "da"])
    assert set(_complete(["flowcli", "runs", ""])) >= {"list", "show", "watch", "cancel",
                                                       "mark", "delete"}
    assert _complete(["flowcli", "dags", "trigger", "x", "--w"]) == ["--wait"]
    assert "--map-index" in _complete(["flowcli", "tasks", "logs", "--"])


def test_config_show_masks_secrets() -> None:
    config = load_config({"FLOW_HOME": "/tmp/flow-config-test",
                          "FLOW_DATABASE__URL": "postgresql://etl:pw-9281@db/flow",
                          "FLOW_AUTH__TOKEN": "tok-55512", "FLOW_SMTP__PASSWORD": "smtp-77"})
    shown = dict(settings(config))
    assert shown["database.url"] == "postgresql://etl:***@db/flow"
    assert shown["auth.token"] == "***" and shown["smtp.password"] == "***"
    assert "pw-9281" not in str(shown) and shown["(derived) home"] == "/tmp/flow-config-test"
