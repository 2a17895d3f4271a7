"""The table formats with a layout of their own, loaded when a group first needs one.

``offline/iceberg.py`` registers the Iceberg writer in ``replication.TABLE_FORMAT_WRITERS``
when it is imported; importing it means importing pyiceberg, half a second of every process's
start (each pytest run, each spawned child). So it is imported only once some group of a state
is an Iceberg table, before that state's rows are written or its tables synced.
"""

from __future__ import annotations

from ..state import FeatureStoreState
from .glue_tables import is_iceberg


def load_writers(state: FeatureStoreState) -> bool:
    """Import the writers ``state``'s groups need (call with its lock); True if Iceberg's."""
    if not any(is_iceberg(group) for group in state.control_plane.groups()):
        return False
    from . import iceberg  # noqa: F401  (registers its writer on import)

    return True
