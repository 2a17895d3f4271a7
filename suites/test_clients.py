"""The flow through the clients users run, unchanged: a conformance claim holds
for the clients people use, not only for boto3.

create -> ingest -> add a feature -> re-ingest -> verify online and offline, once per client:
boto3, the SageMaker SDK v2 (the public sample's client, ingesting with ``max_workers=3`` as
the sample does, which is a process pool), the SDK v3 (sagemaker-core and
``sagemaker.mlops.feature_store``), and the offline store read through pyathena and
awswrangler. Select clients with ``--client`` (``FSCONFORMANCE_CLIENT``, comma-separated) or
``-m "client"``; a client whose package is absent or of another version is **unsupported**.

Every expectation is computed here from the rows the test ingested (the contract's rules:
the online store keeps the latest event time, C-035/C-045; values read back as the strings
written, C-042; the offline store appends one row per put, C-067; added features are NULL in
older rows, C-053), never taken from the emulation.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator
from typing import Any

import pandas as pd
import pytest

from fsconformance.backends.base import Backend
from fsconformance.ingest import ingest
from fsconformance.offline import OfflineStore

N = 12
FIRST = 1_700_000_000.0
SECOND = FIRST + 3600
SDK2 = "sagemaker>=2.200,<3"
SDK3 = "sagemaker>=3.21,<4"
CLIENTS: dict[str, list[str]] = {
    "boto3": [],
    "sdk2": [SDK2],
    "sdk3": [SDK3],
    "pyathena": ["pyathena>=3"],
    "awswrangler": ["awswrangler>=3.9"],
}


def first_rows() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": pd.array(range(N), dtype="int64"),
            "city": pd.array([f"city-{i % 3}" for i in range(N)], dtype="string"),
            "spend": pd.array([i + 0.5 for i in range(N)], dtype="float64"),
            "event_time": pd.array([FIRST] * N, dtype="float64"),
        }
    )


def second_rows() -> pd.DataFrame:
    frame = first_rows()
    frame["city"] = pd.array([f"moved-{i}" for i in range(N)], dtype="string")
    frame["spend"] = frame["spend"] * 2
    frame["event_time"] = SECOND
    frame["email"] = pd.array([f"c{i}@example.com" for i in range(N)], dtype="string")
    return frame


def expected_online() -> dict[str, dict[str, Any]]:
    """After both ingests: the later event time wins (C-035), every feature present."""
    return {str(row["customer_id"]): row for row in second_rows().to_dict("records")}


def same_value(actual: Any, expected: Any) -> bool:
    if isinstance(expected, float):
        return actual is not None and math.isclose(float(actual), expected)
    return str(actual) == str(expected)


def assert_online(records: dict[str, dict[str, str]]) -> None:
    expected = expected_online()
    assert set(records) == set(expected), "online identifiers differ from those ingested"
    for identifier, row in expected.items():
        got = records[identifier]
        assert set(got) == set(row), f"{identifier}: features {sorted(got)} != {sorted(row)}"
        for name, value in row.items():
            assert same_value(got[name], value), f"{identifier}.{name}: {got[name]!r} != {value!r}"


def assert_offline(rows: list[dict[str, Any]]) -> None:
    """Two rows per identifier (C-067); email NULL in the first ingest's rows (C-053)."""
    by_time: dict[tuple[str, float], dict[str, Any]] = {}
    for row in rows:
        by_time[(str(int(float(row["customer_id"]))), float(row["event_time"]))] = row
    assert len(rows) == 2 * N, f"{len(rows)} offline rows, expected {2 * N}"
    for source, when in ((first_rows(), FIRST), (second_rows(), SECOND)):
        for row in source.to_dict("records"):
            got = by_time.get((str(row["customer_id"]), when))
            assert got is not None, f"no offline row for {row['customer_id']} at {when}"
            assert str(got["city"]) == row["city"]
            assert same_value(got["spend"], row["spend"])
            email = got.get("email")
            if when == FIRST:
                assert (
                    email is None
                    or (isinstance(email, float) and math.isnan(email))
                    or (
                        email == ""  # CSV result files carry NULL as an empty field
                    )
                ), f"email of a pre-update row is {email!r}"
            else:
                assert email == row["email"]


# -- one driver per client -------------------------------------------------------------------


