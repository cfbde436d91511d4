"""The authoring SDK: DAGs, operators, relationships, TaskFlow, loading and serialization."""

from __future__ import annotations

import pathlib
import textwrap
from datetime import UTC, datetime, timedelta

import pytest

from flow.operators.bash import BashOperator
from flow.operators.empty import EmptyOperator
from flow.sdk import DAG, chain, cross_downstream, dag, task
from flow.sdk.exceptions import DuplicateTaskIdFound
from flow.sdk.loader import DagImportError, list_dag_files, load_dags_from_file
from flow.sdk.serialization import serialize_dag


def test_shift_operators_and_lists_set_both_directions() -> None:
    """`a >> [b, c] >> d` links a to b and c, and both to d."""
    with DAG("rel") as d:
        a, b, c, e = (EmptyOperator(task_id=n) for n in "abce")
        a >> [b, c] >> e
    assert d.task_dict["a"].downstream_task_ids == {"b", "c"}
    assert d.task_dict["e"].upstream_task_ids == {"b", "c"}
    assert next(t.task_id for t in d.topological_sort()) == "a"


def test_chain_and_cross_downstream() -> None:
    """chain() links in sequence and pairwise; cross_downstream() links all to all."""
    with DAG("chains") as d:
        a, b, c, x, y = (EmptyOperator(task_id=n) for n in "abcxy")
        chain(a, [b, c], [x, y])
        p, q = EmptyOperator(task_id="p"), EmptyOperator(task_id="q")
        cross_downstream([p, q], [x, y])
    assert d.task_dict["b"].downstream_task_ids == {"x"}
    assert d.task_dict["c"].downstream_task_ids == {"y"}
    assert d.task_dict["x"].upstream_task_ids == {"b", "p", "q"}


def test_default_args_fill_only_missing_arguments() -> None:
    """default_args apply to arguments a task does not pass itself, as in Airflow."""
    with DAG("defaults", default_args={"retries": 3, "queue": "etl", "bash_command": "x"}):
        a = BashOperator(task_id="a", bash_command="echo a")
        b = BashOperator(task_id="b", bash_command="echo b", retries=0)
    assert (a.retries, a.queue, a.bash_command) == (3, "etl", "echo a")
    assert b.retries == 0


def test_duplicate_task_id_is_refused() -> None:
    """Two tasks with one id in a DAG raise DuplicateTaskIdFound."""
    with DAG("dup"), pytest.raises(DuplicateTaskIdFound, match="'x'"):
        EmptyOperator(task_id="x")
        EmptyOperator(task_id="x")


def test_unknown_trigger_rule_is_refused() -> None:
    """An unknown trigger rule names the task and the valid rules."""
    with DAG("tr"), pytest.raises(ValueError, match="one_succes"):
        EmptyOperator(task_id="x", trigger_rule="one_succes")


def test_taskflow_passes_values_and_sets_dependencies() -> None:
    """Calling a @task with another's output makes it downstream; reuse gets __1 ids."""

    @dag(schedule=None, start_date=datetime(2024, 1, 1, tzinfo=UTC))
    def flow_dag() -> None:
        @task
        def one() -> int:
            return 1

        @task
        def plus(x: int) -> int:
            return x + 1

        plus(plus(one()))

    d = flow_dag()
    assert d.dag_id == "flow_dag"
    assert sorted(d.task_dict) == ["one", "plus", "plus__1"]
    assert d.task_dict["plus__1"].upstream_task_ids == {"plus"}


def test_serialization_is_topological_and_json_ready() -> None:
    """The stored structure lists tasks upstream-first with durations in seconds."""
    with DAG("ser", schedule=timedelta(hours=1), tags=["t"]) as d:
        a = BashOperator(task_id="a", bash_command="true", retries=2,
                         retry_delay=timedelta(seconds=5), execution_timeout=30)
        b = EmptyOperator(task_id="b", queue="other")
        b << a
    data = serialize_dag(d)
    assert [t["task_id"] for t in data["tasks"]] == ["a", "b"]
    assert data["tasks"][0]["retry_delay"] == 5.0
    assert data["tasks"][0]["execution_timeout"] == 30.0
    assert data["tasks"][1]["queue"] == "other"
    assert data["schedule"] == "timedelta:3600.0"


