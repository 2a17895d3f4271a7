"""Emulated PutRecord/GetRecord throughput against the botocore floor, in one run.

The floor is a client whose ``before-send`` handler answers every call with a canned 200,
so it costs what botocore itself costs (serialise, sign, parse). The design target is an
emulated PutRecord within 2x that floor. Run: ``python benchmarks/bench_runtime.py``.
"""

from __future__ import annotations

import argparse
import io
import statistics
import time
from collections.abc import Callable

import boto3
from botocore.awsrequest import AWSResponse
from moto.core.models import botocore_stubber

from fsconformance import Delays, mock_featurestore

FEATURES = 10
GROUP = "bench-group"


def _record(i: int) -> list[dict[str, str]]:
    record = [
        {"FeatureName": "customer_id", "ValueAsString": f"C{i}"},
        {"FeatureName": "event_time", "ValueAsString": "1700000000.0"},
    ]
    record += [{"FeatureName": f"f{n}", "ValueAsString": str(i * n)} for n in range(FEATURES - 2)]
    return record


def _definitions() -> list[dict[str, str]]:
    return [
        {"FeatureName": "customer_id", "FeatureType": "String"},
        {"FeatureName": "event_time", "FeatureType": "Fractional"},
    ] + [{"FeatureName": f"f{n}", "FeatureType": "Integral"} for n in range(FEATURES - 2)]


def _rate(call: Callable[[int], object], calls: int) -> float:
    start = time.perf_counter()
    for i in range(calls):
        call(i)
    return calls / (time.perf_counter() - start)


class _Body(io.BytesIO):
    def stream(self, **_):  # type: ignore[no-untyped-def]
        yield self.read()


def floor_client():  # type: ignore[no-untyped-def]
    client = boto3.client(
        "sagemaker-featurestore-runtime",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )

    def canned(request, **_):  # type: ignore[no-untyped-def]
        return AWSResponse(request.url, 200, {"Content-Type": "application/json"}, _Body(b"{}"))

    # botocore emits before-send to every handler: drop moto's, so the floor pays for botocore
    # alone even while the mock is active.
    client.meta.events.unregister("before-send", botocore_stubber)
    client.meta.events.register_first("before-send.sagemaker-featurestore-runtime", canned)
    return client


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000, help="calls per round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    floor = floor_client()
    results: dict[str, list[float]] = {
        "floor put": [],
        "emulated put": [],
        "floor get": [],
        "emulated get": [],
    }
    with mock_featurestore(delays=Delays(create=0, update=0, delete=0, data_plane=0)):
        sagemaker = boto3.client("sagemaker", region_name="us-east-1")
        runtime = boto3.client("sagemaker-featurestore-runtime", region_name="us-east-1")
        sagemaker.create_feature_group(
            FeatureGroupName=GROUP,
            RecordIdentifierFeatureName="customer_id",
            EventTimeFeatureName="event_time",
            FeatureDefinitions=_definitions(),
            OnlineStoreConfig={"EnableOnlineStore": True},
        )
        # Rounds interleave floor and emulation, so machine noise hits both alike.
        for _ in range(args.rounds):
            results["floor put"].append(
                _rate(
                    lambda i: floor.put_record(FeatureGroupName=GROUP, Record=_record(i)),
                    args.calls,
                )
            )
            results["emulated put"].append(
                _rate(
                    lambda i: runtime.put_record(FeatureGroupName=GROUP, Record=_record(i)),
                    args.calls,
                )
            )
            results["floor get"].append(
                _rate(
                    lambda i: floor.get_record(
                        FeatureGroupName=GROUP, RecordIdentifierValueAsString=f"C{i}"
                    ),
                    args.calls,
                )
            )
            results["emulated get"].append(
                _rate(
                    lambda i: runtime.get_record(
                        FeatureGroupName=GROUP, RecordIdentifierValueAsString=f"C{i}"
                    ),
                    args.calls,
                )
            )
    medians = {name: statistics.median(rates) for name, rates in results.items()}
    for name, rate in medians.items():
        print(f"{name:>13}: {rate:8.0f} calls/s  ({1000 / rate:.3f} ms/call)")
    for op in ("put", "get"):
        ratio = medians[f"floor {op}"] / medians[f"emulated {op}"]
        print(f"emulated {op} costs {ratio:.2f}x the botocore floor (target for put: <= 2x)")


if __name__ == "__main__":
    main()