class Boto3Driver:
    """The control plane and ingest through boto3 (the project's own ingest helper)."""

    def __init__(self, backend: Backend, name: str) -> None:
        self.backend, self.name = backend, name

    def create(self) -> None:
        request = self.backend.feature_group_request(
            self.name,
            definitions=[
                {"FeatureName": "customer_id", "FeatureType": "Integral"},
                {"FeatureName": "city", "FeatureType": "String"},
                {"FeatureName": "spend", "FeatureType": "Fractional"},
                {"FeatureName": "event_time", "FeatureType": "Fractional"},
            ],
        )
        self.backend.create_and_wait(request)

    def ingest(self, frame: pd.DataFrame) -> None:
        result = ingest(self.backend.runtime, self.name, frame)
        assert result.failed == []

    def add_email(self) -> None:
        self.backend.sagemaker.update_feature_group(
            FeatureGroupName=self.name,
            FeatureAdditions=[{"FeatureName": "email", "FeatureType": "String"}],
        )
        self.backend.wait_for_update(self.name)

    def online(self) -> dict[str, dict[str, str]]:
        found = {}
        for identifier in expected_online():
            record = self.backend.runtime.get_record(
                FeatureGroupName=self.name, RecordIdentifierValueAsString=identifier
            ).get("Record", [])
            found[identifier] = {f["FeatureName"]: f["ValueAsString"] for f in record}
        return found

    def offline(self) -> list[dict[str, Any]]:
        from fsconformance.offline import OfflineVerifier

        store = OfflineStore.of(self.backend.describe(self.name))
        return OfflineVerifier(self.backend).rows(store, f"SELECT * FROM {store.qualified}")


def expected_columns() -> dict[str, str]:
    """The offline table's columns after the update, as Athena's catalogue shows them: the
    features lowercased (C-083) with the Glue types of C-066, the added feature (C-054), and
    the three columns Feature Store adds (C-065)."""
    types = {"int64": "bigint", "float64": "double", "string": "string"}
    found = {name.lower(): types[str(dtype)] for name, dtype in second_rows().dtypes.items()}
    return found | {
        "write_time": "timestamp",
        "api_invocation_time": "timestamp",
        "is_deleted": "boolean",
    }


class PyathenaDriver(Boto3Driver):
    """boto3 for the writes; the offline store read with pyathena's plain and pandas cursors,
    and its table found through Athena's catalogue (as pyathena's SQLAlchemy dialect does)."""

    def offline(self) -> list[dict[str, Any]]:
        from pyathena import connect
        from pyathena.pandas.cursor import PandasCursor

        store = OfflineStore.of(self.backend.describe(self.name))
        sql = f"SELECT * FROM {store.qualified}"
        options = self.options(store)
        with connect(**options) as connection:
            cursor = connection.cursor()
            cursor.execute(sql)
            names = [column[0] for column in cursor.description]
            plain = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
            self.check_catalogue(cursor, store)
        with connect(cursor_class=PandasCursor, **options) as connection:
            frame = connection.cursor().execute(sql).as_pandas()
        assert len(frame) == len(plain), "pandas cursor and plain cursor disagree"
        return plain

    def options(self, store: OfflineStore) -> dict[str, Any]:
        return {
            "s3_staging_dir": f"{self.backend.athena_output}{self.name}/",
            "region_name": self.backend.region,
            "schema_name": store.database,
            "poll_interval": self.backend.budgets.poll_interval,
            **self.backend.client_options(),
        }

    @staticmethod
    def check_catalogue(cursor: Any, store: OfflineStore) -> None:
        """GetTableMetadata and ListTableMetadata see the table the group registered (C-080)."""
        table = cursor.get_table_metadata(store.table, schema_name=store.database)
        columns = {c.name: c.type for c in table.columns}
        assert columns == expected_columns(), f"GetTableMetadata columns: {columns}"
        listed = cursor.list_table_metadata(schema_name=store.database)
        assert store.table.lower() in {t.name.lower() for t in listed}


class WranglerDriver(Boto3Driver):
    """boto3 for the writes; awswrangler's Athena with and without CTAS, and its Parquet
    reader."""

    def offline(self) -> list[dict[str, Any]]:
        import awswrangler as wr

        description = self.backend.describe(self.name)
        store = OfflineStore.of(description)
        frames = [
            wr.athena.read_sql_query(
                f"SELECT * FROM {store.qualified}",
                database=store.database,
                ctas_approach=ctas,
                s3_output=f"{self.backend.athena_output}{self.name}/",
            )
            for ctas in (False, True)
        ]
        plain, through_ctas = frames
        keys = [sorted(zip(f["customer_id"], f["event_time"], strict=True)) for f in frames]
        assert keys[0] == keys[1], "CTAS and plain reads disagree on the rows"
        uri = description["OfflineStoreConfig"]["S3StorageConfig"]["ResolvedOutputS3Uri"]
        files = wr.s3.read_parquet(uri.rstrip("/") + "/", dataset=False)
        assert len(files) == len(plain), "Parquet files and Athena disagree on the row count"
        return [
            {k: (None if v is pd.NA else v) for k, v in row.items()}
            for row in plain.to_dict("records")
        ]


