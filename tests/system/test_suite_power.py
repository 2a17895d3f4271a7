"""Suite power: every deliberately wrong variant of the emulation (``tests/mutants.py``)
must make at least one conformance test fail.

The full check runs the relevant suite modules once per mutant in fresh pytest processes
(two to three minutes on two cores), so it is opt-in: ``FSCONFORMANCE_SUITE_POWER=1 pytest
tests/system/test_suite_power.py -m slow -s`` or ``python tests/mutants.py`` print the catch
table. The fast tests below run always: each mutant really changes the behaviour it targets,
checked on the pure model against the contract oracle's answer for the same probe (never
against the unmutated model's), and is undone afterwards.
"""

from __future__ import annotations

import os
from typing import Any

import boto3
import pytest

from fsconformance import mock_featurestore
from fsconformance.emulator import clock, moto_seam
from fsconformance.emulator.controlplane import handlers as control_handlers
from fsconformance.emulator.offline import iceberg, replication
from fsconformance.emulator.runtime import handlers as runtime_handlers
from fsconformance.model.control_plane import ControlPlane, Delays
from fsconformance.model.errors import ServiceError
from fsconformance.model.records import DataPlane
from fsconformance.testing.oracle import Oracle
from tests import mutants
from tests.helpers import ID_AND_TIME, REPO, create_request
from tests.helpers import record as _values

T0 = 1_700_000_000.0


def _group(name: str, extra: tuple[dict[str, str], ...], **options: Any) -> dict[str, Any]:
    """A request for a group over id, t, a and b, then the definitions in ``extra``."""
    request = create_request(name, {**ID_AND_TIME, "a": "String", "b": "String"}, **options)
    request["FeatureDefinitions"] += list(extra)
    return request


def planes(*extra: dict[str, str]) -> tuple[ControlPlane, DataPlane]:
    control = ControlPlane("123456789012", "us-east-1", Delays(0, 0, 0, 0, 0))
    role = "arn:aws:iam::123456789012:role/r"
    control.create_feature_group(_group("g", extra, offline="s3://bucket/p", role=role), T0)
    return control, DataPlane(control)


def put(data: DataPlane, now: float = T0, **values: str) -> None:
    """PutRecord through the emulator's dispatch table, as a served request would go."""
    record = [{"FeatureName": k, "ValueAsString": v} for k, v in values.items()]
    runtime_handlers.OPERATIONS["PutRecord"](data, {"FeatureGroupName": "g", "Record": record}, now)


def get(data: DataPlane, now: float = T0) -> dict[str, Any] | None:
    response = runtime_handlers.OPERATIONS["GetRecord"](
        data, {"FeatureGroupName": "g", "RecordIdentifierValueAsString": "r"}, now
    )
    return {v["FeatureName"]: v["ValueAsString"] for v in response.get("Record", [])} or None


def _create(
    control: ControlPlane, name: str, online: dict[str, Any], *extra: dict[str, str]
) -> None:
    """An online-only group over id, t, a, b (and ``extra``), created at T0 with no delay."""
    control.create_feature_group(_group(name, extra, online=online), T0)


# Each record-level mutant's probe: PutRecords ("put", event time, values), an update adding
# feature ``c`` ("add",) and a DeleteRecord ("delete", event time), all of record ``r``.
Step = tuple[Any, ...]
PROBES: dict[str, list[Step]] = {
    "online_keeps_first": [("put", 1, {"a": "x"}), ("put", 2, {"a": "y"})],
    "put_merges": [("put", 1, {"a": "x", "b": "y"}), ("put", 2, {"a": "z"})],
    "equal_time_reversed": [("put", 1, {"a": "x"}), ("put", 1, {"a": "y"})],
    "backfill_added_features": [("put", 1, {}), ("add",)],
    "no_delete_markers": [("put", 1, {}), ("delete", 2)],
}
# What the other mutants' probes must give, from the contract's text.
CONTRACT_ANSWERS = {
    "reserved_names_accepted": "ValidationException",  # C-013: refused (the code: C-004 (2))
    "partition_by_write_time": "year=1970/month=01/day=01/hour=00",  # C-063: event time 0
}


