"""The SageMaker SDK v2's feature processor run locally against ``serve --tls``.

``@feature_processor`` with a CSV source, with a source of the user's own
(``PySparkDataSource``), and with a ``FeatureGroupDataSource``, writing to the online store or
the offline store through the Spark connector. The recipe (docs/spark.md): start the
SparkSession with ``fsconformance spark-conf``'s settings first; the processor then uses that
session rather than asking Ivy for hadoop-aws.

The SDK's own integration tests of the processor are six: the three that run the processor
in the calling process have counterparts here; the other three run it as a SageMaker
training job (``@remote``), a SageMaker Pipeline and an EventBridge schedule, services the
emulation does not serve.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from .cell import athena, catalog, client, create_group, source_uri

# A raw listing export, messy as such exports are: prices with "$" and thousands
# separators, mileage with "mi.", placeholders for unknown values.
HEADER = "Id,Model,Year,Status,Mileage,Price,MSRP"
LISTINGS = [
    '0,2022 Acura TLX,2022,New,"12,000 mi.","$39,000","MSRP $41,000"',
    "1,2021 Acura TLX,2021,Used,Not available,$31000,Not specified",
    '2,2020 Acura RDX,2020,Used,"35,500 mi.","$28,750","MSRP $40,100"',
    '3,2022 Acura RDX,2022,New,"9,000 mi.","$45,000",$1000 price drop',
    '4,2021 Acura TLX,2021,Used,"22,100 mi.","$33,200","MSRP $39,900"',
    '5,2020 Acura RDX,2020,Used,"41,000 mi.","$26,100","MSRP $40,100"',
]
INGEST_TIME = 1_700_000_000
CAR_FEATURES = [
    ("id", "String"),
    ("model", "String"),
    ("model_year", "String"),
    ("status", "String"),
    ("mileage", "String"),
    ("price", "String"),
    ("msrp", "String"),
    ("ingest_time", "Fractional"),
]


def csv_body() -> bytes:
    return "\n".join([HEADER, *LISTINGS, ""]).encode()


def expected_cars() -> dict[str, dict[str, str]]:
    """The cleaning below, done in plain Python on the same text (with the csv module)."""
    import csv
    import io

    cars = {}
    for row in csv.DictReader(io.StringIO(csv_body().decode())):
        mileage = re.sub(r",|mi\.", "", row["Mileage"]).replace("Not available", "NA")
        msrp = re.sub(r"^MSRP\s\$|,", "", row["MSRP"]).replace("Not specified", "NA")
        msrp = re.sub(r"\$\d+[a-zA-Z\s]+", "NA", msrp)
        cars[row["Id"]] = {
            "id": row["Id"],
            "model": re.sub(r"^\d{4}\s", "", row["Model"]),
            "model_year": row["Year"],
            "status": row["Status"],
            "mileage": mileage.strip(),
            "price": row["Price"].replace("$", "").replace(",", ""),
            "msrp": msrp,
            "ingest_time": float(INGEST_TIME),
        }
    return cars


def clean(raw: Any) -> Any:
    """The transformation a user writes: rename, strip units and separators, event time."""
    from pyspark.sql.functions import col, lit, regexp_replace, trim

    return (
        raw.select(
            col("Id").alias("id"),
            regexp_replace("Model", r"^\d{4}\s", "").alias("model"),
            col("Year").alias("model_year"),
            col("Status").alias("status"),
            trim(
                regexp_replace(regexp_replace("Mileage", r",|mi\.", ""), "Not available", "NA")
            ).alias("mileage"),
            regexp_replace("Price", r"\$|,", "").alias("price"),
            regexp_replace(
                regexp_replace(regexp_replace("MSRP", r"^MSRP\s\$|,", ""), "Not specified", "NA"),
                r"\$\d+[a-zA-Z\s]+",
                "NA",
            ).alias("msrp"),
        )
    ).withColumn("ingest_time", lit(float(INGEST_TIME)))


def online(name: str, identifiers: list[str]) -> dict[str, dict[str, Any]]:
    found = client("sagemaker-featurestore-runtime").batch_get_record(
        Identifiers=[{"FeatureGroupName": name, "RecordIdentifiersValueAsString": identifiers}]
    )
    return {
        r["RecordIdentifierValueAsString"]: as_values(
            {f["FeatureName"]: f["ValueAsString"] for f in r["Record"]}
        )
        for r in found["Records"]
    }


def as_values(record: dict[str, Any]) -> dict[str, Any]:
    return {k: float(v) if k == "ingest_time" else v for k, v in record.items()}


def car_group(name: str) -> str:
    return create_group(name, CAR_FEATURES, identifier="id", event_time="ingest_time")


@pytest.mark.clause("C-030", "C-041")
def test_csv_source_to_the_online_store(spark: Any, name: str) -> None:
    from sagemaker.feature_store.feature_processor import CSVDataSource, feature_processor

    arn = car_group(name)
    raw = source_uri(f"{name}/cars.csv", csv_body())

    @feature_processor(inputs=[CSVDataSource(raw)], output=arn, target_stores=["OnlineStore"])
    def transform(listings: Any) -> Any:
        return clean(listings)

    transform()
    ids = [str(i) for i in range(len(LISTINGS) + 1)]  # one id more than was written
    assert online(name, ids) == expected_cars()


@pytest.mark.clause("C-030", "C-041")
def test_a_source_of_the_users_own_to_the_online_store(spark: Any, name: str) -> None:
    import attr
    from sagemaker.feature_store.feature_processor import PySparkDataSource, feature_processor

    arn = car_group(name)
    raw = source_uri(f"{name}/cars.csv", csv_body())

    @attr.s
    class ListingsSource(PySparkDataSource):
        s3_uri = attr.ib()
        data_source_name = "ListingsSource"
        data_source_unique_id = "s3_uri"

        def read_data(self, spark: Any, params: Any) -> Any:
            return spark.read.csv(self.s3_uri.replace("s3://", "s3a://"), header=True)

    @feature_processor(inputs=[ListingsSource(raw)], output=arn, target_stores=["OnlineStore"])
    def transform(listings: Any) -> Any:
        return clean(listings)

    transform()
    assert online(name, [str(i) for i in range(len(LISTINGS))]) == expected_cars()


@pytest.mark.clause("C-061", "C-091", "C-092")
def test_csv_source_to_the_offline_store(spark: Any, name: str) -> None:
    from sagemaker.feature_store.feature_processor import CSVDataSource, feature_processor

    arn = car_group(name)
    raw = source_uri(f"{name}/cars.csv", csv_body())

    @feature_processor(inputs=[CSVDataSource(raw)], output=arn, target_stores=["OfflineStore"])
    def transform(listings: Any) -> Any:
        return clean(listings)

    transform()
    assert online(name, [str(i) for i in range(len(LISTINGS))]) == {}
    database, table = catalog(name)
    columns = [name for name, _ in CAR_FEATURES]
    found = athena(f'SELECT {", ".join(columns)} FROM "{table}"', database)
    assert {r[0]: as_values(dict(zip(columns, r, strict=True))) for r in found} == expected_cars()


@pytest.mark.clause("C-093", "C-030")
def test_feature_group_source_aggregated_into_another_group(spark: Any, name: str) -> None:
    """A processor reads a group's offline store (Parquet through S3A) and writes an
    aggregate per model year and status to a second group's online store."""
    from feature_store_pyspark.FeatureStoreManager import FeatureStoreManager
    from sagemaker.feature_store.feature_processor import (
        FeatureGroupDataSource,
        feature_processor,
    )

    cars_arn = car_group(name)
    listings = spark.read.csv(
        source_uri(f"{name}/cars.csv", csv_body()).replace("s3://", "s3a://"), header=True
    )
    FeatureStoreManager().ingest_data(
        input_data_frame=clean(listings), feature_group_arn=cars_arn, target_stores=["OfflineStore"]
    )
    summary = f"{name}-by-year"
    summary_arn = create_group(
        summary,
        [("model_year_status", "String"), ("listings", "Integral"), ("max_price", "Fractional")]
        + [("ingest_time", "Fractional")],
        identifier="model_year_status",
        event_time="ingest_time",
    )

    @feature_processor(
        inputs=[FeatureGroupDataSource(name)], output=summary_arn, target_stores=["OnlineStore"]
    )
    def aggregate(cars: Any) -> Any:
        from pyspark.sql.functions import concat_ws, count, lit
        from pyspark.sql.functions import max as max_

        return (
            cars.groupBy(concat_ws("_", "model_year", "status").alias("model_year_status"))
            .agg(count("id").alias("listings"), max_(cars.price.cast("double")).alias("max_price"))
            .withColumn("ingest_time", lit(float(INGEST_TIME + 1)))
        )

    aggregate()
    expected: dict[str, dict[str, Any]] = {}
    for car in expected_cars().values():
        key = f"{car['model_year']}_{car['status']}"
        entry = expected.setdefault(key, {"listings": 0, "max_price": 0.0})
        entry["listings"] += 1
        entry["max_price"] = max(entry["max_price"], float(car["price"]))
    found = client("sagemaker-featurestore-runtime").batch_get_record(
        Identifiers=[
            {"FeatureGroupName": summary, "RecordIdentifiersValueAsString": list(expected)}
        ]
    )["Records"]
    got = {
        r["RecordIdentifierValueAsString"]: {
            f["FeatureName"]: f["ValueAsString"] for f in r["Record"]
        }
        for r in found
    }
    assert {
        k: {"listings": int(v["listings"]), "max_price": float(v["max_price"])}
        for k, v in got.items()
    } == expected
