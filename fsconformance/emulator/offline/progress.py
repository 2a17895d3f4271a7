"""The offline store's bookkeeping for one account and region."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..state import FeatureStoreState


@dataclass
class OfflineProgress:
    """Which feature names each group's table in the catalog was last synced with, and the
    current metadata of a table format that keeps its own."""

    # (group ARN, creation time) -> the feature names the Glue table was last synced with
    glue_synced: dict[tuple[str, float], tuple[str, ...]] = field(default_factory=dict)
    # (group ARN, creation time) -> the current metadata file of a table whose format keeps
    # its own (C-179)
    metadata_location: dict[tuple[str, float], str] = field(default_factory=dict)


def progress(state: FeatureStoreState) -> OfflineProgress:
    return state.store("offline", OfflineProgress)
