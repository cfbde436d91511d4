"""Configuration: TOML file, FLOW_<SECTION>__<KEY> overrides, errors that name the key."""

from __future__ import annotations

import pathlib

import pytest

from flow.config import load_config
from flow.errors import InvalidArgumentError


def test_defaults_live_under_flow_home(tmp_path: pathlib.Path) -> None:
    """With only FLOW_HOME set, the DB, DAGs and logs default under it."""
    config = load_config({"FLOW_HOME": str(tmp_path)})
    assert config.database_url == f"sqlite+aiosqlite:///{tmp_path / 'flow.db'}"
    assert config.dags_folder == tmp_path / "dags"
    assert config.logs_dir == tmp_path / "logs"
    assert config.worker.queues == ("default",)


def test_environment_overrides_file(tmp_path: pathlib.Path) -> None:
    """Environment variables win over flow.toml, and lists split on commas."""
    (tmp_path / "flow.toml").write_text('[worker]\nconcurrency = 4\nqueues = ["x"]\n')
    config = load_config({"FLOW_HOME": str(tmp_path), "FLOW_WORKER__QUEUES": "etl, ml"})
    assert config.worker.concurrency == 4
    assert config.worker.queues == ("etl", "ml")


def test_bad_value_names_the_key(tmp_path: pathlib.Path) -> None:
    """A value of the wrong type is refused with the key and the value in the message."""
    with pytest.raises(InvalidArgumentError, match=r"FLOW_WORKER__CONCURRENCY.*'many'"):
        load_config({"FLOW_HOME": str(tmp_path), "FLOW_WORKER__CONCURRENCY": "many"})


def test_unknown_key_and_section_are_refused(tmp_path: pathlib.Path) -> None:
    """Typos are errors, not silently ignored settings."""
    with pytest.raises(InvalidArgumentError, match="not a known setting"):
        load_config({"FLOW_HOME": str(tmp_path), "FLOW_WORKER__CONCURENCY": "2"})
    with pytest.raises(InvalidArgumentError, match="unknown section"):
        load_config({"FLOW_HOME": str(tmp_path), "FLOW_WORKR__CONCURRENCY": "2"})


def test_secrets_do_not_show_in_repr(tmp_path: pathlib.Path) -> None:
    """Tokens and the DB URL never appear when the config is logged."""
    config = load_config({"FLOW_HOME": str(tmp_path), "FLOW_AUTH__TOKEN": "s3cr3t-tok",
                          "FLOW_DATABASE__URL": "postgresql+psycopg://u:pw123@h/db"})
    assert "s3cr3t-tok" not in repr(config)
    assert "pw123" not in repr(config)
