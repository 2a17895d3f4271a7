"""Self-tests of the emulated Athena clock (C-184-C-186, C-060).

A query is QUEUED for ``Delays.athena``, then RUNNING, then terminal; it sees exactly the
offline rows whose replication lag has passed; StopQueryExecution cancels it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from fsconformance import Delays, flush_offline_store, mock_featurestore
from fsconformance.emulator.settings import delays_from_env
from tests.helpers import AthenaSession, create_request, record


@pytest.fixture(autouse=True)
def account(fresh_account: str) -> str:
    return fresh_account


class Session(AthenaSession):
    database = "sagemaker_featurestore"

    def __init__(self, account_id: str) -> None:
        super().__init__(account_id, "fsct-clock")

    def create(self) -> str:
        features = {"id": "String", "ts": "Fractional"}
        offline = f"s3://{self.bucket}/fs"
        self.sm.create_feature_group(
            **create_request("fg", features, online=False, offline=offline)
        )
        description = self.sm.describe_feature_group(FeatureGroupName="fg")
        return description["OfflineStoreConfig"]["DataCatalogConfig"]["TableName"]

    def put(self, record_id: str) -> None:
        self.rt.put_record(
            FeatureGroupName="fg",
            Record=record(id=record_id, ts="1"),
        )

    def count(self, table: str) -> int:
        query_id = self.start(f'SELECT count(*) FROM "{table}"')
        assert self.wait(query_id)["Status"]["State"] == "SUCCEEDED"
        rows = self.athena.get_query_results(QueryExecutionId=query_id)["ResultSet"]["Rows"]
        return int(rows[1]["Data"][0]["VarCharValue"])


@pytest.fixture
def slow_offline(account: str) -> Iterator[Session]:
    """Replication takes an hour; queries queue for the default time."""
    with mock_featurestore(delays=Delays(create=0, update=0, delete=0, data_plane=0, offline=3600)):
        yield Session(account)


def test_a_query_straight_after_ingest_sees_no_rows(slow_offline: Session) -> None:
    table = slow_offline.create()
    slow_offline.put("a")
    assert slow_offline.count(table) == 0  # C-060: not replicated yet, and nothing flushes
    assert flush_offline_store() == 1  # the documented explicit flush
    assert slow_offline.count(table) == 1


def test_a_query_polled_at_once_is_not_finished(slow_offline: Session) -> None:
    query_id = slow_offline.start("SELECT 1")
    first = slow_offline.status(query_id)["Status"]["State"]
    assert first in ("QUEUED", "RUNNING")
    final = slow_offline.wait(query_id)
    assert final["Status"]["State"] == "SUCCEEDED"
    statistics = final["Statistics"]
    assert statistics["QueryQueueTimeInMillis"] >= 100  # Delays.athena's default, 0.1 s
    assert statistics["TotalExecutionTimeInMillis"] >= statistics["QueryQueueTimeInMillis"]


def test_stop_cancels_a_queued_query(account: str) -> None:
    with mock_featurestore(delays=Delays(athena=3600)):
        session = Session(account)
        query_id = session.start("SELECT 1")
        assert session.status(query_id)["Status"]["State"] == "QUEUED"
        session.athena.stop_query_execution(QueryExecutionId=query_id)
        found = session.wait(query_id)
        assert found["Status"]["State"] == "CANCELLED"
        assert "AthenaError" not in found["Status"]
        with pytest.raises(session.athena.exceptions.InvalidRequestException):
            session.athena.get_query_results(QueryExecutionId=query_id)


def test_zero_delays_make_rows_queryable_without_a_flush(account: str) -> None:
    with mock_featurestore(
        delays=Delays(create=0, update=0, delete=0, data_plane=0, offline=0, athena=0)
    ):
        session = Session(account)
        table = session.create()
        session.put("a")
        assert session.count(table) == 1


def test_athena_delay_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FSCONFORMANCE_DELAY_ATHENA", "0")
    assert delays_from_env().athena == 0
