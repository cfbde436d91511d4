"""The wire contract follows its conventions, and the committed generated code is fresh."""

from __future__ import annotations

import filecmp
import pathlib
import re
import subprocess
import sys

from google.protobuf.descriptor import FileDescriptor

from flow.v1 import (
    audit_service_pb2,
    common_pb2,
    connection_service_pb2,
    dag_pb2,
    dag_run_service_pb2,
    dag_service_pb2,
    dag_spec_service_pb2,
    dispatch_pb2,
    identity_service_pb2,
    log_service_pb2,
    scheduler_service_pb2,
    task_execution_service_pb2,
    task_instance_service_pb2,
    user_service_pb2,
    variable_service_pb2,
    xcom_service_pb2,
)

ROOT = pathlib.Path(__file__).resolve().parents[2]
FILES: list[FileDescriptor] = [m.DESCRIPTOR for m in (
    common_pb2, dag_run_service_pb2, dag_service_pb2, dispatch_pb2, log_service_pb2,
    scheduler_service_pb2, task_execution_service_pb2, task_instance_service_pb2,
    connection_service_pb2, variable_service_pb2, xcom_service_pb2, user_service_pb2,
    audit_service_pb2, identity_service_pb2, dag_pb2, dag_spec_service_pb2)]
SNAKE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")


def test_every_file_is_in_package_flow_v1() -> None:
    """Each proto declares package flow.v1, matching its folder."""
    for fd in FILES:
        assert fd.package == "flow.v1", fd.name
        assert fd.name.startswith("flow/v1/"), fd.name


def test_enums_start_with_prefixed_unspecified() -> None:
    """Enum values carry the enum's prefix, and zero is <PREFIX>_UNSPECIFIED."""
    for fd in FILES:
        for enum in fd.enum_types_by_name.values():
            prefix = re.sub(r"(?<!^)(?=[A-Z])", "_", enum.name).upper()
            assert enum.values_by_number[0].name == f"{prefix}_UNSPECIFIED"
            for value in enum.values:
                assert value.name.startswith(prefix + "_"), value.name


def test_rpcs_have_their_own_request_and_response() -> None:
    """Every RPC takes <Rpc>Request and returns <Rpc>Response."""
    for fd in FILES:
        for service in fd.services_by_name.values():
            assert service.name.endswith("Service")
            for method in service.methods:
                assert method.input_type.name == f"{method.name}Request", method.full_name
                assert method.output_type.name == f"{method.name}Response", method.full_name


def test_fields_are_lower_snake_case() -> None:
    """Field names are lower_snake_case, the same words as DB columns and log keys."""
    for fd in FILES:
        for message in fd.message_types_by_name.values():
            for f in message.fields:
                assert SNAKE.match(f.name), f"{message.full_name}.{f.name}"


def test_list_rpcs_paginate() -> None:
    """Every List RPC has page_size/page_token in and next_page_token out."""
    for fd in FILES:
        for service in fd.services_by_name.values():
            for method in service.methods:
                if method.name.startswith("List"):
                    fields = method.input_type.fields_by_name
                    assert "page_size" in fields and "page_token" in fields, method.full_name
                    assert "next_page_token" in method.output_type.fields_by_name


def test_generated_code_is_fresh(tmp_path: pathlib.Path) -> None:
    """Regenerating from protos/ into a copy gives exactly the committed flow/v1/."""
    from grpc_tools import protoc

    include = pathlib.Path(protoc.__file__).parent / "_proto"
    sources = sorted(str(p.relative_to(ROOT / "protos"))
                     for p in (ROOT / "protos/flow/v1").glob("*.proto"))
    code = subprocess.call([
        sys.executable, "-m", "grpc_tools.protoc", f"-I{ROOT / 'protos'}", f"-I{include}",
        f"--python_out={tmp_path}", f"--pyi_out={tmp_path}", f"--grpc_python_out={tmp_path}",
        *sources])
    assert code == 0
    generated = sorted(p.name for p in (tmp_path / "flow/v1").iterdir())
    committed = sorted(p.name for p in (ROOT / "flow/v1").iterdir()
                       if p.name != "__init__.py" and p.suffix in {".py", ".pyi"})
    assert generated == committed, "run: python scripts/gen_protos.py"
    _match, mismatch, errors = filecmp.cmpfiles(tmp_path / "flow/v1", ROOT / "flow/v1",
                                               generated, shallow=False)
    assert mismatch == [] and errors == [], f"stale: {mismatch + errors}; run scripts/gen_protos.py"
