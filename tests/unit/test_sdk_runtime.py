"""Pure logic of the runtime SDK: connection URIs, params, macros, secret masking."""

from __future__ import annotations

import pytest

from flow import log
from flow.crypto import SecretCodec
from flow.errors import FailedPreconditionError
from flow.sdk import Connection, Param, Variable, macros
from flow.sdk.param import ParamValidationError, resolve_params, serialize_params


def test_connection_uri_round_trip_as_airflow() -> None:
    """A URI fills the fields (postgresql -> postgres, query -> extra) and get_uri gives it
    back with the password quoted."""
    conn = Connection(conn_id="c", uri="postgresql://u%40x:p%2Fw@db.example.com:5432/dw?a=1")
    assert (conn.conn_type, conn.host, conn.port, conn.schema) == (
        "postgres", "db.example.com", 5432, "dw")
    assert (conn.login, conn.password, conn.extra_dejson) == ("u@x", "p/w", {"a": "1"})
    assert conn.get_uri() == "postgres://u%40x:p%2Fw@db.example.com:5432/dw?a=1"
    nested = Connection(conn_type="http", host="h", extra={"headers": {"x": 1}})
    assert Connection(uri=nested.get_uri()).extra_dejson == {"headers": {"x": 1}}


def test_connection_refuses_uri_and_fields_together() -> None:
    """Mixing a URI with fields is an error, as in Airflow."""
    with pytest.raises(ValueError, match="URI or individual values"):
        Connection(uri="http://h", host="other")


def test_sdk_calls_outside_a_task_say_where_they_work() -> None:
    """Variable.get outside a running task explains that it needs one."""
    with pytest.raises(RuntimeError, match="needs a running task"):
        Variable.get("x")


def test_params_resolve_conf_over_defaults_and_validate() -> None:
    """Conf overrides defaults; a schema failure and a missing required value name the
    param."""
    spec = serialize_params({"n": Param(5, type="integer", minimum=1), "plain": "x",
                             "req": Param(type="string")})
    assert resolve_params(spec, {"n": 2, "req": "r", "extra": True}) == {
        "n": 2, "plain": "x", "req": "r", "extra": True}
    with pytest.raises(ParamValidationError, match="Param 'n' with value 0"):
        resolve_params(spec, {"n": 0, "req": "r"})
    with pytest.raises(ParamValidationError, match="Param 'req': no value"):
        resolve_params(spec, {})
    assert Param(3, type="integer").resolve() == 3


def test_a_param_default_failing_its_schema_is_a_dag_error() -> None:
    """Serializing a DAG whose Param default breaks its own schema fails (an import error)."""
    with pytest.raises(ParamValidationError, match="Param 'n' with value 0"):
        serialize_params({"n": Param(0, type="integer", minimum=1)})


def test_macros_match_airflow() -> None:
    """ds_add and ds_format behave like airflow.macros."""
    assert macros.ds_add("2015-01-01", 5) == "2015-01-06"
    assert macros.ds_add("2015-01-06", -5) == "2015-01-01"
    assert macros.ds_format("2015-01-01", "%Y-%m-%d", "%m-%d-%y") == "01-01-15"


def test_sensitive_json_values_and_extra_fields_are_masked() -> None:
    """A sensitive JSON value masks its leaves; sensitive keys of an extra are masked."""
    log.register_sensitive_text('{"user": "alice-unit", "pin": 918273}')
    log.register_sensitive_fields('{"api_key": "k-unit-4242", "region": "eu"}')
    masked = log.mask_text("alice-unit 918273 k-unit-4242 eu")
    assert masked == "*** *** *** eu"


def test_codec_encrypts_and_needs_a_key() -> None:
    """Ciphertext differs from the text and decrypts back; without a key, writes refuse."""
    from cryptography.fernet import Fernet

    codec = SecretCodec(Fernet.generate_key().decode())
    token = codec.encrypt("s3cret")
    assert "s3cret" not in token and codec.decrypt(token) == "s3cret"
    with pytest.raises(FailedPreconditionError, match="FLOW_CORE__FERNET_KEY"):
        SecretCodec("").encrypt("x")
