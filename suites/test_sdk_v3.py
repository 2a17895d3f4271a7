"""The SageMaker SDK v3's record surface, unchanged, on every backend.

sagemaker-core's ``FeatureGroup`` resource (``batch_write_record``, ``list_records``,
``batch_get_record``, ``get_record``, ``update_record`` where the installed release has it,
C-189) and ``sagemaker.mlops.feature_store``'s helpers (``ingest_dataframe`` with
BatchWriteRecord, ``list_records``, ``update_record``, C-190). Every expectation comes from
the contract's reference model (``fsconformance.testing.oracle``) fed with the rows the test
wrote, never from the emulation; both stores are read back in full.

The operations an SDK call sends are recorded in this process by wrapping botocore's
``BaseClient._make_api_call`` (sagemaker-core builds clients of its own).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest
from botocore.client import BaseClient

from fsconformance.backends.base import Backend
from fsconformance.offline import OfflineStore, OfflineVerifier
from fsconformance.testing.oracle import Oracle

SDK3 = "sagemaker>=3.21,<4"
pytestmark = [
    pytest.mark.requires(packages=[SDK3], features=["online_store", "offline_store", "athena"]),
    pytest.mark.client("sdk3"),
]
T1 = 1_700_000_000.0
T2 = T1 + 3600
BATCH_LIMIT = 25  # C-161: 1-25 entries per BatchWriteRecord call
ROWS = 2 * BATCH_LIMIT + 7  # three calls: 25, 25 and 7 entries
FEATURES = ("customer_id", "city", "spend", "event_time")


def frame(ids: Any, event_time: float, city: str) -> pd.DataFrame:
    ids = list(ids)
    return pd.DataFrame(
        {
            "customer_id": pd.array(ids, dtype="int64"),
            "city": pd.array([f"{city}-{i}" for i in ids], dtype="string"),
            "spend": pd.array([i + 0.25 for i in ids], dtype="float64"),
            "event_time": pd.array([event_time] * len(ids), dtype="float64"),
        }
    )


def feed(oracle: Oracle, data: pd.DataFrame) -> None:
    """Tell the reference model about every row written, as the strings put on the wire."""
    for row in data.to_dict("records"):
        values = {name: _wire(row[name]) for name in FEATURES}
        oracle.put(values["customer_id"], values, float(row["event_time"]))


def _wire(value: Any) -> str:
    return str(int(value)) if isinstance(value, int) else str(value)


@pytest.fixture
def sdk3(backend: Backend) -> Iterator[Backend]:
    """The backend, with every client the SDK v3 makes reaching it."""
    from suites.test_clients import emulation_lacks

    missing = emulation_lacks(backend, "list_records")
    if missing:
        pytest.skip(f"unsupported: {missing}")
    os.environ.setdefault("SAGEMAKER_SUPPRESS_V2_WARNING", "1")
    with backend.every_client():
        yield backend


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict[str, Any]]]:
    """(operation, parameters) of every botocore call made in this process from now on."""
    seen: list[tuple[str, dict[str, Any]]] = []
    original = BaseClient._make_api_call

    def recording(self: BaseClient, operation_name: str, api_params: dict[str, Any]) -> Any:
        seen.append((operation_name, api_params))
        return original(self, operation_name, api_params)

    monkeypatch.setattr(BaseClient, "_make_api_call", recording)
    return seen


def create_group(backend: Backend, storage_type: str | None = None) -> str:
    from sagemaker.core.resources import FeatureGroup
    from sagemaker.mlops.feature_store import (
        OfflineStoreConfig,
        OnlineStoreConfig,
        S3StorageConfig,
    )
    from sagemaker.mlops.feature_store.feature_utils import (
        load_feature_definitions_from_dataframe,
    )

    name = backend.unique_name()
    online = {"enable_online_store": True}
    if storage_type:
        online["storage_type"] = storage_type
    backend.adopt(name)
    FeatureGroup.create(
        feature_group_name=name,
        record_identifier_feature_name="customer_id",
        event_time_feature_name="event_time",
        feature_definitions=load_feature_definitions_from_dataframe(frame([0], T1, "x")),
        online_store_config=OnlineStoreConfig(**online),
        offline_store_config=OfflineStoreConfig(
            s3_storage_config=S3StorageConfig(s3_uri=backend.offline_s3_uri)
        ),
        role_arn=backend.role_arn,
        region=backend.region,
    )
    backend.wait_until_created(name)
    return name


def listed(name: str, region: str, page: int) -> list[str]:
    """Every identifier ``feature_utils.list_records`` gives, page by page (C-166)."""
    from sagemaker.mlops.feature_store.feature_utils import list_records

    identifiers: list[str] = []
    token = None
    for _ in range(1000):  # bounded: a token that never ends fails below
        response = list_records(name, max_results=page, next_token=token, region=region)
        identifiers.extend(str(i) for i in response.record_identifiers or [])
        token = getattr(response, "next_token", None)
        if not isinstance(token, str) or not token:
            return identifiers
    raise AssertionError(f"ListRecords of {name} still had a NextToken after 1000 pages")


def assert_online(backend: Backend, name: str, oracle: Oracle) -> None:
    """GetRecord and BatchGetRecord through the resource, and ListRecords through the helper,
    find exactly the oracle's records (C-041, C-042, C-045, C-166, C-167)."""
    from sagemaker.core.resources import FeatureGroup
    from sagemaker.core.shapes import BatchGetRecordIdentifier

    expected = oracle.visible()
    group = FeatureGroup.get(feature_group_name=name, region=backend.region)
    identifiers = listed(name, backend.region, page=7)
    assert Counter(identifiers) == Counter(set(expected)), "ListRecords: not each identifier once"
    for identifier in sorted(expected)[:3]:
        record = group.get_record(record_identifier_value_as_string=identifier).record
        assert {f.feature_name: f.value_as_string for f in record} == expected[identifier]
    response = group.batch_get_record(
        identifiers=[
            BatchGetRecordIdentifier(
                feature_group_name=name, record_identifiers_value_as_string=sorted(expected)
            )
        ]
    )
    assert not response.errors and not response.unprocessed_identifiers
    got = {
        r.record_identifier_value_as_string: {f.feature_name: f.value_as_string for f in r.record}
        for r in response.records
    }
    assert got == expected


