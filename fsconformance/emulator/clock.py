"""The emulated clock: what is due happens on the next request, in every account and region.

Finished creations and updates take effect (C-010, C-054), the Glue tables follow the groups
(C-080), expired records leave the online store for the offline one (C-180), and offline
rows past their lag reach S3 (C-060). ``flush_all`` is the explicit
"write everything now" that the mock's stop, the server's shutdown and users call.
"""

from __future__ import annotations

import time

from . import moto_seam
from .offline import flush
from .state import FeatureStoreState, all_states


def tick(now: float | None = None) -> None:
    """The emulator's clock: apply what is due in every account and region (every request),
    then let moto forget the objects deleted meanwhile (amortised, see ``moto_seam``), so
    memory is given back."""
    now = time.time() if now is None else now
    for state in all_states():
        _apply(state, now, force=False)
    moto_seam.release_forgotten_models()


def flush_now(state: FeatureStoreState, now: float | None = None) -> int:
    """Write every accepted row of ``state`` and bring its tables up to date (the explicit
    flush); the number of rows written."""
    return _apply(state, time.time() if now is None else now, force=True)


def flush_all(now: float | None = None) -> int:
    """Write every accepted row now, in every account and region (on stop).

    The states are flushed one after another, never holding two locks at once.
    """
    return sum(flush_now(state, now) for state in all_states())


def _apply(state: FeatureStoreState, now: float, *, force: bool) -> int:
    """What is due at ``now`` in one state, in order: the rows of groups being deleted are
    written first, as the groups are about to go away; then finished creations and updates
    take effect, expired records leave the online store for the offline one (C-180), the
    deleted groups' records are given back, the tables follow the groups (C-054, C-080), and
    the due rows (every row, with ``force``) reach S3 (C-060). Returns the rows written."""
    with state.lock:
        deleting = [g for g in state.control_plane.groups() if g.deleted_at is not None]
        written = flush.flush_state(state, now, force=True, groups=deleting) if deleting else 0
        state.control_plane.advance(now)
        state.data_plane.expire_due(now)
        # Not only when this tick finished a deletion: a SageMaker request finishes it as
        # often (the describe that polls for it), and skips the tick (``routing``).
        flush.release_deleted(state)
        flush.sync_tables(state)
        return written + flush.flush_state(state, now, force=force)
