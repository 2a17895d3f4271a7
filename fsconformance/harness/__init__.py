"""The pytest-facing pieces: the plugin, markers and capabilities, expectations, the report,
hypothesis strategies and the suite-power mutants. The user library lives one level up."""