def assert_offline(backend: Backend, name: str, oracle: Oracle) -> None:
    """One offline row per accepted put (C-067), with the values written."""
    store = OfflineStore.of(backend.describe(name))
    verifier = OfflineVerifier(backend)
    verifier.wait_for_rows(store, oracle.offline_rows)
    rows = verifier.rows(store, f"SELECT * FROM {store.qualified}")
    got = Counter(
        (str(int(row["customer_id"])), float(row["event_time"]), row["city"], float(row["spend"]))
        for row in rows
    )
    expected = Counter(
        (r.identifier, r.event_time, r.values["city"], float(r.values["spend"]))
        for r in oracle.offline
    )
    assert got == expected


@pytest.mark.online_store
@pytest.mark.offline_store
@pytest.mark.clause("C-161", "C-164", "C-166", "C-067", "C-189", "C-190")
def test_ingest_dataframe_with_batch_write_record_reaches_both_stores(
    sdk3: Backend, calls: list[tuple[str, dict[str, Any]]]
) -> None:
    from sagemaker.mlops.feature_store.feature_utils import ingest_dataframe

    name = create_group(sdk3)
    oracle = Oracle()
    first = frame(range(ROWS), T1, "city")
    del calls[:]
    manager = ingest_dataframe(
        name, first, use_batch_write_record=True, region=sdk3.region
    )  # one process, one thread: every call is made here and recorded
    assert manager.failed_rows == []
    feed(oracle, first)
    writes = [params for operation, params in calls if operation == "BatchWriteRecord"]
    assert "PutRecord" not in [operation for operation, _ in calls]
    assert [len(w["Entries"]) for w in writes] == [BATCH_LIMIT, BATCH_LIMIT, ROWS - 2 * BATCH_LIMIT]
    assert {e["FeatureGroupName"] for w in writes for e in w["Entries"]} == {name}
    # Half the records again, newer, through the SDK's process pool (two processes of two
    # threads each): the online store keeps the newer version (C-035), the offline store
    # appends (C-067).
    second = frame(range(0, ROWS, 2), T2, "moved")
    manager = ingest_dataframe(
        name,
        second,
        max_workers=2,
        max_processes=2,
        use_batch_write_record=True,
        region=sdk3.region,
    )
    assert manager.failed_rows == []
    feed(oracle, second)
    assert_online(sdk3, name, oracle)
    assert_offline(sdk3, name, oracle)


