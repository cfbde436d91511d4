from flow.v1 import asset_service_pb2 as _asset_service_pb2
from flow.v1 import backfill_service_pb2 as _backfill_service_pb2
from flow.v1 import dag_run_service_pb2 as _dag_run_service_pb2
from flow.v1 import connection_service_pb2 as _connection_service_pb2
from flow.v1 import dag_service_pb2 as _dag_service_pb2
from flow.v1 import task_instance_service_pb2 as _task_instance_service_pb2
from flow.v1 import worker_service_pb2 as _worker_service_pb2
from flow.v1 import variable_service_pb2 as _variable_service_pb2
from flow.v1 import xcom_service_pb2 as _xcom_service_pb2
from google.protobuf import descriptor as _descriptor
from typing import ClassVar as _ClassVar

DESCRIPTOR: _descriptor.FileDescriptor
