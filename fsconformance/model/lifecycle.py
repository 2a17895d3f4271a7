"""What a feature group's lifecycle is made of, as plain data: the emulated delays of its
asynchronous steps (C-016, C-051, C-060, C-130), an update in progress, each feature's
metadata times, and the partition of its Region."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Delays:
    """How long the emulated asynchronous steps take, in seconds (C-016, C-051, C-130)."""

    create: float = 0.1
    update: float = 0.1
    delete: float = 0.1
    # After an update succeeds, the data plane accepts the added features only this much later
    # (C-055: up to five minutes on AWS).
    data_plane: float = 0.1
    # A put or delete reaches the offline store's files this much later (C-060: up to 15 min).
    offline: float = 0.1
    # An Athena query waits this long in QUEUED before it runs (C-184); 0 runs it at once.
    athena: float = 0.1


@dataclass
class FeatureMetadata:
    created: float
    modified: float
    description: str | None = None
    parameters: dict[str, str] = field(default_factory=dict)


@dataclass
class PendingUpdate:
    done_at: float
    additions: list[dict[str, Any]] | None = None
    ttl: dict[str, Any] | None = None
    throughput: dict[str, Any] | None = None
    storage_type: str | None = None


def partition_of(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"