def observe_api(name: str) -> Any:
    """The probes of the newer operations' mutants (C-163, C-167, C-169, C-175, C-182)."""
    control, data = planes()
    if name == "batch_write_echo_altered":
        entry = {"FeatureGroupName": "g", "Record": _values(id="r", a="x")}  # no event time
        response = runtime_handlers.OPERATIONS["BatchWriteRecord"](data, {"Entries": [entry]}, T0)
        return response["Errors"][0]["Entry"]
    if name == "list_records_soft_deleted":
        put(data, id="r", t="1")
        runtime_handlers.OPERATIONS["DeleteRecord"](
            data,
            {"FeatureGroupName": "g", "RecordIdentifierValueAsString": "r", "EventTime": "2"},
            T0,
        )
        return runtime_handlers.OPERATIONS["ListRecords"](data, {"FeatureGroupName": "g"}, T0)
    if name == "update_record_replaces":
        _create(control, "v2", {"EnableOnlineStore": True, "StorageType": "Standard_V2"})
        record = _values(id="r", t="1", a="x", b="y")
        runtime_handlers.OPERATIONS["PutRecord"](
            data, {"FeatureGroupName": "v2", "Record": record}, T0
        )
        runtime_handlers.OPERATIONS["UpdateRecord"](
            data,
            {
                "FeatureGroupName": "v2",
                "RecordIdentifierValueAsString": "r",
                "Features": _values(a="z"),
            },
            T0,
        )
        return data.data_for(control.find("v2")).online["r"].values
    if name == "on_demand_switch_unlimited":
        outcomes = []
        for step, mode in enumerate(("Provisioned", "OnDemand", "Provisioned", "OnDemand"), 1):
            update = {"ThroughputMode": mode}
            if mode == "Provisioned":
                update |= {"ProvisionedReadCapacityUnits": 5, "ProvisionedWriteCapacityUnits": 5}
            try:
                control.update_feature_group(
                    {"FeatureGroupName": "g", "ThroughputConfig": update}, T0 + step
                )
                outcomes.append("accepted")
            except ServiceError as error:
                outcomes.append(error.code)
        return outcomes
    if name == "set_keeps_duplicates":
        definition = {"FeatureName": "s", "FeatureType": "String", "CollectionType": "Set"}
        _create(control, "mem", {"EnableOnlineStore": True, "StorageType": "InMemory"}, definition)
        record = [*_values(id="r", t="1"), {"FeatureName": "s", "ValueAsStringList": ["a", "a"]}]
        runtime_handlers.OPERATIONS["PutRecord"](
            data, {"FeatureGroupName": "mem", "Record": record}, T0
        )
        return data.data_for(control.find("mem")).online["r"].values["s"]
    if name == "expiry_leaves_no_offline_row":
        runtime_handlers.OPERATIONS["PutRecord"](
            data,
            {
                "FeatureGroupName": "g",
                "Record": _values(id="r", t="1"),
                "TtlDuration": {"Unit": "Seconds", "Value": 1},
            },
            T0,
        )
        data.expire_due(T0)  # event time 1 + 1 s is long past: no read is needed
        return [row.is_deleted for row in data.data_for(control.find("g")).offline]
    if name == "iceberg_overwrites":
        return _iceberg_row_count_after_two_batches()
    if name in EVIDENCE_ANSWERS:
        return observe_evidence(name)
    raise AssertionError(f"no observation for mutant {name}")


def _group_request(name: str, **members: Any) -> dict[str, Any]:
    return create_request(name, {"id": "String", "t": "String"}, online=False, **members)


