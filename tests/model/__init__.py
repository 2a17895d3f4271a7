"""Self-tests of the pure model (fsconformance.model): rules and state machines, no I/O."""