def _write(tmp_path: pathlib.Path, name: str, body: str) -> pathlib.Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(body))
    return path


def test_loader_reports_syntax_error_with_line(tmp_path: pathlib.Path) -> None:
    """A syntax error names the file and line."""
    path = _write(tmp_path, "broken.py", "from flow.sdk import DAG\nwith DAG('x'\n")
    with pytest.raises(DagImportError, match=r"broken\.py, line 2"):
        load_dags_from_file(path)


def test_loader_reports_cycle(tmp_path: pathlib.Path) -> None:
    """A cycle is an import error naming the DAG."""
    path = _write(tmp_path, "cycle.py", """
        from flow.sdk import DAG
        from flow.operators.empty import EmptyOperator
        with DAG("cyc"):
            a = EmptyOperator(task_id="a")
            b = EmptyOperator(task_id="b")
            a >> b >> a
    """)
    with pytest.raises(DagImportError, match="Cycle detected in DAG 'cyc'"):
        load_dags_from_file(path)


def test_loader_reports_unknown_dag_argument_with_line(tmp_path: pathlib.Path) -> None:
    """An unknown DAG argument is an import error with the file, line and argument."""
    path = _write(tmp_path, "unknown_arg.py", """
        from flow.sdk import DAG
        dag = DAG("u", scheduel="@daily")
    """)
    with pytest.raises(DagImportError, match=r"(?s)unknown_arg\.py\", line 3.*scheduel"):
        load_dags_from_file(path)


def test_list_dag_files_uses_the_safe_mode_heuristic(tmp_path: pathlib.Path) -> None:
    """Only files mentioning both 'dag' and 'flow' are parsed; hidden folders are skipped."""
    _write(tmp_path, "a.py", "from flow.sdk import DAG\n")
    _write(tmp_path, "helper.py", "x = 1\n")
    (tmp_path / ".hidden").mkdir()
    _write(tmp_path / ".hidden", "b.py", "from flow.sdk import DAG\n")
    assert [p.name for p in list_dag_files(tmp_path)] == ["a.py"]


def test_example_dags_all_load() -> None:
    """Every example DAG in dags/ imports cleanly."""
    root = pathlib.Path(__file__).resolve().parents[2] / "dags"
    ids = {d.dag_id for f in list_dag_files(root) for d in load_dags_from_file(f)}
    assert {"example_bash", "example_python", "example_taskflow", "example_fanout"} <= ids


def test_unknown_operator_argument_and_weight_rule_are_refused() -> None:
    """An argument no class of the operator takes raises Airflow's message naming the task
    and the argument; so does an unknown weight_rule."""
    with DAG("args"):
        with pytest.raises(TypeError, match=r"(?s)Invalid arguments were passed to BashOperator "
                                            r"\(task_id: b\).*'bash_comand'"):
            BashOperator(task_id="b", bash_command="true", bash_comand="x")
        with pytest.raises(ValueError, match="weight_rule must be one of"):
            EmptyOperator(task_id="w", weight_rule="heaviest")


def test_pendulum_dates_and_schedule_interval_are_accepted() -> None:
    """pendulum datetimes serialize like aware stdlib ones; Airflow 2's schedule_interval
    is taken as the schedule."""
    import pendulum

    with DAG("pend", start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
             schedule_interval="@daily") as d:
        EmptyOperator(task_id="a")
    data = serialize_dag(d)
    assert data["start_date"] == "2024-01-01T00:00:00+00:00"
    assert data["schedule"] == "@daily"
