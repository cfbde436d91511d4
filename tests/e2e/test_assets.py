"""Data-aware scheduling through the real services: a consumer DAG scheduled on two assets
runs once both were updated by a producer's tasks, not before; a paused consumer keeps the
updates and runs when unpaused; the assets and their events are listed over gRPC, REST and
flowcli."""

from __future__ import annotations

import httpx
import pytest

from flow.platform import Platform
from flow.v1 import asset_service_pb2 as apb
from flow.v1 import asset_service_pb2_grpc, common_pb2, dag_service_pb2
from flow.v1 import dag_run_service_pb2 as rpb
from tests.e2e.api import eventually
from tests.e2e.runtime import RuntimeApi, module_platform

pytestmark = pytest.mark.e2e
SUCCESS = common_pb2.DAG_RUN_STATE_SUCCESS
ORDERS = "s3://warehouse/orders.parquet"
CUSTOMERS = "s3://warehouse/customers.parquet"

ONE_ASSET_DAGS = f'''
from datetime import UTC, datetime
from flow.operators.bash import BashOperator
from flow.sdk import DAG, Asset

with DAG("orders_only_producer", schedule=None, start_date=datetime(2024, 1, 1, tzinfo=UTC)):
    BashOperator(task_id="export", bash_command="echo orders", outlets=[Asset("{ORDERS}")])

with DAG("paused_consumer", schedule=[Asset("{ORDERS}")], is_paused_upon_creation=True,
         start_date=datetime(2024, 1, 1, tzinfo=UTC)):
    BashOperator(task_id="use", bash_command="echo using orders")
'''


platform = module_platform(["example_assets.py"],
                           {"one_asset.py": ONE_ASSET_DAGS},
                           {"FLOW_SCHEDULER__PARSE_INTERVAL_SECONDS": "1"})



def _runs(api: RuntimeApi, dag_id: str) -> list[object]:
    return list(api.call(api.runs.ListDagRuns, rpb.ListDagRunsRequest(dag_id=dag_id)).dag_runs)


def test_a_dag_scheduled_on_two_assets_runs_once_both_were_updated(
        api: RuntimeApi, platform: Platform) -> None:
    api.wait_for_dag("example_assets_consumer")
    api.wait_for_dag("orders_only_producer")
    # One of the two assets updated: the consumer waits.
    api.run_to_end("orders_only_producer")
    assert _runs(api, "example_assets_consumer") == []
    # The producer updates both (one of them again): one run of the consumer, asset-triggered.
    producer_run, _ = api.run_to_end("example_assets_producer")
    runs = eventually(lambda: _runs(api, "example_assets_consumer"))
    assert len(runs) == 1 and runs[0].run_type == common_pb2.DAG_RUN_TYPE_ASSET_TRIGGERED
    assert runs[0].run_id.startswith("asset_triggered__")
    assert api.wait_for_run("example_assets_consumer", runs[0].run_id).state == SUCCESS
    assert "(asset_triggered)" in api.read_log("example_assets_consumer", runs[0].run_id,
                                               "report")
    stub = asset_service_pb2_grpc.AssetServiceStub(api.channel)
    assets = {a.uri: a for a in stub.ListAssets(apb.ListAssetsRequest(),
                                                **api.call_options).assets}
    assert list(assets[ORDERS].consuming_dag_ids) == ["example_assets_consumer",
                                                      "paused_consumer"]
    assert assets[CUSTOMERS].HasField("last_updated")
    events = stub.ListAssetEvents(apb.ListAssetEventsRequest(source_dag_id=(
        "example_assets_producer")), **api.call_options).asset_events
    assert sorted((e.uri, e.source_task_id, e.source_run_id) for e in events) == [
        (CUSTOMERS, "export_customers", producer_run), (ORDERS, "export_orders", producer_run)]
    addresses = platform.addresses
    with httpx.Client(base_url=addresses.http,
                      headers={"Authorization": f"Bearer {addresses.token}"}) as http:
        listed = http.get("/api/v1/assetEvents", params={"uri": ORDERS})
        assert listed.status_code == 200 and len(listed.json()["asset_events"]) == 2
    table = api.cli_json("assets", "events", "--uri", CUSTOMERS, "-o", "json")
    assert [e["source_task_id"] for e in table] == ["export_customers"]


def test_a_paused_consumer_keeps_the_update_and_runs_when_unpaused(api: RuntimeApi) -> None:
    api.wait_for_dag("paused_consumer")
    api.run_to_end("orders_only_producer")
    assert _runs(api, "paused_consumer") == []
    api.dags.UpdateDag(dag_service_pb2.UpdateDagRequest(dag_id="paused_consumer",
                                                        is_paused=False), **api.call_options)
    runs = eventually(lambda: _runs(api, "paused_consumer"))
    assert len(runs) == 1
    assert api.wait_for_run("paused_consumer", runs[0].run_id).state == SUCCESS


def test_a_list_schedule_of_non_assets_is_an_import_error(api: RuntimeApi,
                                                          platform: Platform) -> None:
    (platform.dags_folder / "bad_assets.py").write_text(
        "from flow.sdk import DAG\nDAG('bad_assets', schedule=['not an asset'])\n")
    error = eventually(lambda: next((e for e in api.import_errors()
                                     if e.filename.endswith("bad_assets.py")), None))
    assert "a list schedule must hold Assets" in error.stacktrace