@pytest.mark.online_store
@pytest.mark.clause("C-162", "C-163", "C-190")
def test_ingest_dataframe_batch_write_reports_only_the_failed_row(sdk3: Backend) -> None:
    """A row without its event time fails alone: the emulation echoes the failed entry
    exactly, so the SDK maps it back to its row (C-163) instead of failing the whole batch."""
    from sagemaker.mlops.feature_store.feature_utils import ingest_dataframe
    from sagemaker.mlops.feature_store.ingestion_manager_pandas import IngestionError

    name = create_group(sdk3)
    data = frame(range(10), T1, "city")
    data["event_time"] = data["event_time"].astype("object")
    data.loc[4, "event_time"] = None  # the SDK leaves None features out of the record
    with pytest.raises(IngestionError) as raised:
        ingest_dataframe(name, data, use_batch_write_record=True, region=sdk3.region)
    assert raised.value.failed_rows == [4]
    oracle = Oracle()
    feed(oracle, data.drop(index=4).astype({"event_time": "float64"}))
    assert_online(sdk3, name, oracle)


@pytest.mark.online_store
@pytest.mark.offline_store
@pytest.mark.clause("C-161", "C-162", "C-166", "C-189")
def test_resource_batch_write_record_and_list_records(
    sdk3: Backend, calls: list[tuple[str, dict[str, Any]]]
) -> None:
    """The resource's own batch_write_record: the caller names the group in every entry
    (C-189), a bad entry fails alone and comes back as sent (C-162, C-163)."""
    from sagemaker.core.resources import FeatureGroup
    from sagemaker.core.shapes import BatchWriteRecordEntry, FeatureValue

    name = create_group(sdk3)
    group = FeatureGroup.get(feature_group_name=name, region=sdk3.region)
    data = frame(range(3), T1, "city")
    entries = []
    for row in data.to_dict("records"):
        features = [FeatureValue(feature_name=k, value_as_string=_wire(row[k])) for k in FEATURES]
        if row["customer_id"] == 1:
            features = [f for f in features if f.feature_name != "event_time"]
        entries.append(BatchWriteRecordEntry(feature_group_name=name, record=features))
    del calls[:]
    response = group.batch_write_record(entries=entries, region=sdk3.region)
    assert [operation for operation, _ in calls] == ["BatchWriteRecord"]
    assert not response.unprocessed_entries
    assert [error.entry for error in response.errors] == [entries[1]]
    oracle = Oracle()
    feed(oracle, data.drop(index=1))
    del calls[:]
    page = group.list_records(max_results=100, region=sdk3.region)
    assert [operation for operation, _ in calls] == ["ListRecords"]
    assert calls[0][1]["FeatureGroupName"] == name  # C-189: the resource's own name
    assert sorted(str(i) for i in page.record_identifiers) == sorted(oracle.visible())
    assert_online(sdk3, name, oracle)
    assert_offline(sdk3, name, oracle)


@pytest.mark.online_store
@pytest.mark.clause("C-169", "C-189", "C-190")
def test_update_record_where_the_sdk_has_it(sdk3: Backend) -> None:
    """C-189 says sagemaker-core has no ``update_record``; sagemaker-core 2.27 and
    sagemaker-mlops 1.27 have one on the resource and in ``feature_utils``. The test follows
    what the installed release exposes: a partial update on a Standard_V2 group (C-169)."""
    from sagemaker.core.resources import FeatureGroup
    from sagemaker.core.shapes import FeatureValue

    if not hasattr(FeatureGroup, "update_record"):
        pytest.skip("unsupported: this sagemaker-core has no FeatureGroup.update_record (C-189)")
    from sagemaker.mlops.feature_store import feature_utils
    from sagemaker.mlops.feature_store.feature_utils import ingest_dataframe

    name = create_group(sdk3, storage_type="Standard_V2")
    data = frame(range(2), T1, "city")
    ingest_dataframe(name, data, region=sdk3.region)
    group = FeatureGroup.get(feature_group_name=name, region=sdk3.region)
    group.update_record(
        record_identifier_value_as_string="0",
        features=[FeatureValue(feature_name="city", value_as_string="updated")],
        region=sdk3.region,
    )
    expected = {k: _wire(data.loc[0, k]) for k in FEATURES} | {"city": "updated"}
    if hasattr(feature_utils, "update_record"):
        feature_utils.update_record(
            name,
            "1",
            [{"FeatureName": "spend", "ValueAsString": "9.5"}],
            region=sdk3.region,
        )
    record = group.get_record(record_identifier_value_as_string="0").record
    assert {f.feature_name: f.value_as_string for f in record} == expected
    if hasattr(feature_utils, "update_record"):
        record = group.get_record(record_identifier_value_as_string="1").record
        assert {f.feature_name: f.value_as_string for f in record} == {
            **{k: _wire(data.loc[1, k]) for k in FEATURES},
            "spend": "9.5",
        }
