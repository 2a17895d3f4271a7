"""System tests, all marked slow: servers in child processes, browsers, real clients,
worker pools, the soak, crash rounds and suite power (pytest tests -m slow)."""
