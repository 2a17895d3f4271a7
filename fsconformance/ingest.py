"""Ingesting rows into a feature group with PutRecord, reporting every row that failed.

Rows become records the way the SageMaker SDK sends them: every value as a string, and a
missing value (None, NaN) left out of the record rather than sent (C-021, C-034).
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from botocore.client import BaseClient
from botocore.exceptions import ClientError, ParamValidationError

# Errors worth another try: throttling and the service's own faults. A validation error is
# final: retrying it would only hide a bad row.
TRANSIENT_CODES = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "ServiceUnavailable",
        "InternalFailure",
        "InternalServerError",
        "RequestTimeout",
    }
)


@dataclass(frozen=True)
class FailedRow:
    index: int
    identifier: str | None
    code: str
    message: str


@dataclass
class IngestResult:
    attempted: int = 0
    succeeded: int = 0
    failed: list[FailedRow] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed and self.succeeded == self.attempted


def to_record(row: Mapping[str, Any]) -> list[dict[str, str]]:
    """A PutRecord ``Record`` from a row: values as strings, missing values left out."""
    record = []
    for name, value in row.items():
        if value is None or (isinstance(value, float) and math.isnan(value)):
            continue
        if hasattr(value, "item"):  # numpy scalars: str() of the Python value
            value = value.item()
        record.append({"FeatureName": str(name), "ValueAsString": str(value)})
    return record


def _rows(data: Any) -> list[Mapping[str, Any]]:
    if hasattr(data, "to_dict"):  # a pandas DataFrame
        return data.to_dict(orient="records")
    return list(data)


def ingest(
    runtime: BaseClient,
    feature_group_name: str,
    data: Any,
    *,
    record_identifier: str | None = None,
    max_workers: int = 4,
    target_stores: list[str] | None = None,
    attempts: int = 4,
    backoff: float = 0.05,
    max_backoff: float = 2.0,
) -> IngestResult:
    """Put every row of ``data`` (a DataFrame or an iterable of mappings) with a few threads.

    Transient errors are retried up to ``attempts`` times with exponential backoff and
    jitter; every row that still fails is reported with its index, identifier and error.
    """
    rows = _rows(data)
    result = IngestResult(attempted=len(rows))
    extra = {"TargetStores": target_stores} if target_stores else {}

    def put(index: int, row: Mapping[str, Any]) -> FailedRow | None:
        identifier = (
            str(row[record_identifier])
            if record_identifier is not None and record_identifier in row
            else None
        )
        delay = backoff
        attempt = 1
        while True:
            try:
                runtime.put_record(
                    FeatureGroupName=feature_group_name, Record=to_record(row), **extra
                )
                return None
            except ParamValidationError as error:
                return FailedRow(index, identifier, "ParamValidationError", str(error))
            except ClientError as error:
                code = error.response["Error"].get("Code", "Unknown")
                status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
                if (code not in TRANSIENT_CODES and status < 500) or attempt >= attempts:
                    message = error.response["Error"].get("Message", str(error))
                    return FailedRow(index, identifier, code, message)
            time.sleep(delay * (0.5 + random.random()))
            delay = min(delay * 2, max_backoff)
            attempt += 1

    with ThreadPoolExecutor(max_workers=max(1, max_workers)) as pool:
        outcomes = list(pool.map(put, range(len(rows)), rows))
    result.failed = [outcome for outcome in outcomes if outcome is not None]
    result.succeeded = len(rows) - len(result.failed)
    return result
