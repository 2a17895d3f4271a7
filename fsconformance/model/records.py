"""The data plane: PutRecord, GetRecord, BatchGetRecord, DeleteRecord, BatchWriteRecord,
ListRecords and UpdateRecord semantics.

The online store keeps one version per record identifier, the latest by event time (C-035,
C-045); the offline store only appends (C-067). Like the control plane, every operation takes
the request as the API spells it and the current time in epoch seconds.
"""

from __future__ import annotations

import copy
import heapq
import itertools
import sys
from dataclasses import dataclass, field
from typing import Any

from .control_plane import ControlPlane, FeatureGroup
from .errors import ServiceError, conflict, missing_group, resource_not_found, runtime_error
from .expiry import Expiry
from .pagination import decode_token, encode_token
from .values import (
    MAX_IDENTIFIER_BYTES,
    MAX_RECORD_BYTES,
    check_collection,
    check_value,
    expires_at,
    feature_value,
    format_expires_at,
    parse_event_time,
    ttl_seconds,
)

MAX_BATCH_RECORDS = 100  # C-044
MAX_BATCH_GROUPS = 100  # C-044: the current developer guide (an older one said 10)
MAX_BATCH_WRITE_ENTRIES = 25  # C-161: the model's maximum, enforced only by the service
DEFAULT_LIST_RECORDS = 100  # C-166: no documented default; the model's maximum
MAX_UPDATE_FEATURES = 100  # C-168: "up to 100 features per call" (the model has no maximum)
# C-169: the online storage types that accept UpdateRecord's partial updates.
PARTIAL_UPDATE_STORAGE = frozenset({"Standard_V2", "InMemory"})


_NAMES: dict[tuple[str, ...], tuple[str, ...]] = {}
_MAX_NAME_TUPLES = 10_000  # distinct feature-name orders kept shared; more are stored as given


def _shared_names(names: tuple[str, ...]) -> tuple[str, ...]:
    """One tuple of interned feature names for every record with the same names, in order."""
    found = _NAMES.get(names)
    if found is None:
        found = tuple(sys.intern(name) for name in names)
        if len(_NAMES) < _MAX_NAME_TUPLES:
            _NAMES[found] = found
    return found


class OnlineRecord:
    """The online store's version of one record, held compactly: the feature names are a
    tuple shared by every record of the same names, the values a tuple of their own."""

    __slots__ = ("_names", "_values", "event_time", "expires_at", "deleted", "ttl")

    def __init__(
        self,
        values: dict[str, Any],
        event_time: float,
        expires_at: float | None,
        deleted: bool = False,
        ttl: float | None = None,
    ) -> None:
        self.values = values
        self.event_time = event_time
        self.expires_at = expires_at
        self.deleted = deleted
        # The TTL in seconds that set ``expires_at``; UpdateRecord keeps it (C-170).
        self.ttl = ttl

    @property
    def values(self) -> dict[str, Any]:
        """Feature name -> str, or list[str] for collections; in put order (a new dict)."""
        return dict(zip(self._names, self._values, strict=True))

    @values.setter
    def values(self, values: dict[str, Any]) -> None:
        self._names = _shared_names(tuple(values))
        self._values = tuple(values.values())

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, OnlineRecord):
            return NotImplemented
        return (self.values, self.event_time, self.expires_at, self.deleted, self.ttl) == (
            other.values,
            other.event_time,
            other.expires_at,
            other.deleted,
            other.ttl,
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"OnlineRecord(values={self.values!r}, event_time={self.event_time!r}, "
            f"expires_at={self.expires_at!r}, deleted={self.deleted!r}, ttl={self.ttl!r})"
        )


@dataclass
class OfflineRow:
    """One row bound for the offline store (C-065): features, event time and bookkeeping."""

    values: dict[str, Any]
    event_time: float
    api_invocation_time: float
    is_deleted: bool


@dataclass
class GroupData:
    created: float  # tells a group from an earlier one of the same name
    online: dict[str, OnlineRecord] = field(default_factory=dict)
    offline: list[OfflineRow] = field(default_factory=list)


