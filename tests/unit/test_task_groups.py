"""TaskGroup and @task_group: prefixed ids, roots and leaves, group-level links, defaults."""

from __future__ import annotations

import pytest

from flow.operators.empty import EmptyOperator
from flow.sdk import DAG, TaskGroup, chain, task, task_group
from flow.sdk.exceptions import DuplicateTaskIdFound


def test_ids_are_prefixed_and_nested_groups_prefix_twice() -> None:
    """Tasks in a group get `group.task`; nested ones `outer.inner.task`; prefix_group_id=False
    keeps the bare id."""
    with DAG("g") as d:
        with TaskGroup("outer"):
            EmptyOperator(task_id="a")
            with TaskGroup("inner"):
                EmptyOperator(task_id="b")
        with TaskGroup("flat", prefix_group_id=False):
            EmptyOperator(task_id="c")
    assert sorted(d.task_dict) == ["c", "outer.a", "outer.inner.b"]
    assert d.task_group_ids == {"outer", "outer.inner", "flat"}


def test_group_shift_links_leaves_and_roots_and_works_in_lists_and_chain() -> None:
    """`group >> x` links the group's leaves to x, `x >> group` x to its roots; groups also
    work inside lists and chain()."""
    with DAG("links") as d:
        start, end, other = (EmptyOperator(task_id=n) for n in ("start", "end", "other"))
        with TaskGroup("g") as g:
            a, b, _c = (EmptyOperator(task_id=n) for n in "abc")
            a >> b
        with TaskGroup("h") as h:
            EmptyOperator(task_id="x")
        start >> g >> end
        [g, h] >> other
        chain(end, h)
    assert start.downstream_task_ids == {"g.a", "g.c"}
    assert end.upstream_task_ids == {"g.b", "g.c"}
    assert other.upstream_task_ids == {"g.b", "g.c", "h.x"}
    assert d.task_dict["h.x"].upstream_task_ids == {"end"}
    assert [t.task_id for t in g.get_roots()] == ["g.a", "g.c"]


def test_group_default_args_override_the_dags() -> None:
    """A task takes default_args from its groups over the DAG's, and its own arguments over
    both (Airflow's order)."""
    with DAG("defaults", default_args={"retries": 1, "queue": "q1"}):
        with TaskGroup("g", default_args={"retries": 2}):
            a = EmptyOperator(task_id="a")
            b = EmptyOperator(task_id="b", retries=5)
        c = EmptyOperator(task_id="c")
    assert (a.retries, a.queue, b.retries, c.retries) == (2, "q1", 5, 1)


def test_task_group_decorator_forwards_the_return_value_and_suffixes_reuse() -> None:
    """@task_group returns what its function returns (else the group), and a second call
    gets a `__1` group id, as Airflow's."""
    with DAG("decorated") as d:
        @task
        def one() -> int:
            return 1

        @task
        def inc(x: int) -> int:
            return x + 1

        @task_group
        def twice(x: int) -> object:
            return inc(inc(x))

        @task_group(group_id="empty_group")
        def nothing() -> None:
            EmptyOperator(task_id="e")

        out = twice(twice(one()))
        grp = nothing()
    assert out.operator.task_id == "twice__1.inc__1"
    assert d.task_dict["twice__1.inc"].upstream_task_ids == {"twice.inc__1"}
    assert isinstance(grp, TaskGroup) and grp.group_id == "empty_group"


def test_group_id_clashing_with_a_task_id_is_refused() -> None:
    """A group may not reuse a task's or another group's id."""
    with DAG("clash"):
        EmptyOperator(task_id="same")
        with pytest.raises(DuplicateTaskIdFound, match="same"):
            TaskGroup("same")