class Sdk2Driver(Boto3Driver):
    """The SageMaker SDK v2 as the public sample uses it."""

    def __init__(self, backend: Backend, name: str) -> None:
        super().__init__(backend, name)
        import boto3
        import sagemaker
        from sagemaker.feature_store.feature_group import FeatureGroup

        credentials = {k: v for k, v in backend.client_options().items() if k.startswith("aws_")}
        boto_session = boto3.Session(region_name=backend.region, **credentials)
        bucket = backend.offline_s3_uri.removeprefix("s3://").split("/", 1)[0]
        self.session = sagemaker.Session(boto_session=boto_session, default_bucket=bucket)
        self.group = FeatureGroup(name=name, sagemaker_session=self.session)

    def create(self) -> None:
        self.group.load_feature_definitions(data_frame=first_rows())
        self.backend.adopt(self.name)
        self.group.create(
            s3_uri=self.backend.offline_s3_uri,
            record_identifier_name="customer_id",
            event_time_feature_name="event_time",
            role_arn=self.backend.role_arn,
            enable_online_store=True,
        )
        self.backend.wait_until_created(self.name)

    def ingest(self, frame: pd.DataFrame) -> None:
        # The sample's call: three workers, a process pool inside the SDK.
        manager = self.group.ingest(data_frame=frame, max_workers=3, wait=True)
        assert manager.failed_rows == []

    def add_email(self) -> None:
        from sagemaker.feature_store.feature_definition import StringFeatureDefinition

        self.group.update(feature_additions=[StringFeatureDefinition("email")])
        self.backend.wait_for_update(self.name)

    def online(self) -> dict[str, dict[str, str]]:
        return {
            identifier: {
                f["FeatureName"]: f["ValueAsString"]
                for f in self.group.get_record(record_identifier_value_as_string=identifier) or []
            }
            for identifier in expected_online()
        }

    def offline(self) -> list[dict[str, Any]]:
        query = self.group.athena_query()
        query.run(
            query_string=f'SELECT * FROM "{query.table_name}"',
            output_location=f"{self.backend.athena_output}{self.name}",
        )
        query.wait()
        frame = query.as_dataframe()
        return [
            {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}
            for row in frame.to_dict("records")
        ]


class Sdk3Driver(Boto3Driver):
    """The SageMaker SDK v3: sagemaker-core's FeatureGroup resource (C-189) and
    ``sagemaker.mlops.feature_store`` (C-190)."""

    def create(self) -> None:
        from sagemaker.core.resources import FeatureGroup
        from sagemaker.mlops.feature_store import (
            OfflineStoreConfig,
            OnlineStoreConfig,
            S3StorageConfig,
        )
        from sagemaker.mlops.feature_store.feature_utils import (
            load_feature_definitions_from_dataframe,
        )

        self.backend.adopt(self.name)
        FeatureGroup.create(
            feature_group_name=self.name,
            record_identifier_feature_name="customer_id",
            event_time_feature_name="event_time",
            feature_definitions=load_feature_definitions_from_dataframe(first_rows()),
            online_store_config=OnlineStoreConfig(enable_online_store=True),
            offline_store_config=OfflineStoreConfig(
                s3_storage_config=S3StorageConfig(s3_uri=self.backend.offline_s3_uri)
            ),
            role_arn=self.backend.role_arn,
            region=self.backend.region,
        )
        self.backend.wait_until_created(self.name)

    def ingest(self, frame: pd.DataFrame) -> None:
        from sagemaker.mlops.feature_store.feature_utils import ingest_dataframe

        manager = ingest_dataframe(self.name, frame, max_workers=3, wait=True)
        assert manager.failed_rows == []

    def add_email(self) -> None:
        from sagemaker.core.resources import FeatureGroup
        from sagemaker.mlops.feature_store import StringFeatureDefinition

        group = FeatureGroup.get(feature_group_name=self.name, region=self.backend.region)
        group.update(feature_additions=[StringFeatureDefinition("email")])
        self.backend.wait_for_update(self.name)

    def online(self) -> dict[str, dict[str, str]]:
        from sagemaker.core.resources import FeatureGroup

        group = FeatureGroup.get(feature_group_name=self.name, region=self.backend.region)
        found = {}
        for identifier in expected_online():
            record = group.get_record(record_identifier_value_as_string=identifier).record or []
            found[identifier] = {f.feature_name: f.value_as_string for f in record}
        listed = group.list_records()  # ListRecords (api branch): every identifier once
        identifiers = {str(i) for i in getattr(listed, "record_identifiers", None) or []}
        assert identifiers == set(expected_online())
        return found


