"""Feature Store's semantic rules for feature groups, beyond the service model's constraints."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .errors import limit_exceeded, validation

RESERVED_FEATURE_NAMES = frozenset({"is_deleted", "write_time", "api_invocation_time"})  # C-013
EVENT_TIME_TYPES = frozenset({"String", "Fractional"})  # C-012
MAX_FEATURE_DEFINITIONS = 2500  # C-140
MAX_FEATURE_GROUPS_PER_ACCOUNT = 100  # C-140, a soft quota
# C-019: at most this many groups Creating at once in an account (a quota; docs/evidence.md).
MAX_CONCURRENT_CREATIONS = 4
MAX_TAGS = 50
# C-174, C-140: provisioned capacity units per group (the model allows up to 10,000,000).
MAX_GROUP_CAPACITY_UNITS = 40_000
MAX_REGION_CAPACITY_UNITS = 80_000  # C-140: each of RCU and WCU, over one Region's groups
CAPACITY_MEMBERS = ("ProvisionedReadCapacityUnits", "ProvisionedWriteCapacityUnits")
# C-174: Provisioned only offline-only (no online storage type) or on a Standard online store.
PROVISIONED_STORAGE = frozenset({None, "Standard"})
# C-173: the one storage migration UpdateFeatureGroup makes, and it is one way.
STORAGE_MIGRATIONS = frozenset({("Standard", "Standard_V2")})
ON_DEMAND_SWITCH_INTERVAL = 86_400.0  # C-175: to OnDemand at most once in 24 hours


def check_feature_names(definitions: list[dict[str, Any]], existing: Iterable[str] = ()) -> None:
    """No reserved name (C-013) and no name twice, ignoring case as Glue and Athena do (C-083)."""
    seen = {name.lower() for name in existing}
    for definition in definitions:
        name = definition["FeatureName"]
        if name.lower() in RESERVED_FEATURE_NAMES:
            raise validation(
                f"The feature name '{name}' is reserved. Feature names cannot be any of: "
                + ", ".join(sorted(RESERVED_FEATURE_NAMES))
            )
        if name.lower() in seen:
            raise validation(f"The feature name '{name}' is defined more than once.")
        seen.add(name.lower())


def check_collections(definitions: list[dict[str, Any]], storage_type: str | None) -> None:
    """Collection types need an InMemory online store; vectors are Fractional (C-120)."""
    vectors = 0
    for definition in definitions:
        collection = definition.get("CollectionType")
        if collection is None:
            if definition.get("CollectionConfig"):
                raise validation(
                    f"Feature '{definition['FeatureName']}' has a CollectionConfig but no "
                    "CollectionType."
                )
            continue
        if storage_type != "InMemory":
            raise validation(
                f"Feature '{definition['FeatureName']}' has CollectionType {collection}; collection "
                "types are supported only for an online store with StorageType InMemory."
            )
        if collection == "Vector":
            vectors += 1
            if definition["FeatureType"] != "Fractional":
                raise validation(
                    f"Vector feature '{definition['FeatureName']}' must have FeatureType Fractional."
                )
            if not (definition.get("CollectionConfig") or {}).get("VectorConfig"):
                raise validation(
                    f"Vector feature '{definition['FeatureName']}' needs "
                    "CollectionConfig.VectorConfig.Dimension."
                )
    if vectors > 1:
        raise validation("A feature group can have at most one Vector feature.")


def check_key_features(request: dict[str, Any]) -> None:
    """The record identifier and event time are defined scalar features (C-012)."""
    by_name = {d["FeatureName"]: d for d in request["FeatureDefinitions"]}
    for member in ("RecordIdentifierFeatureName", "EventTimeFeatureName"):
        name = request[member]
        if name not in by_name:
            raise validation(
                f"{member} '{name}' must be the name of one of the feature definitions."
            )
        if by_name[name].get("CollectionType"):
            raise validation(f"{member} '{name}' cannot have a CollectionType.")
    event_time = by_name[request["EventTimeFeatureName"]]
    if event_time["FeatureType"] not in EVENT_TIME_TYPES:
        raise validation(
            f"EventTimeFeatureName '{event_time['FeatureName']}' has FeatureType "
            f"{event_time['FeatureType']}; an event time must be String or Fractional."
        )


def check_stores(request: dict[str, Any]) -> None:
    """At least one store (C-014), and the offline store's own rules (C-015, C-120)."""
    online = request.get("OnlineStoreConfig") or {}
    offline = request.get("OfflineStoreConfig")
    online_enabled = bool(online.get("EnableOnlineStore"))
    if not online_enabled and offline is None:
        raise validation(
            "You must enable an online store (OnlineStoreConfig.EnableOnlineStore) or configure "
            "an offline store (OfflineStoreConfig), or both."
        )
    if not online_enabled and (online.get("TtlDuration") or online.get("StorageType")):
        raise validation(
            "OnlineStoreConfig settings need OnlineStoreConfig.EnableOnlineStore=true."
        )
    if offline is None:
        return
    if not request.get("RoleArn"):
        raise validation("RoleArn is required when an OfflineStoreConfig is given.")
    if online_enabled and online.get("StorageType") == "InMemory":
        raise validation("An InMemory online store cannot be combined with an offline store.")
    if offline.get("TableFormat") == "Iceberg":
        if offline.get("DisableGlueTableCreation"):
            raise validation("The Iceberg table format needs DisableGlueTableCreation=false.")
        by_name = {d["FeatureName"]: d for d in request["FeatureDefinitions"]}
        if by_name[request["EventTimeFeatureName"]]["FeatureType"] != "String":
            raise validation("The Iceberg table format needs an event time of FeatureType String.")


