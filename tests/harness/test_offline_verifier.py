"""Self-tests of fsconformance.offline: naming, and the row-count wait's two failure modes."""

from __future__ import annotations

from dataclasses import replace

import pytest

from fsconformance.offline import OfflineStore, OfflineVerifier, quoted
from fsconformance.waiters import WaitTimeout

DESCRIPTION = {
    "OfflineStoreConfig": {
        "S3StorageConfig": {
            "S3Uri": "s3://bucket/prefix",
            "ResolvedOutputS3Uri": "s3://bucket/prefix/123456789012/sagemaker/us-east-1/"
            "offline-store/fg-1-1700000000/data",
        },
        "DataCatalogConfig": {
            "Catalog": "AwsDataCatalog",
            "Database": "sagemaker_featurestore",
            "TableName": "fg-1_1700000000",
        },
    }
}


def test_store_is_read_from_the_description() -> None:
    store = OfflineStore.of(DESCRIPTION)
    assert store.qualified == '"sagemaker_featurestore"."fg-1_1700000000"'
    assert store.bucket == "bucket"
    assert (
        store.prefix == "prefix/123456789012/sagemaker/us-east-1/offline-store/fg-1-1700000000/data"
    )


def test_quoted_lowercases_and_escapes() -> None:
    assert quoted("Age_18-29") == '"age_18-29"'
    assert quoted('odd"name') == '"odd""name"'


def _group_with_rows(backend, rows: int) -> OfflineStore:  # type: ignore[no-untyped-def]
    request = backend.feature_group_request(online=False)
    store = OfflineStore.of(backend.create_and_wait(request))
    for i in range(rows):
        backend.runtime.put_record(
            FeatureGroupName=request["FeatureGroupName"],
            Record=[
                {"FeatureName": "customer_id", "ValueAsString": f"C{i}"},
                {"FeatureName": "event_time", "ValueAsString": "1700000000"},
            ],
        )
    return store


def test_wait_for_rows_returns_once_the_count_is_reached(backend) -> None:  # type: ignore[no-untyped-def]
    store = _group_with_rows(backend, 3)
    verifier = OfflineVerifier(backend)
    verifier.wait_for_rows(store, 3)
    assert verifier.count(store) == 3
    assert [
        row["customer_id"]
        for row in verifier.rows(store, f"SELECT * FROM {store.qualified} ORDER BY 1")
    ] == ["C0", "C1", "C2"]


def test_wait_for_rows_fails_at_once_above_the_target(backend) -> None:  # type: ignore[no-untyped-def]
    store = _group_with_rows(backend, 2)
    verifier = OfflineVerifier(backend)
    verifier.wait_for_rows(store, 2)
    with pytest.raises(RuntimeError, match="more than 1"):
        verifier.wait_for_rows(store, 1)


def test_wait_for_rows_times_out_below_the_target(backend, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    store = _group_with_rows(backend, 1)
    verifier = OfflineVerifier(backend)
    verifier.wait_for_rows(store, 1)  # queries see replicated rows only (C-060)
    monkeypatch.setattr(backend, "budgets", replace(backend.budgets, offline=0.5))
    with pytest.raises(WaitTimeout, match="1 of 5 offline rows"):
        verifier.wait_for_rows(store, 5)