def observe_evidence(name: str) -> Any:
    """The probes of the mutants that undo a correction the public evidence asked for."""
    if name in ("offline_objects_unencrypted", "no_online_grant", "grant_kept_after_delete"):
        return _encryption_probe(name)
    control = ControlPlane("123456789012", "us-east-1", Delays(10, 0, 0, 0, 0))
    offline = {"S3StorageConfig": {"S3Uri": "s3://bucket/p"}, "TableFormat": "Iceberg"}
    if name == "iceberg_catalog_as_glue":
        control.create_feature_group(
            _group_request("ice-group", OfflineStoreConfig=offline, RoleArn="r"), T0
        )
        catalog = control.describe_feature_group({"FeatureGroupName": "ice-group"}, T0)
        return catalog["OfflineStoreConfig"]["DataCatalogConfig"]
    if name == "arn_lowercased":
        request = _group_request("Mixed-Case", OnlineStoreConfig={"EnableOnlineStore": True})
        return control.create_feature_group(request, T0)["FeatureGroupArn"]
    if name == "modified_at_creation":
        request = _group_request("g", OnlineStoreConfig={"EnableOnlineStore": True})
        control_handlers.OPERATIONS["CreateFeatureGroup"](control, request, T0)
        return "LastModifiedTime" in control.describe_feature_group({"FeatureGroupName": "g"}, T0)
    if name == "creations_unlimited":
        outcomes = []
        for index in range(5):
            request = _group_request(f"g{index}", OnlineStoreConfig={"EnableOnlineStore": True})
            try:
                control.create_feature_group(request, T0 + index)
                outcomes.append("accepted")
            except ServiceError as error:
                outcomes.append(error.code)
        return outcomes
    raise AssertionError(f"no observation for mutant {name}")


def _encryption_probe(name: str) -> Any:
    """C-191 on the emulation: an offline object's encryption, or the online key's grants."""
    account, region = "210987654322", "us-east-1"
    with mock_featurestore(delays=Delays(0, 0, 0, 0, 0)), pytest.MonkeyPatch.context() as env:
        env.setenv("MOTO_ACCOUNT_ID", account)
        s3 = boto3.client("s3", region_name=region)
        sagemaker = boto3.client("sagemaker", region_name=region)
        key = boto3.client("kms", region_name=region).create_key()["KeyMetadata"]
        if name == "offline_objects_unencrypted":
            s3.create_bucket(Bucket="power-sse")
            storage = {"S3Uri": "s3://power-sse/p", "KmsKeyId": key["KeyId"]}
            sagemaker.create_feature_group(
                **_group_request(
                    "sse",
                    OfflineStoreConfig={"S3StorageConfig": storage},
                    RoleArn=f"arn:aws:iam::{account}:role/r",
                )
            )
            runtime = boto3.client("sagemaker-featurestore-runtime", region_name=region)
            record = _values(id="r", t="2024-01-01T00:00:00Z")
            runtime.put_record(FeatureGroupName="sse", Record=record)
            clock.flush_all()
            (item,) = s3.list_objects_v2(Bucket="power-sse")["Contents"]
            head = s3.head_object(Bucket="power-sse", Key=item["Key"])
            return head.get("ServerSideEncryption"), head.get("SSEKMSKeyId") == key["Arn"]
        online = {"EnableOnlineStore": True, "SecurityConfig": {"KmsKeyId": key["Arn"]}}
        sagemaker.create_feature_group(**_group_request("granted", OnlineStoreConfig=online))
        if name == "grant_kept_after_delete":
            sagemaker.delete_feature_group(FeatureGroupName="granted")
        grants = boto3.client("kms", region_name=region).list_grants(KeyId=key["KeyId"])
        return [(g["Name"], sorted(g["Operations"])) for g in grants["Grants"]]


_GRANT = (
    "SageMakerFeatureStore-granted",
    sorted(
        [
            "Decrypt",
            "Encrypt",
            "GenerateDataKey",
            "ReEncryptFrom",
            "ReEncryptTo",
            "CreateGrant",
            "RetireGrant",
            "DescribeKey",
        ]
    ),
)
# The corrected behaviours' probes, answered from the public evidence (docs/evidence.md).
EVIDENCE_ANSWERS: dict[str, Any] = {
    # C-080, E-19: an Iceberg group's catalogue, every "-" of the name turned into "_".
    "iceberg_catalog_as_glue": {
        "Catalog": "AwsDataCatalog",
        "Database": "SageMaker_FeatureStore",
        "TableName": f"ice_group_{int(T0)}",
    },
    # C-010, E-02: the ARN keeps the name's case.
    "arn_lowercased": "arn:aws:sagemaker:us-east-1:123456789012:feature-group/Mixed-Case",
    # C-051, E-14: no LastModifiedTime before the first update.
    "modified_at_creation": False,
    # C-019, E-09: the fifth creation while four are Creating is refused.
    "creations_unlimited": ["accepted"] * 4 + ["ResourceLimitExceeded"],
    # C-191, E-26: SSE-KMS under the group's offline key.
    "offline_objects_unencrypted": ("aws:kms", True),
    # C-191, E-27: the grant named after the group, with the sample's operations.
    "no_online_grant": [_GRANT],
    # C-191: gone with the group (the emulation's reading, C-191's UNCERTAIN).
    "grant_kept_after_delete": [],
}