class DataPlane(Expiry):
    """Online and offline records of the feature groups of one account and region."""

    def __init__(self, control_plane: ControlPlane) -> None:
        self.control_plane = control_plane
        self._data: dict[str, GroupData] = {}
        # C-180: (expires at, tie-break, group ARN, group creation, identifier), earliest first;
        # an entry whose record has since changed its expiry is stale and skipped.
        self._expiries: list[tuple[float, int, str, float, str]] = []
        self._order = itertools.count()
        # Group ARN -> ((created, number of features, lag), its features once all are usable).
        self._settled_features: dict[str, tuple[tuple[float, int, float], dict[str, Any]]] = {}
        self._deletions_seen = 0

    # -- TTL expiry (C-111, C-180) --------------------------------------------------------

    def _schedule(self, group: FeatureGroup, identifier: str, record: OnlineRecord) -> None:
        if record.expires_at is not None:
            entry = (record.expires_at, next(self._order), group.arn, group.created, identifier)
            heapq.heappush(self._expiries, entry)

    def _expiry_marker(
        self, arn: str, identifier: str, record: OnlineRecord, now: float
    ) -> OfflineRow | None:
        """The offline row of an expired record (C-180, U-17, the decided expectation): the
        DeleteRecord marker's shape (C-102), identifier, ``is_deleted``, NULL features, with
        ``ExpiresAt`` as its event time and the moment of expiry as ``api_invocation_time``.
        None without an offline store, and for a soft-deleted record (its marker is written)."""
        try:
            group = self.control_plane.find(arn)
        except ServiceError:
            return None
        if group.offline is None or record.deleted or record.expires_at is None:
            return None
        kind = next(
            d["FeatureType"]
            for d in group.definitions
            if d["FeatureName"] == group.event_time_feature
        )
        expires_at = record.expires_at
        stamp = repr(float(expires_at)) if kind == "Fractional" else format_expires_at(expires_at)
        values = {group.record_identifier: identifier, group.event_time_feature: stamp}
        return OfflineRow(values, expires_at, now, is_deleted=True)

    # -- lookups ------------------------------------------------------------------------

    def _group(self, name_or_arn: str, now: float) -> FeatureGroup:
        """The group, if the data plane can see it: created and not being deleted (C-038)."""
        self.control_plane.advance(now)
        try:
            group = self.control_plane.find(name_or_arn)
        except ServiceError:
            raise missing_group(name_or_arn) from None
        if group.status(now) != "Created":
            raise missing_group(name_or_arn)
        return group

    def data_for(self, group: FeatureGroup) -> GroupData:
        data = self._data.get(group.arn)
        if data is None or data.created != group.created:
            data = self._data[group.arn] = GroupData(group.created)
        return data

    def _usable_features(self, group: FeatureGroup, now: float) -> dict[str, dict[str, Any]]:
        """Features the data plane accepts at ``now``: additions only after the lag (C-055).
        Once every feature is usable the answer holds until features are added (definitions
        only grow), so it is kept per group: every put asks."""
        lag = self.control_plane.delays.data_plane
        key = (group.created, len(group.definitions), lag)
        settled = self._settled_features.get(group.arn)
        if settled is not None and settled[0] == key:
            return settled[1]
        usable = {}
        for definition in group.definitions:
            ready = group.feature_ready_at.get(definition["FeatureName"], group.created)
            if ready == group.created or ready + lag <= now:
                usable[definition["FeatureName"]] = definition
        if len(usable) == len(group.definitions):
            self._settled_features[group.arn] = (key, usable)
        return usable

    def _stores(self, group: FeatureGroup, requested: list[str] | None) -> tuple[bool, bool]:
        has_online, has_offline = group.online_enabled, group.offline is not None
        if requested is None:
            return has_online, has_offline
        if len(set(requested)) != len(requested):
            raise runtime_error("TargetStores must not name a store twice.")
        if "OnlineStore" in requested and not has_online:
            raise runtime_error(f"FeatureGroup {group.name} has no online store.")
        if "OfflineStore" in requested and not has_offline:
            raise runtime_error(f"FeatureGroup {group.name} has no offline store.")
        return "OnlineStore" in requested, "OfflineStore" in requested

    # -- PutRecord ----------------------------------------------------------------------

    def put_record(self, request: dict[str, Any], now: float) -> dict[str, Any]:
        group = self._group(request["FeatureGroupName"], now)
        features = self._usable_features(group, now)
        values = self._record_values(group, features, request["Record"])
        event_time = parse_event_time(
            values[group.event_time_feature], features[group.event_time_feature]["FeatureType"]
        )
        to_online, to_offline = self._stores(group, request.get("TargetStores"))
        if "TtlDuration" in request and not group.online_enabled:
            raise runtime_error(f"FeatureGroup {group.name} has no online store for a TtlDuration.")
        data = self.data_for(group)
        if to_online:
            identifier = values[group.record_identifier]
            current = self._visible(data, identifier, now, include_deleted=True)
            # C-035: an older event time is historic and leaves the online record alone; an
            # equal or newer one replaces the whole record (C-031).
            if current is None or event_time >= current.event_time:
                ttl = ttl_seconds(request.get("TtlDuration")) or ttl_seconds(
                    (group.online or {}).get("TtlDuration")
                )
                stored = OnlineRecord(values, event_time, expires_at(event_time, ttl), ttl=ttl)
                data.online[identifier] = stored
                self._schedule(group, identifier, stored)
        if to_offline:
            data.offline.append(OfflineRow(values, event_time, now, is_deleted=False))
        return {}

    def _record_values(
        self,
        group: FeatureGroup,
        features: dict[str, dict[str, Any]],
        record: list[dict[str, Any]],
        partial: bool = False,
    ) -> dict[str, Any]:
        """The values of ``record`` checked against the group's features; a ``partial`` one
        (UpdateRecord's ``Features``) need not hold the identifier or the event time."""
        values: dict[str, Any] = {}
        size = 0
        for entry in record:
            name = entry["FeatureName"]
            feature = features.get(name)
            if feature is None:
                raise runtime_error(
                    f"The feature '{name}' is not defined in FeatureGroup {group.name}."
                )
            if name in values:
                raise runtime_error(f"The feature '{name}' appears more than once in the record.")
            if feature.get("CollectionType"):
                value = entry.get("ValueAsStringList")
                if value is None or "ValueAsString" in entry:
                    raise runtime_error(
                        f"Collection feature '{name}' takes ValueAsStringList, not ValueAsString."
                    )
                value = check_collection(feature, value)
                size += sum(len(item.encode()) for item in value)
            else:
                value = entry.get("ValueAsString")
                if value is None or "ValueAsStringList" in entry:
                    raise runtime_error(f"Scalar feature '{name}' takes ValueAsString.")
                check_value(feature, value)
                size += len(value) if value.isascii() else len(value.encode())
            values[name] = value
        for key in (group.record_identifier, group.event_time_feature):
            if key not in values and not partial:  # C-032
                raise runtime_error(
                    f"The record has no value for '{key}'; every record needs the record "
                    "identifier and the event time."
                )
        identifier = values.get(group.record_identifier, "")
        if group.record_identifier in values and not identifier:
            raise runtime_error("The record identifier value must not be empty.")
        if len(identifier.encode()) > MAX_IDENTIFIER_BYTES:
            raise runtime_error("The record identifier value is larger than 2 KB.")
        if size > MAX_RECORD_BYTES:
            raise runtime_error("The record is larger than 350 KB.")
        return values

    # -- reads --------------------------------------------------------------------------

    def _visible(
        self, data: GroupData, identifier: str, now: float, include_deleted: bool = False
    ) -> OnlineRecord | None:
        current = data.online.get(identifier)
        if current is None:
            return None
        if current.expires_at is not None and now >= current.expires_at:
            # C-111: an expired record is hard-deleted and invisible at once; C-180: through
            # expire_due, which also adds it to the offline store.
            self.expire_due(now)
            data.online.pop(identifier, None)
            return None
        if current.deleted and not include_deleted:
            return None
        return current

    def _projected(
        self,
        group: FeatureGroup,
        record: OnlineRecord,
        feature_names: list[str] | None,
        expiration: str | None,
        now: float,
    ) -> dict[str, Any]:
        if feature_names is not None:
            usable = self._usable_features(group, now)
            unknown = [n for n in feature_names if n not in usable]
            if unknown:
                raise runtime_error(
                    f"FeatureNames {unknown} are not defined in FeatureGroup {group.name}."
                )
            wanted = set(feature_names)
            values = {k: v for k, v in record.values.items() if k in wanted}
        else:
            values = record.values
        result: dict[str, Any] = {"Record": [feature_value(k, v) for k, v in values.items()]}
        if expiration == "Enabled" and record.expires_at is not None:
            result["ExpiresAt"] = format_expires_at(record.expires_at)
        return result

    def get_record(self, request: dict[str, Any], now: float) -> dict[str, Any]:
        self.control_plane.advance(now)
        try:
            group = self.control_plane.find(request["FeatureGroupName"])
        except ServiceError:
            # C-040 (U-4): GetRecord declares ResourceNotFound for a missing group.
            raise ServiceError(
                "ResourceNotFound",
                f"Resource Not Found: Amazon SageMaker can't find a FeatureGroup with name "
                f"{request['FeatureGroupName']}",
                404,
            ) from None
        if group.status(now) != "Created":
            raise missing_group(request["FeatureGroupName"])
        if not group.online_enabled:
            raise runtime_error(f"FeatureGroup {group.name} has no online store.")
        record = self._visible(self.data_for(group), request["RecordIdentifierValueAsString"], now)
        if record is None:
            return {}  # C-040: 200 with no Record
        result = self._projected(
            group, record, request.get("FeatureNames"), request.get("ExpirationTimeResponse"), now
        )
        return result if result["Record"] else {}

    def batch_get_record(self, request: dict[str, Any], now: float) -> dict[str, Any]:
        identifiers = request["Identifiers"]
        total = sum(len(i["RecordIdentifiersValueAsString"]) for i in identifiers)
        if total > MAX_BATCH_RECORDS:
            raise runtime_error(
                f"BatchGetRecord takes at most {MAX_BATCH_RECORDS} record identifiers; got {total}."
            )
        if len({i["FeatureGroupName"] for i in identifiers}) > MAX_BATCH_GROUPS:
            raise runtime_error(f"BatchGetRecord takes at most {MAX_BATCH_GROUPS} feature groups.")
        records: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        for entry in identifiers:
            name = entry["FeatureGroupName"]
            try:
                group = self._group(name, now)
                if not group.online_enabled:
                    raise runtime_error(f"FeatureGroup {group.name} has no online store.")
            except ServiceError as error:
                errors.extend(
                    {
                        "FeatureGroupName": name,
                        "RecordIdentifierValueAsString": identifier,
                        "ErrorCode": error.code,
                        "ErrorMessage": error.message,
                    }
                    for identifier in entry["RecordIdentifiersValueAsString"]
                )
                continue
            data = self.data_for(group)
            for identifier in entry["RecordIdentifiersValueAsString"]:
                record = self._visible(data, identifier, now)
                if record is None:
                    continue  # C-044: a missing record is simply absent from Records
                result = self._projected(
                    group,
                    record,
                    entry.get("FeatureNames"),
                    request.get("ExpirationTimeResponse"),
                    now,
                )
                if result["Record"]:
                    records.append(
                        {"FeatureGroupName": name, "RecordIdentifierValueAsString": identifier}
                        | result
                    )
        return {"Records": records, "Errors": errors, "UnprocessedIdentifiers": []}

    # -- DeleteRecord -------------------------------------------------------------------

    def delete_record(self, request: dict[str, Any], now: float) -> dict[str, Any]:
        group = self._group(request["FeatureGroupName"], now)
        event_type = next(
            d["FeatureType"]
            for d in group.definitions
            if d["FeatureName"] == group.event_time_feature
        )
        event_time = parse_event_time(request["EventTime"], event_type)
        to_online, to_offline = self._stores(group, request.get("TargetStores"))
        hard = request.get("DeletionMode", "SoftDelete") == "HardDelete"
        identifier = request["RecordIdentifierValueAsString"]
        data = self.data_for(group)
        if to_online:
            current = self._visible(data, identifier, now, include_deleted=True)
            later = current is None or event_time > current.event_time
            if hard and not later:
                # C-102: a hard delete must be later than the online record; nothing is written.
                raise runtime_error(
                    f"The EventTime {request['EventTime']} of a HardDelete must be later than the "
                    "event time of the record in the online store."
                )
            if current is not None and later:
                if hard:
                    del data.online[identifier]
                else:
                    # C-101: soft delete keeps only the identifier and event time, hidden.
                    current.values = {
                        group.record_identifier: identifier,
                        group.event_time_feature: request["EventTime"],
                    }
                    current.event_time = event_time
                    current.deleted = True
        if to_offline:
            # C-102: the marker row has the identifier, the delete's event time, is_deleted.
            marker = {
                group.record_identifier: identifier,
                group.event_time_feature: request["EventTime"],
            }
            data.offline.append(OfflineRow(marker, event_time, now, is_deleted=True))
        return {}

    # -- BatchWriteRecord ---------------------------------------------------------------

    def batch_write_record(self, request: dict[str, Any], now: float) -> dict[str, Any]:
        """Each entry is a PutRecord of its own (C-164); a refused entry is reported with the
        entry exactly as sent (C-163) and changes nothing, the others are written (C-162)."""
        entries = request["Entries"]
        if not 1 <= len(entries) <= MAX_BATCH_WRITE_ENTRIES:
            raise runtime_error(
                f"BatchWriteRecord takes 1 to {MAX_BATCH_WRITE_ENTRIES} entries; got "
                f"{len(entries)}."
            )
        errors: list[dict[str, Any]] = []
        for entry in entries:
            put = {"FeatureGroupName": entry["FeatureGroupName"], "Record": entry["Record"]}
            if "TargetStores" in entry:
                put["TargetStores"] = entry["TargetStores"]
            try:
                group = self._exists(entry["FeatureGroupName"], now)
                # C-164: the entry's TtlDuration overrides the request's; the request's is a
                # default, so it passes over an entry whose group has no online store.
                if "TtlDuration" in entry:
                    put["TtlDuration"] = entry["TtlDuration"]
                elif "TtlDuration" in request and group.online_enabled:
                    put["TtlDuration"] = request["TtlDuration"]
                self.put_record(put, now)
            except ServiceError as error:
                errors.append(
                    {
                        "Entry": copy.deepcopy(entry),
                        "ErrorCode": error.code,
                        "ErrorMessage": error.message[:2048],
                    }
                )
        return {"Errors": errors, "UnprocessedEntries": []}

    def _exists(self, name_or_arn: str, now: float) -> FeatureGroup:
        """The group, or ResourceNotFound (404) for the operations that declare it."""
        self.control_plane.advance(now)
        try:
            group = self.control_plane.find(name_or_arn)
        except ServiceError:
            raise resource_not_found(
                f"Resource Not Found: Amazon SageMaker can't find a FeatureGroup with name "
                f"{name_or_arn}"
            ) from None
        if group.status(now) != "Created":
            raise resource_not_found(f"FeatureGroup {name_or_arn} is {group.status(now)}.")
        return group

    # -- ListRecords --------------------------------------------------------------------

    def list_records(self, request: dict[str, Any], now: float) -> dict[str, Any]:
        """The identifiers in the online store (C-167), in identifier order, a page at a time."""
        group = self._exists(request["FeatureGroupName"], now)
        if not group.online_enabled:
            raise runtime_error(f"FeatureGroup {group.name} has no online store to list.")
        include_deleted = bool(request.get("IncludeSoftDeletedRecords", False))
        data = self.data_for(group)
        identifiers = sorted(
            i for i in list(data.online) if self._visible(data, i, now, include_deleted)
        )
        query = {"group": group.arn, "created": group.created, "deleted": include_deleted}
        token = request.get("NextToken")
        after = decode_token(token, query, kind=str, invalid=_invalid_token) if token else None
        if after is not None:
            identifiers = [i for i in identifiers if i > after]
        limit = request.get("MaxResults", DEFAULT_LIST_RECORDS)
        page = identifiers[:limit]
        response: dict[str, Any] = {"RecordIdentifiers": page}
        if len(identifiers) > limit:
            response["NextToken"] = encode_token(page[-1], query)
        return response

    # -- UpdateRecord -------------------------------------------------------------------

    def update_record(self, request: dict[str, Any], now: float) -> dict[str, Any]:
        """A partial update of an existing online record (C-169, C-170); everything is
        checked before anything changes."""
        group = self._exists(request["FeatureGroupName"], now)
        storage = (group.online or {}).get("StorageType")
        if not group.online_enabled or storage not in PARTIAL_UPDATE_STORAGE:
            raise runtime_error(
                f"UpdateRecord needs an online store of StorageType Standard_V2 or InMemory; "
                f"FeatureGroup {group.name} has {storage or 'no online store'}."
            )
        if len(request["Features"]) > MAX_UPDATE_FEATURES:
            raise runtime_error(
                f"UpdateRecord takes at most {MAX_UPDATE_FEATURES} features; got "
                f"{len(request['Features'])}."
            )
        features = self._usable_features(group, now)
        changes = self._record_values(group, features, request["Features"], partial=True)
        identifier = request["RecordIdentifierValueAsString"]
        if changes.get(group.record_identifier, identifier) != identifier:
            raise runtime_error(
                "The record identifier in Features differs from RecordIdentifierValueAsString."
            )
        data = self.data_for(group)
        current = self._visible(data, identifier, now)
        if current is None:  # C-169: never creates a record; a soft-deleted one is gone
            raise resource_not_found(
                f"Record {identifier} does not exist in FeatureGroup {group.name}."
            )
        event_time = current.event_time
        if group.event_time_feature in changes:
            event_time = parse_event_time(
                changes[group.event_time_feature],
                features[group.event_time_feature]["FeatureType"],
            )
            if event_time < current.event_time:
                raise conflict(
                    f"The EventTime {changes[group.event_time_feature]} is older than the "
                    "record's; resubmit the request with an EventTime that is equal to or newer "
                    "than the current value."
                )
        ttl = current.ttl
        if "TtlDuration" in request:
            if group.event_time_feature not in changes:
                raise runtime_error("A TtlDuration needs the event-time feature in Features.")
            ttl = ttl_seconds(request["TtlDuration"])
        merged = {**current.values, **changes}
        size = sum(
            sum(len(i.encode()) for i in v) if isinstance(v, list) else len(v.encode())
            for v in merged.values()
        )
        if size > MAX_RECORD_BYTES:
            raise runtime_error("The updated record is larger than 350 KB.")
        to_online, to_offline = self._stores(group, request.get("TargetStores"))
        if to_online:
            current.values = merged
            current.event_time = event_time
            current.ttl = ttl
            current.expires_at = event_time + ttl if ttl is not None else None
            self._schedule(group, identifier, current)
        if to_offline:
            # C-171 (UNCERTAIN): the offline store receives the merged, full record, as a put.
            data.offline.append(OfflineRow(dict(merged), event_time, now, is_deleted=False))
        return {}


def _invalid_token() -> ServiceError:
    return runtime_error("The NextToken is not valid for this request.")
