"""The offline store's bookkeeping for one account and region."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..state import FeatureStoreState


@dataclass
class OfflineProgress:
    """How far each group's offline rows have been written, and its Glue table synced."""

    # (group ARN, creation time) -> number of rows of GroupData.offline already in S3
    flushed: dict[tuple[str, float], int] = field(default_factory=dict)
    # (group ARN, creation time) -> the feature names the Glue table was last synced with
    glue_synced: dict[tuple[str, float], tuple[str, ...]] = field(default_factory=dict)
    # (group ARN, creation time) -> the current metadata file of its Iceberg table (C-179)
    iceberg_metadata: dict[tuple[str, float], str] = field(default_factory=dict)


def progress(state: FeatureStoreState) -> OfflineProgress:
    return state.room("offline", OfflineProgress)