DRIVERS: dict[str, Callable[[Backend, str], Boto3Driver]] = {
    "boto3": Boto3Driver,
    "sdk2": Sdk2Driver,
    "sdk3": Sdk3Driver,
    "pyathena": PyathenaDriver,
    "awswrangler": WranglerDriver,
}


def emulation_lacks(backend: Backend, operation: str) -> str | None:
    """Ask the backend whether it serves a runtime operation: an unknown identifier list
    answers 4xx ResourceNotFound/Validation when it does, a generic error when it does not."""
    from botocore.exceptions import ClientError

    try:
        getattr(backend.runtime, operation)(FeatureGroupName="fsct-probe-missing-group")
    except ClientError as error:
        code = error.response["Error"]["Code"]
        status = error.response["ResponseMetadata"].get("HTTPStatusCode", 0)
        if code in ("ResourceNotFound", "ValidationError", "ValidationException") and status < 500:
            return None
        return f"the backend does not serve {operation} ({code}, HTTP {status}; branch api)"
    except AttributeError:
        return f"botocore has no {operation}"
    return None


@pytest.fixture(
    params=[
        pytest.param(
            name, marks=[pytest.mark.client(name), pytest.mark.requires(packages=packages)]
        )
        for name, packages in CLIENTS.items()
    ]
)
def driver(request: pytest.FixtureRequest, backend: Backend) -> Iterator[Boto3Driver]:
    if request.param == "sdk3":
        missing = emulation_lacks(backend, "list_records")
        if missing:
            pytest.skip(f"unsupported: {missing}")
    os.environ.setdefault("SAGEMAKER_SUPPRESS_V2_WARNING", "1")
    with backend.every_client():
        yield DRIVERS[request.param](backend, backend.unique_name())


@pytest.mark.online_store
@pytest.mark.offline_store
@pytest.mark.schema_evolution
@pytest.mark.requires(features=["online_store", "offline_store", "athena"])
@pytest.mark.clause("C-035", "C-042", "C-045", "C-051", "C-053", "C-055", "C-067", "C-189", "C-190")
def test_the_flow_through_each_client(backend: Backend, driver: Boto3Driver) -> None:
    driver.create()
    driver.ingest(first_rows())
    driver.add_email()
    # The data plane accepts added features after a short lag (C-055): wait for it with the
    # backend's budget, then re-ingest everything through the client under test.
    first = second_rows().iloc[0]
    backend.put_when_accepted(
        driver.name,
        [{"FeatureName": k, "ValueAsString": str(v)} for k, v in first.items()],
        ["email"],
    )
    driver.ingest(second_rows())
    assert_online(driver.online())
    # The probe put and the client's put of the same row are both appended (C-067): one
    # identifier has one row more; compare distinct (identifier, event time) rows.
    rows = backend.poll(
        lambda: _settled(driver.offline()),
        budget="offline",
        what="offline rows of both ingests",
    )
    assert_offline(rows)


def _settled(rows: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
    """The offline rows, once every put has landed, with the probe put's duplicate removed."""
    if len(rows) < 2 * N + 1:
        return None
    seen: set[tuple[str, float]] = set()
    unique = []
    for row in rows:
        key = (str(int(float(row["customer_id"]))), float(row["event_time"]))
        if key not in seen:
            seen.add(key)
            unique.append(row)
    return unique


@pytest.mark.client("pyathena")
@pytest.mark.offline_store
@pytest.mark.requires(
    packages=["pyathena>=3", "sqlalchemy>=2"], features=["offline_store", "athena"]
)
@pytest.mark.clause("C-080", "C-083")
def test_pyathenas_sqlalchemy_dialect_reflects_the_offline_table(backend: Backend) -> None:
    """SQLAlchemy's inspector, over pyathena's dialect, finds the table through Athena's
    catalogue and reflects its columns: the features lowercased (C-083) and the columns
    Feature Store adds (C-065)."""
    import sqlalchemy

    request = backend.feature_group_request()
    store = OfflineStore.of(backend.create_and_wait(request))
    options = {
        "s3_staging_dir": f"{backend.athena_output}{request['FeatureGroupName']}/",
        "region_name": backend.region,
        "schema_name": store.database,
        **backend.client_options(),
    }
    engine = sqlalchemy.create_engine("awsathena+rest://", connect_args=options)
    try:
        inspector = sqlalchemy.inspect(engine)
        tables = {t.lower() for t in inspector.get_table_names(schema=store.database)}
        assert store.table.lower() in tables
        reflected = {c["name"] for c in inspector.get_columns(store.table, schema=store.database)}
    finally:
        engine.dispose()
    features = {d["FeatureName"].lower() for d in request["FeatureDefinitions"]}
    assert reflected == features | {"write_time", "api_invocation_time", "is_deleted"}
