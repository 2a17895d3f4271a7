"""The testing library of the suites: hypothesis strategies drawn from the service model, and
the oracle that computes expected online and offline contents from the contract's rules."""
