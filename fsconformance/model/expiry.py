"""TTL expiry and the release of deleted groups' records, for the data plane (C-111, C-180).

The emulated clock calls these on its ticks, never a put or a read: a record whose
``ExpiresAt`` has passed is hard-deleted, with its marker row added to the offline store and
no read needed (C-180), and the records of groups that no longer exist are forgotten.
``records.DataPlane`` holds the state they work on.
"""

from __future__ import annotations

import heapq
from typing import Any


class Expiry:
    """What ``records.DataPlane`` does on the emulated clock's ticks."""

    control_plane: Any
    _data: dict[str, Any]  # group ARN -> the group's stores (records.GroupData)
    _expiries: list[tuple[float, int, str, float, str]]
    _settled_features: dict[str, Any]
    _deletions_seen: int  # ``control_plane.deletions_finished`` at the last release

    def _expiry_marker(self, arn: str, identifier: str, record: Any, now: float) -> Any:
        raise NotImplementedError

    def expire_due(self, now: float) -> int:
        """Hard-delete every online record whose ``ExpiresAt`` is not after ``now`` and add the
        deleted record to the offline store (C-180); the emulated clock calls this on every
        tick, so the offline row appears with no read of the record. Returns how many."""
        expired = 0
        while self._expiries and self._expiries[0][0] <= now:
            expires_at, _, arn, created, identifier = heapq.heappop(self._expiries)
            data = self._data.get(arn)
            if data is None or data.created != created:
                continue  # the group was deleted (and perhaps created again)
            current = data.online.get(identifier)
            if current is None or current.expires_at != expires_at:
                continue  # deleted, replaced or given a new TTL since
            del data.online[identifier]
            expired += 1
            marker = self._expiry_marker(arn, identifier, current, now)
            if marker is not None:
                data.offline.append(marker)
        return expired

    def release_deleted(self) -> list[tuple[str, float]]:
        """Forget the records of groups that no longer exist: the online ones at once, the
        rest once no offline row waits to be written (``offline`` empty). Returns the
        (ARN, creation time) of each group forgotten entirely.

        Called on every tick; it looks only when a deletion has finished since the last
        look, which any request may have done (a DescribeFeatureGroup that finds the group
        gone, C-189's ``wait_for_delete``), not only the tick itself."""
        finished = self.control_plane.deletions_finished
        if finished == self._deletions_seen:
            return []
        self._deletions_seen = finished
        live = {(g.arn, g.created) for g in self.control_plane.groups()}
        released = []
        for arn, data in list(self._data.items()):
            if (arn, data.created) in live:
                continue
            data.online.clear()
            self._settled_features.pop(arn, None)
            if not data.offline:
                del self._data[arn]
                released.append((arn, data.created))
        return released
