"""``python -m fsconformance``: the same command line as the ``fsconformance`` script."""

from .cli import main

raise SystemExit(main())