def _iceberg_row_count_after_two_batches() -> int:
    """Rows of an Iceberg group's table after one put in each of two replication batches."""
    account = "210987654321"
    with mock_featurestore(delays=Delays(0, 0, 0, 0, 60)), pytest.MonkeyPatch.context() as env:
        env.setenv("MOTO_ACCOUNT_ID", account)
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="power-ice")
        sagemaker = boto3.client("sagemaker", region_name="us-east-1")
        runtime = boto3.client("sagemaker-featurestore-runtime", region_name="us-east-1")
        offline = {"S3StorageConfig": {"S3Uri": "s3://power-ice/p"}, "TableFormat": "Iceberg"}
        sagemaker.create_feature_group(
            **_group_request(
                "ice", OfflineStoreConfig=offline, RoleArn=f"arn:aws:iam::{account}:role/r"
            )
        )
        for moment in ("2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z"):
            runtime.put_record(FeatureGroupName="ice", Record=_values(id="r", t=moment))
            clock.flush_all()
        catalog = sagemaker.describe_feature_group(FeatureGroupName="ice")["OfflineStoreConfig"][
            "DataCatalogConfig"
        ]
        table_input = moto_seam.glue_table_input(
            account, "us-east-1", catalog["Database"], catalog["TableName"]
        )
        assert table_input is not None
        return iceberg.read_table(account, "us-east-1", table_input).num_rows


# The newer operations' probes, answered from the contract's text.
API_ANSWERS: dict[str, Any] = {
    # C-163: Errors[].Entry echoes the entry exactly as sent.
    "batch_write_echo_altered": {"FeatureGroupName": "g", "Record": _values(id="r", a="x")},
    # C-167: soft-deleted records are listed only when asked for.
    "list_records_soft_deleted": {"RecordIdentifiers": []},
    # C-169: UpdateRecord changes the named features and keeps the others.
    "update_record_replaces": {"id": "r", "t": "1", "a": "z", "b": "y"},
    # C-175: a switch to OnDemand at most once in 24 hours.
    "on_demand_switch_unlimited": ["accepted", "accepted", "accepted", "ValidationException"],
    # C-182: a Set keeps each element once.
    "set_keeps_duplicates": ["a"],
    # C-180: an expired record leaves a deletion row after its put's row.
    "expiry_leaves_no_offline_row": [False, True],
    # C-067, C-179: an Iceberg table appends; two batches of one row give two rows.
    "iceberg_overwrites": 2,
}


def observe(name: str) -> Any:
    """What the emulation does on mutant ``name``'s probe: the record ``r`` online and the
    is_deleted flags of its offline rows, or the probe's single answer."""
    if name == "reserved_names_accepted":
        try:
            planes({"FeatureName": "write_time", "FeatureType": "String"})
        except ServiceError as error:
            return error.code
        return "created"
    if name == "partition_by_write_time":
        return replication.partition_path(0.0)
    if name in API_ANSWERS or name in EVIDENCE_ANSWERS:
        return observe_api(name)
    control, data = planes()
    now = T0
    for step in PROBES[name]:
        now += 1
        if step[0] == "put":
            put(data, now, id="r", t=str(step[1]), **step[2])
        elif step[0] == "add":
            control.update_feature_group(
                {
                    "FeatureGroupName": "g",
                    "FeatureAdditions": [{"FeatureName": "c", "FeatureType": "String"}],
                },
                now,
            )
        else:
            request = {"RecordIdentifierValueAsString": "r", "EventTime": str(step[1])}
            runtime_handlers.OPERATIONS["DeleteRecord"](
                data, {"FeatureGroupName": "g", **request}, now
            )
    flags = [row.is_deleted for row in data.data_for(control.find("g")).offline]
    return get(data, now=now + 1), flags


