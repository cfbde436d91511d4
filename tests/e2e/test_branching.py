"""Branching and short circuits through the real services: who is skipped, and what runs."""

from __future__ import annotations

import pytest

from tests.e2e.api import Api

pytestmark = pytest.mark.e2e



def test_branch_skips_the_branch_not_followed_and_join_runs(api: Api) -> None:
    """BranchPythonOperator follows 'left'; 'right' and its downstream are skipped, and a
    none_failed_min_one_success join still runs."""
    run_id, states = api.run_to_end("example_branching")
    assert states["pick"] == "success"
    assert states["left"] == "success"
    assert states["right"] == "skipped"
    assert states["right_after"] == "skipped"
    assert states["join"] == "success"
    log = api.read_log("example_branching", run_id, "pick")
    assert "Following branch ['left']" in log
    assert "Skipping tasks ['right']" in log


def test_branch_follows_what_conf_chooses(api: Api) -> None:
    """The other way round: following 'right' skips 'left'; the join still runs."""
    _, states = api.run_to_end("example_branching", conf={"branch": "right"})
    assert (states["left"], states["right"], states["right_after"], states["join"]) == (
        "skipped", "success", "success", "success")


def test_task_branch_decorator_follows_a_list(api: Api) -> None:
    """@task.branch returning two task ids runs both and skips the third."""
    _, states = api.run_to_end("example_branching")
    assert (states["first"], states["second"], states["third"]) == (
        "success", "success", "skipped")


def test_short_circuit_modes_and_bash_skip_exit_codes(api: Api) -> None:
    """A falsy short circuit skips everything downstream by default, only its direct
    downstream with ignore_downstream_trigger_rules=False; exit code 99 (or a listed
    skip_on_exit_code) ends a Bash task skipped."""
    run_id, states = api.run_to_end("example_short_circuit")
    assert states["falsy_all"] == "success"
    assert (states["a1"], states["a2"]) == ("skipped", "skipped")
    assert (states["b1"], states["b2"]) == ("skipped", "success")
    assert (states["truthy"], states["c1"]) == ("success", "success")
    assert (states["exit_99"], states["d1"]) == ("skipped", "skipped")
    assert (states["exit_3"], states["d2"]) == ("skipped", "success")
    log = api.read_log("example_short_circuit", run_id, "falsy_all")
    assert "Condition result is False" in log
    assert "Skipping downstream tasks" in log
    assert "Bash command returned exit code 99. Skipping." in api.read_log(
        "example_short_circuit", run_id, "exit_99")
