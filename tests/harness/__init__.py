"""Self-tests of the pytest face and its tools: plugin, report, scoreboard, ledger, data."""
