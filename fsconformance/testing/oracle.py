"""The contract's reference model of one feature group's records: what the online and offline
stores must hold after a sequence of PutRecord and DeleteRecord calls.

It is written from the text of docs/contract.md alone (each rule names its clause) and
imports nothing from ``fsconformance.model``: the emulation serves that model, so a test that
took its expectation from it would compare a backend with itself. Tests feed the oracle the
calls they make and compare what the backend answers with what the oracle says, never the
other way round.

Event times are given as epoch seconds; :func:`epoch_of` reads the two documented forms
(C-023) for callers that hold the wire strings.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

ONLINE, OFFLINE = "OnlineStore", "OfflineStore"
SOFT, HARD = "SoftDelete", "HardDelete"  # C-100: SoftDelete when no mode is sent

# C-023: the two String forms, UTC with a literal Z.
_ISO_FORMS = ("%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S.%fZ")
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


def epoch_of(value: str, feature_type: str) -> float:
    """The epoch seconds of an event-time string of ``feature_type`` (C-023)."""
    if feature_type == "Fractional":
        return float(value)
    for form in _ISO_FORMS:
        try:
            moment = dt.datetime.strptime(value, form).replace(tzinfo=dt.timezone.utc)
        except ValueError:
            continue
        return (moment - _EPOCH).total_seconds()
    raise ValueError(f"{value!r} is in neither event-time form of C-023")


@dataclass
class OnlineVersion:
    """The one version the online store keeps per identifier (C-045)."""

    event_time: float
    values: dict[str, str]
    deleted: bool = False  # C-101: a soft-deleted record is kept but no longer returned


@dataclass(frozen=True)
class OfflineRow:
    """One appended offline row (C-067): a put, or a delete's marker (C-102)."""

    identifier: str
    event_time: float
    values: Mapping[str, str]
    is_deleted: bool = False  # C-065


@dataclass
class Oracle:
    """One feature group's stores, by the contract. ``online``/``offline`` say which stores
    the group has (C-014); a put goes to every one of them unless ``stores`` narrows it."""

    has_online: bool = True
    has_offline: bool = True
    online: dict[str, OnlineVersion] = field(default_factory=dict)
    offline: list[OfflineRow] = field(default_factory=list)

    # -- the calls ----------------------------------------------------------------------

    def put(
        self,
        identifier: str,
        values: Mapping[str, str],
        event_time: float,
        stores: Iterable[str] | None = None,
    ) -> None:
        """An accepted PutRecord of the whole record ``values``."""
        targets = self._targets(stores)  # C-036
        if ONLINE in targets:
            current = self.online.get(identifier)
            # C-035: an older event time leaves the online record alone ("historic"); an
            # equal or newer one replaces it whole (C-031: no merge). After a hard delete
            # nothing is left to compete with, so a historic put is written again (C-103).
            if current is None or event_time >= current.event_time:
                self.online[identifier] = OnlineVersion(event_time, dict(values))
        if OFFLINE in targets:
            # C-067: every offline put is a new row, whatever its event time.
            self.offline.append(OfflineRow(identifier, event_time, dict(values)))

    def delete_allowed(self, identifier: str, event_time: float, mode: str = SOFT) -> bool:
        """Whether the contract lets this DeleteRecord succeed (C-102): a HardDelete whose
        event time is not later than the current online record's is refused with a 400."""
        current = self.online.get(identifier)
        return mode != HARD or current is None or event_time > current.event_time

    def delete(self, identifier: str, event_time: float, mode: str = SOFT) -> bool:
        """Apply a DeleteRecord; returns False (and changes nothing) when it must be refused."""
        if not self.delete_allowed(identifier, event_time, mode):
            return False  # C-102: refused, and no marker written
        current = self.online.get(identifier)
        if current is not None and event_time > current.event_time:
            if mode == HARD:
                del self.online[identifier]  # C-101: gone from the online store
            else:
                # C-101: the values are nulled, the identifier and event time remain.
                self.online[identifier] = OnlineVersion(event_time, {}, deleted=True)
        # C-102: a SoftDelete not later than the record leaves it online, yet every
        # successful delete appends a marker row with NULL for the other features.
        if self.has_offline:
            self.offline.append(OfflineRow(identifier, event_time, {}, is_deleted=True))
        return True

    # -- what the stores must hold ------------------------------------------------------

    def get(self, identifier: str) -> dict[str, str] | None:
        """What GetRecord returns: no Record for a missing or deleted one (C-040, C-101), else
        exactly the features that were put (C-041, C-042, C-053: nothing backfilled)."""
        version = self.online.get(identifier)
        return None if version is None or version.deleted else dict(version.values)

    def visible(self) -> dict[str, dict[str, str]]:
        """Every identifier GetRecord/BatchGetRecord finds, with its record (C-044, C-045)."""
        return {k: v.values for k, v in self.online.items() if not v.deleted}

    @property
    def offline_rows(self) -> int:
        return len(self.offline)

    @property
    def markers(self) -> int:
        return sum(row.is_deleted for row in self.offline)

    def offline_rows_per_identifier(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for row in self.offline:
            counts[row.identifier] = counts.get(row.identifier, 0) + 1
        return counts

    def latest_offline(self) -> dict[str, OfflineRow]:
        """The documented latest-snapshot query without deleted records (C-093 1 and 2): per
        identifier the row with the latest event time, the later call among equal ones
        (api_invocation_time DESC), dropped when that row is a delete marker."""
        latest: dict[str, OfflineRow] = {}
        for row in self.offline:  # in call order, so ">=" keeps the later call on a tie
            kept = latest.get(row.identifier)
            if kept is None or row.event_time >= kept.event_time:
                latest[row.identifier] = row
        return {k: row for k, row in latest.items() if not row.is_deleted}

    def _targets(self, stores: Iterable[str] | None) -> set[str]:
        present = {s for s, on in ((ONLINE, self.has_online), (OFFLINE, self.has_offline)) if on}
        return present if stores is None else present & set(stores)
