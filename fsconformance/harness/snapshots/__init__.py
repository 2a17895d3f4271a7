"""Snapshots of real responses: recorded once on the aws backend, replayed everywhere.

* ``normalise``: the one transformer that turns volatile values into placeholders.
* ``record``: botocore event handlers that capture each test's requests and responses.
* ``compare``: the shape comparison of a replay against a recording.
* ``ledger``: the contract's UNCERTAIN clauses, the tests touching them, what was observed.
* ``plugin``: the pytest options ``--record-snapshots`` and ``--compare-snapshots``.
"""

FORMAT = 1  # bump when the file layout changes; older directories are refused, never guessed