def contract_answer(name: str) -> Any:
    """The same observation by the contract oracle, never by the emulation (C-031, C-035,
    C-053, C-102, C-013, C-063)."""
    if name in CONTRACT_ANSWERS:
        return CONTRACT_ANSWERS[name]
    if name in API_ANSWERS:
        return API_ANSWERS[name]
    if name in EVIDENCE_ANSWERS:
        return EVIDENCE_ANSWERS[name]
    oracle = Oracle()
    for step in PROBES[name]:
        if step[0] == "put":
            oracle.put("r", {"id": "r", "t": str(step[1]), **step[2]}, step[1])
        elif step[0] == "delete":
            oracle.delete("r", step[1])
        # "add": nothing changes in the records (C-053)
    return oracle.get("r"), [row.is_deleted for row in oracle.offline]


@pytest.mark.parametrize("name", sorted(mutants.MUTANTS))
def test_the_probe_agrees_with_the_contract_without_the_mutant(name):
    assert observe(name) == contract_answer(name)


@pytest.mark.parametrize("name", sorted(mutants.MUTANTS))
def test_each_mutant_breaks_the_contract_on_its_probe_and_is_undone(name):
    expected = contract_answer(name)
    monkeypatch = pytest.MonkeyPatch()
    try:
        mutants.activate(name, monkeypatch)
        mutated = observe(name)
    finally:
        monkeypatch.undo()
    assert mutated != expected, f"mutant {name} still gives the contract's {expected!r}"
    assert observe(name) == expected, f"mutant {name} was not undone"


def _batch_order() -> list[str]:
    """The identifiers BatchGetRecord answers for a request of r1, r2, r3."""
    _, data = planes()
    for identifier in ("r1", "r2", "r3"):
        put(data, id=identifier, t="1")
    response = runtime_handlers.OPERATIONS["BatchGetRecord"](
        data,
        {
            "Identifiers": [
                {"FeatureGroupName": "g", "RecordIdentifiersValueAsString": ["r1", "r2", "r3"]}
            ]
        },
        T0,
    )
    return [r["RecordIdentifierValueAsString"] for r in response["Records"]]


@pytest.mark.parametrize("name", sorted(mutants.TOLERATED))
def test_each_tolerated_variant_changes_the_order_only_and_is_undone(name):
    before = _batch_order()
    monkeypatch = pytest.MonkeyPatch()
    try:
        mutants.activate(name, monkeypatch)
        varied = _batch_order()
    finally:
        monkeypatch.undo()
    assert varied != before and sorted(varied) == sorted(before)
    assert _batch_order() == before


def test_an_unknown_mutant_is_a_usage_error():
    with pytest.raises(pytest.UsageError, match="not a mutant"):
        mutants.activate("no_such_mutant", pytest.MonkeyPatch())


def test_every_mutant_names_existing_suite_modules():
    for mutant in [*mutants.MUTANTS.values(), *mutants.TOLERATED.values()]:
        for path in mutant.files:
            assert (REPO / path).is_file(), f"{mutant.name}: {path} does not exist"


@pytest.mark.slow
@pytest.mark.skipif(
    os.environ.get("FSCONFORMANCE_SUITE_POWER") != "1",
    reason="runs the suites once per mutant in subprocesses (120-190 s); "
    "set FSCONFORMANCE_SUITE_POWER=1 or run `python tests/mutants.py`",
)
def test_every_mutant_is_caught_by_at_least_one_test():
    control, outcomes = mutants.run_all()
    table = mutants.catch_table(control, outcomes)
    print(table)
    assert control.exit_code == 0 and not control.failed, (
        f"the selected tests fail without any mutant:\n{table}"
    )
    missed = [outcome.mutant for outcome in outcomes if not mutants.as_expected(outcome)]
    assert not missed, f"mutants no test caught, or variants a test refused: {missed}\n{table}"
