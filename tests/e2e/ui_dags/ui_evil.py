"""Hostile text everywhere the UI shows DAG data: the page must render all of it as text."""

import pendulum

from flow.operators.bash import BashOperator
from flow.sdk import DAG, Param

EVIL = "<script>window.__pwned=1</script>\"'><img src=x onerror=window.__pwned=2>"

with DAG(dag_id="ui_evil", schedule=None, start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
         tags=[EVIL[:40]], description=EVIL, doc_md=EVIL,
         params={"evil": Param(EVIL, type="string", description=EVIL)}):
    BashOperator(task_id="shout", bash_command="echo '" + EVIL.replace("'", "") + "'",
                 doc_md=EVIL)
