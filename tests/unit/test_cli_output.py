"""flowcli's rendering (tables, JSON, YAML), --conf parsing, target resolution and exit codes."""

from __future__ import annotations

import json
import pathlib

import pytest

from flow.cli import main as cli
from flow.cli.client import resolve_target
from flow.cli.output import (
    format_duration,
    format_time,
    parse_conf,
    render_data,
    render_fields,
    render_table,
    state_name,
)
from flow.errors import InvalidArgumentError
from flow.v1 import common_pb2, dag_service_pb2


def test_table_aligns_columns_and_trims_trailing_space() -> None:
    """Every column starts at the same offset on every line; no line ends in spaces."""
    text = render_table(["DAG_ID", "STATE", "NOTE"],
                        [("etl", "success", ""), ("a_longer_dag", "failed", "x"), ("b", None, 3)])
    lines = text.splitlines()
    assert lines[0] == "DAG_ID        STATE    NOTE"
    assert lines[1] == "etl           success"
    assert lines[2] == "a_longer_dag  failed   x"
    assert lines[3] == "b                      3"
    assert all(line == line.rstrip() for line in lines)


def test_table_with_no_rows_prints_the_header() -> None:
    """An empty list still shows its column names."""
    assert render_table(["A", "B"], []) == "A  B"


def test_fields_align_values() -> None:
    """Key/value lines put every value in one column."""
    assert render_fields([("dag_id", "etl"), ("schedule", "@daily")]) == (
        "dag_id:   etl\nschedule: @daily")


def test_json_output_is_the_rest_shape_of_the_proto() -> None:
    """--output json uses proto field names and includes default values, like REST."""
    response = dag_service_pb2.ListDagsResponse(dags=[common_pb2.Dag(dag_id="etl")])
    data = json.loads(render_data(response, "json"))
    assert data["dags"][0]["dag_id"] == "etl"
    assert data["dags"][0]["is_paused"] is False
    assert data["next_page_token"] == ""


def test_yaml_output() -> None:
    """--output yaml renders the same data as YAML."""
    text = render_data({"dags": [{"dag_id": "etl"}]}, "yaml")
    assert text == "dags:\n- dag_id: etl"


def test_state_names_and_times() -> None:
    """Enum values print as Airflow's lower-case names; unset times print empty."""
    assert state_name(common_pb2.TaskInstanceState,
                      common_pb2.TASK_INSTANCE_STATE_UP_FOR_RETRY) == "up_for_retry"
    assert state_name(common_pb2.DagRunState, common_pb2.DAG_RUN_STATE_SUCCESS) == "success"
    assert state_name(common_pb2.DagRunState, 0) == ""
    run = common_pb2.DagRun()
    assert format_time(run, "start_date") == ""
    run.start_date.FromSeconds(1_704_067_200)
    assert format_time(run, "start_date") == "2024-01-01 00:00:00"
    assert [format_duration(s) for s in (0, 1.25, 75, 3725)] == ["", "1.2s", "1m15s", "1h02m05s"]


def test_conf_must_be_a_json_object() -> None:
    """--conf accepts a JSON object; bad JSON or a non-object is an InvalidArgumentError."""
    assert parse_conf('{"n": 1, "l": [1, 2]}') == {"n": 1, "l": [1, 2]}
    assert parse_conf(None) is None
    with pytest.raises(InvalidArgumentError, match="not valid JSON") as info:
        parse_conf("{n: 1}")
    assert info.value.field == "conf" and info.value.exit_code == 2
    with pytest.raises(InvalidArgumentError, match="JSON object"):
        parse_conf("[1, 2]")


def test_bad_conf_exits_2_before_calling_the_server(capsys: pytest.CaptureFixture[str]) -> None:
    """`dags trigger --conf` with bad JSON prints why and exits 2 without needing a server."""
    code = cli.main(["dags", "trigger", "etl", "--conf", "{oops", "--server", "127.0.0.1:1"])
    assert code == 2
    assert "--conf is not valid JSON" in capsys.readouterr().err


def test_unreachable_server_exits_1_with_a_hint(capsys: pytest.CaptureFixture[str]) -> None:
    """When nothing listens at the address, the message names it and suggests standalone."""
    code = cli.main(["dags", "list", "--server", "127.0.0.1:1", "--token", "t"])
    assert code == 1
    err = capsys.readouterr().err
    assert "cannot reach the Flow API at 127.0.0.1:1" in err and "flowcli standalone" in err


def test_target_comes_from_flags_then_env_then_standalone_file(tmp_path: pathlib.Path) -> None:
    """--server/--token win over FLOW_SERVER/FLOW_TOKEN, which win over standalone.json."""
    (tmp_path / "standalone.json").write_text(json.dumps(
        {"http": "http://127.0.0.1:8080", "grpc": "127.0.0.1:6000", "token": "from-file"}))
    env = {"FLOW_HOME": str(tmp_path)}
    assert resolve_target(environ=env).address == "127.0.0.1:6000"
    assert resolve_target(environ=env).token == "from-file"
    env.update(FLOW_SERVER="10.0.0.1:7000", FLOW_TOKEN="from-env")
    assert (resolve_target(environ=env).address, resolve_target(environ=env).token) == (
        "10.0.0.1:7000", "from-env")
    flagged = resolve_target("h:1", "from-flag", environ=env)
    assert (flagged.address, flagged.token) == ("h:1", "from-flag")
    assert resolve_target(environ={"FLOW_HOME": str(tmp_path / "none")}).address == (
        "127.0.0.1:50051")


def test_options_work_before_and_after_the_verb() -> None:
    """`flowcli -o json dags list` and `flowcli dags list -o json` mean the same."""
    parser = cli.build_parser()
    assert parser.parse_args(["-o", "json", "dags", "list"]).output == "json"
    assert parser.parse_args(["dags", "list", "-o", "json"]).output == "json"
    assert parser.parse_args(["dags", "list"]).output == "table"
    assert parser.parse_args(["dags", "list", "--server", "h:1"]).server == "h:1"