def check_ttl_update(ttl: dict[str, Any]) -> None:
    if ("Unit" in ttl) != ("Value" in ttl):
        raise validation("TtlDuration needs both Unit and Value, or neither to remove the TTL.")


def check_update_kinds(request: dict[str, Any]) -> None:
    """UpdateFeatureGroup changes one kind of setting per call (C-050)."""
    kinds = [
        k for k in ("FeatureAdditions", "OnlineStoreConfig", "ThroughputConfig") if k in request
    ]
    if not kinds:
        raise validation(
            "UpdateFeatureGroup needs one of FeatureAdditions, OnlineStoreConfig or ThroughputConfig."
        )
    if len(kinds) > 1:
        raise validation(
            "UpdateFeatureGroup takes one of FeatureAdditions, OnlineStoreConfig or "
            f"ThroughputConfig per call; got {', '.join(kinds)}."
        )


def check_total_features(total: int) -> None:
    """A group holds at most 2,500 features, additions included (C-052, C-140)."""
    if total > MAX_FEATURE_DEFINITIONS:
        raise limit_exceeded(
            f"A feature group can have at most {MAX_FEATURE_DEFINITIONS} features; "
            f"this update would make {total}."
        )


def check_throughput(config: dict[str, Any], storage_type: str | None) -> None:
    """Where Provisioned is allowed and how much it may provision (C-174).

    ``storage_type`` is the online store's, or None for a group without one."""
    if config.get("ThroughputMode") == "Provisioned" and storage_type not in PROVISIONED_STORAGE:
        raise validation(
            f"ThroughputMode Provisioned is supported only for offline-only feature groups or an "
            f"online store of StorageType Standard, not {storage_type}."
        )
    for member in CAPACITY_MEMBERS:
        units = config.get(member)
        if units is not None and units > MAX_GROUP_CAPACITY_UNITS:
            raise validation(
                f"{member} {units} is above the quota of {MAX_GROUP_CAPACITY_UNITS} per "
                "feature group."
            )


def provisioned_units(config: dict[str, Any]) -> dict[str, int]:
    """The capacity a throughput configuration holds against the quotas: none on demand."""
    if config.get("ThroughputMode") != "Provisioned":
        return {member: 0 for member in CAPACITY_MEMBERS}
    return {member: int(config.get(member) or 0) for member in CAPACITY_MEMBERS}


def check_region_capacity(config: dict[str, Any], others: list[dict[str, Any]]) -> None:
    """The Region's quota of provisioned capacity, over every other group's (C-140, C-174)."""
    wanted = provisioned_units(config)
    for member in CAPACITY_MEMBERS:
        if not wanted[member]:
            continue
        held = sum(provisioned_units(other)[member] for other in others)
        if held + wanted[member] > MAX_REGION_CAPACITY_UNITS:
            raise limit_exceeded(
                f"{member} {wanted[member]} would bring the Region's provisioned capacity to "
                f"{held + wanted[member]}, above its quota of {MAX_REGION_CAPACITY_UNITS}."
            )


def check_throughput_change(
    current: dict[str, Any],
    merged: dict[str, Any],
    on_demand_switches: list[float],
    decreases: list[float],
    now: float,
) -> tuple[bool, bool]:
    """The rate rules of C-175 on the emulated clock: a switch to OnDemand once in 24 hours;
    decreases 4 in the first hour of a UTC day, then 1 an hour. Returns whether the change is
    a switch to OnDemand and whether it is a decrease."""
    to_on_demand = (
        current.get("ThroughputMode") == "Provisioned"
        and merged.get("ThroughputMode") == "OnDemand"
    )
    if to_on_demand and any(now - t < ON_DEMAND_SWITCH_INTERVAL for t in on_demand_switches):
        raise validation(
            "A feature group can be switched to ThroughputMode OnDemand at most once in 24 hours."
        )
    decrease = (
        current.get("ThroughputMode") == "Provisioned"
        and merged.get("ThroughputMode") == "Provisioned"
        and any(merged.get(m, 0) < current.get(m, 0) for m in CAPACITY_MEMBERS)
    )
    if decrease:
        hour = now - now % 3600
        first_hour = hour == now - now % 86400
        allowed = 4 if first_hour else 1
        if sum(1 for t in decreases if hour <= t <= now) >= allowed:
            raise validation(
                "Provisioned throughput can be decreased at most 4 times in the first hour of a "
                "UTC day and once an hour after that."
            )
    return to_on_demand, decrease


def check_storage_migration(current: str | None, target: str) -> None:
    """UpdateFeatureGroup migrates Standard to Standard_V2 and nothing else (C-173)."""
    if (current, target) not in STORAGE_MIGRATIONS:
        raise validation(
            f"The online store cannot change from StorageType {current} to {target}; the only "
            "migration is Standard to Standard_V2, and it cannot be reversed."
        )


def check_concurrent_creations(creating: int) -> None:
    """C-019: the account-level quota on creation workflows running at once, refused in the
    words of the error a user met on AWS (docs/evidence.md, E-09)."""
    if creating >= MAX_CONCURRENT_CREATIONS:
        raise limit_exceeded(
            "The account-level service limit 'Maximum number of feature group creation workflows "
            f"executing in parallel' is {MAX_CONCURRENT_CREATIONS} FeatureGroups, with current "
            f"utilization of {creating} FeatureGroups and a request delta of 1 FeatureGroups. "
            "Please use AWS Service Quotas to request an increase for this quota. If AWS "
            "Service Quotas is not available, contact AWS support to request an increase for "
            "this quota."
        )
