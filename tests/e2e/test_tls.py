"""TLS on every gRPC and HTTP listener: a platform started with FLOW_TLS__* runs a DAG with
every hop (worker -> scheduler, worker -> logserver, gateway -> both, clients -> gateway)
over TLS, and refuses plaintext."""

from __future__ import annotations

import datetime
import ipaddress
import pathlib
import ssl
from collections.abc import Iterator

import grpc
import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from flow.platform import Platform
from flow.v1 import dag_service_pb2, dag_service_pb2_grpc
from tests.e2e.runtime import RuntimeApi, started_platform

pytestmark = pytest.mark.e2e


def _certificates(folder: pathlib.Path) -> dict[str, str]:
    """A CA and a server certificate for 127.0.0.1/localhost signed by it, as PEM files."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "flow test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(minutes=5))
          .not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
            .issuer_name(ca_name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([
                x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False)
            .sign(ca_key, hashes.SHA256()))
    files = {"FLOW_TLS__CA_FILE": folder / "ca.pem", "FLOW_TLS__CERT_FILE": folder / "cert.pem",
             "FLOW_TLS__KEY_FILE": folder / "key.pem"}
    files["FLOW_TLS__CA_FILE"].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    files["FLOW_TLS__CERT_FILE"].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files["FLOW_TLS__KEY_FILE"].write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    return {name: str(path) for name, path in files.items()}


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory,
             request: pytest.FixtureRequest) -> Iterator[Platform]:
    env = _certificates(tmp_path_factory.mktemp("tls"))
    with started_platform(tmp_path_factory, request, ["example_taskflow.py"], None,
                          env) as started:
        yield started


def test_a_dag_runs_with_every_hop_over_tls(api: RuntimeApi, platform: Platform) -> None:
    addresses = platform.addresses
    assert addresses.http.startswith("https://") and addresses.ca_file
    run_id, states = api.run_to_end("example_taskflow")  # the api fixture's channel is TLS
    assert states == {"extract": "success", "total": "success"}
    assert "total is 16" in api.read_log("example_taskflow", run_id, "total")
    with httpx.Client(base_url=addresses.http,
                      verify=ssl.create_default_context(cafile=addresses.ca_file),
                      headers={"Authorization": f"Bearer {addresses.token}"}) as http:
        assert http.get("/api/v1/dags/example_taskflow").status_code == 200
    code, out, err = api.cli("dags", "list")  # flowcli trusts FLOW_TLS__CA_FILE
    assert code == 0 and "example_taskflow" in out, err


def test_plaintext_is_refused(platform: Platform) -> None:
    addresses = platform.addresses
    with grpc.insecure_channel(addresses.grpc) as plain, pytest.raises(grpc.RpcError) as raised:
        dag_service_pb2_grpc.DagServiceStub(plain).ListDags(
            dag_service_pb2.ListDagsRequest(),
            metadata=(("authorization", f"Bearer {addresses.token}"),), timeout=5)
    assert raised.value.code() == grpc.StatusCode.UNAVAILABLE  # type: ignore[attr-defined]
    with pytest.raises(httpx.HTTPError):
        httpx.get(addresses.http.replace("https://", "http://") + "/api/v1/health", timeout=5)
