"""Suite power: every deliberately wrong variant of the emulation (``fsconformance.harness.mutants``)
must make at least one conformance test fail.

The full check runs the relevant suite modules once per mutant in fresh pytest processes
(about a minute and a half on two cores), so it is opt-in: ``FSCONFORMANCE_SUITE_POWER=1
pytest tests/test_suite_power.py -s`` or ``python -m fsconformance.harness.mutants`` print the catch
table. The fast tests below run always: each mutant really changes the behaviour it targets,
checked on the pure model, and is undone afterwards.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import boto3
import pytest

from fsconformance import mock_featurestore
from fsconformance.emulator import clock, moto_seam
from fsconformance.emulator.offline import iceberg, replication
from fsconformance.emulator.runtime import handlers as runtime_handlers
from fsconformance.harness import mutants
from fsconformance.model.control_plane import ControlPlane, Delays
from fsconformance.model.errors import ServiceError
from fsconformance.model.records import DataPlane

T0 = 1_700_000_000.0
REPO = Path(__file__).resolve().parent.parent


def planes(*extra: dict[str, str]) -> tuple[ControlPlane, DataPlane]:
    control = ControlPlane("123456789012", "us-east-1", Delays(0, 0, 0, 0, 0))
    control.create_feature_group(
        {
            "FeatureGroupName": "g",
            "RecordIdentifierFeatureName": "id",
            "EventTimeFeatureName": "t",
            "FeatureDefinitions": [
                {"FeatureName": "id", "FeatureType": "String"},
                {"FeatureName": "t", "FeatureType": "Fractional"},
                {"FeatureName": "a", "FeatureType": "String"},
                {"FeatureName": "b", "FeatureType": "String"},
                *extra,
            ],
            "OnlineStoreConfig": {"EnableOnlineStore": True},
            "OfflineStoreConfig": {"S3StorageConfig": {"S3Uri": "s3://bucket/p"}},
            "RoleArn": "arn:aws:iam::123456789012:role/r",
        },
        T0,
    )
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


def correct_behaviour(name: str) -> Any:
    """An observation that differs between the correct model and mutant ``name``."""
    control, data = planes()
    if name == "online_keeps_first":
        put(data, id="r", t="1", a="x")
        put(data, id="r", t="2", a="y")
        return get(data)
    if name == "put_merges":
        put(data, id="r", t="1", a="x", b="y")
        put(data, id="r", t="2", a="z")
        return get(data)
    if name == "equal_time_reversed":
        put(data, id="r", t="1", a="x")
        put(data, id="r", t="1", a="y")
        return get(data)
    if name == "backfill_added_features":
        put(data, id="r", t="1")
        control.update_feature_group(
            {
                "FeatureGroupName": "g",
                "FeatureAdditions": [{"FeatureName": "c", "FeatureType": "String"}],
            },
            T0 + 1,
        )
        return get(data, now=T0 + 2)
    if name == "reserved_names_accepted":
        try:
            planes({"FeatureName": "write_time", "FeatureType": "String"})
        except ServiceError as error:
            return error.code
        return "created"
    if name == "partition_by_write_time":
        return replication.partition_path(0.0)
    if name == "no_delete_markers":
        put(data, id="r", t="1")
        runtime_handlers.OPERATIONS["DeleteRecord"](
            data,
            {"FeatureGroupName": "g", "RecordIdentifierValueAsString": "r", "EventTime": "2"},
            T0,
        )
        return [row.is_deleted for row in data.data_for(control.find("g")).offline]
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
    raise AssertionError(f"no observation for mutant {name}")


def _iceberg_row_count_after_two_batches() -> int:
    """Rows of an Iceberg group's table after one put in each of two replication batches."""
    account = "210987654321"
    with mock_featurestore(delays=Delays(0, 0, 0, 0, 60)), pytest.MonkeyPatch.context() as env:
        env.setenv("MOTO_ACCOUNT_ID", account)
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="power-ice")
        sagemaker = boto3.client("sagemaker", region_name="us-east-1")
        runtime = boto3.client("sagemaker-featurestore-runtime", region_name="us-east-1")
        sagemaker.create_feature_group(
            FeatureGroupName="ice",
            RecordIdentifierFeatureName="id",
            EventTimeFeatureName="t",
            FeatureDefinitions=[
                {"FeatureName": "id", "FeatureType": "String"},
                {"FeatureName": "t", "FeatureType": "String"},
            ],
            OfflineStoreConfig={
                "S3StorageConfig": {"S3Uri": "s3://power-ice/p"},
                "TableFormat": "Iceberg",
            },
            RoleArn=f"arn:aws:iam::{account}:role/r",
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


def _values(**values: str) -> list[dict[str, str]]:
    return [{"FeatureName": k, "ValueAsString": v} for k, v in values.items()]


def _create(
    control: ControlPlane, name: str, online: dict[str, Any], *extra: dict[str, str]
) -> None:
    """An online-only group over id, t, a, b (and ``extra``), created at T0 with no delay."""
    control.create_feature_group(
        {
            "FeatureGroupName": name,
            "RecordIdentifierFeatureName": "id",
            "EventTimeFeatureName": "t",
            "FeatureDefinitions": [
                {"FeatureName": n, "FeatureType": "Fractional" if n == "t" else "String"}
                for n in ("id", "t", "a", "b")
            ]
            + list(extra),
            "OnlineStoreConfig": online,
        },
        T0,
    )


@pytest.mark.parametrize("name", sorted(mutants.MUTANTS))
def test_each_mutant_changes_what_it_targets_and_is_undone(name):
    correct = correct_behaviour(name)
    monkeypatch = pytest.MonkeyPatch()
    try:
        mutants.activate(name, monkeypatch)
        mutated = correct_behaviour(name)
    finally:
        monkeypatch.undo()
    assert mutated != correct, f"mutant {name} changed nothing: {correct!r}"
    assert correct_behaviour(name) == correct, f"mutant {name} was not undone"


def test_an_unknown_mutant_is_a_usage_error():
    with pytest.raises(pytest.UsageError, match="not a mutant"):
        mutants.activate("no_such_mutant", pytest.MonkeyPatch())


def test_every_mutant_names_existing_suite_modules():
    for mutant in mutants.MUTANTS.values():
        for path in mutant.files:
            assert (REPO / path).is_file(), f"{mutant.name}: {path} does not exist"


@pytest.mark.slow
@pytest.mark.skipif(
    os.environ.get("FSCONFORMANCE_SUITE_POWER") != "1",
    reason="runs the suites once per mutant in subprocesses (about 90 s); "
    "set FSCONFORMANCE_SUITE_POWER=1 or run `python -m fsconformance.harness.mutants`",
)
def test_every_mutant_is_caught_by_at_least_one_test():
    control, outcomes = mutants.run_all()
    table = mutants.catch_table(control, outcomes)
    print(table)
    assert control.exit_code == 0 and not control.failed, (
        f"the selected tests fail without any mutant:\n{table}"
    )
    missed = [outcome.mutant for outcome in outcomes if not outcome.caught]
    assert not missed, f"mutants no test caught: {missed}\n{table}"
